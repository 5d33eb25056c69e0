/**
 * VecTradingEnv (contract C5): N TradingEnvs stepped together for fast rollouts, with one batched
 * float32 observation array [numEnvs × obsDim] (row i = env i) so a policy runs once per step.
 *
 *   Seeds      env i's start stream is seeded with seed + i (Gymnasium's vector rule), so every
 *              env begins at its own random step of the span and a seed reproduces all of them.
 *   Statistics one StateBuilder shared by all envs (one Normalizer: every env's rows update the
 *              same RunningStats, in env order 0 … N−1 each step, so the result is deterministic);
 *              each env keeps its own StateBuffer (window). The shared builder is what the agent
 *              checkpoint serialises.
 *   Autoreset  SAME-STEP, as Stable-Baselines3's VecEnv (not Gymnasium 1.x's default next-step
 *              mode, which spends one step returning a reset obs with reward 0 that the
 *              learner must mask out): when env i terminates or truncates during step(), the
 *              returned rewards[i] / terminated[i] / truncated[i] / infos[i] are those of the final
 *              step, finalObs[i] is the true last observation (for bootstrapping a truncation),
 *              episodes lists {envIndex, return, length, finalEquity}, and obs row i is ALREADY the
 *              first observation of env i's next episode (a fresh random start). Envs that did not
 *              end have finalObs[i] = null.
 *   Copies     by default (copy: true) every step returns fresh arrays, safe to keep; with
 *              copy: false obs, rewards, flags, infos and the episodes list are the vec env's own
 *              buffers, overwritten by the next step (copy what you keep): no allocation per step
 *              except a finalObs copy when an episode ends.
 */
import type { StateBuilder } from '../features/stateBuilder.ts';
import type { MarketData } from '../market/marketData.ts';
import { TradingEnv, type EnvMarket, type FeatureRows, type Span, type StepInfo } from './tradingEnv.ts';
import type { EnvConfigInput } from './envConfig.ts';
import type { Box } from './spaces.ts';

export interface VecEnvOptions {
  numEnvs: number;
  /** Steps the episodes may use ([start, end), end exclusive; clipped below at the warmup). */
  span: Span;
  seed: number;
  /** Share statistics with another env set (e.g. continue training); default: a new one. */
  stateBuilder?: StateBuilder;
  /** Fresh result arrays every step (default true); false: reused buffers (see the header). */
  copy?: boolean;
}

export interface EpisodeEnd {
  envIndex: number;
  /** Sum of the episode's rewards. */
  return: number;
  length: number;
  finalEquity: number;
  terminated: boolean;
}

export interface VecStepResult {
  obs: Float32Array;
  rewards: Float64Array;
  terminated: Uint8Array;
  truncated: Uint8Array;
  finalObs: (Float32Array | null)[];
  infos: StepInfo[];
  episodes: EpisodeEnd[];
}

function blankInfo(): StepInfo {
  return { equity: 0, units: 0, cash: 0, cost: 0, exposure: 0, drawdown: 0, funding: 0, t: 0 };
}

export class VecTradingEnv {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly envs: TradingEnv[];
  readonly stateBuilder: StateBuilder;
  /** Spaces of ONE env (the batch is numEnvs rows of these). */
  readonly observationSpace: Box;
  readonly actionSpace: Box;

  private readonly copy: boolean;
  private readonly obs: Float32Array;
  private readonly rewards: Float64Array;
  private readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly infos: StepInfo[];
  private readonly finalObs: (Float32Array | null)[];
  private readonly episodes: EpisodeEnd[] = [];
  private readonly returns: Float64Array;
  private readonly seed: number;
  private seeded = false;
  private started = false;

  constructor(market: MarketData | EnvMarket, features: FeatureRows, config: EnvConfigInput, opts: VecEnvOptions) {
    if (!Number.isInteger(opts.numEnvs) || opts.numEnvs < 1) throw new Error(`VecTradingEnv: numEnvs must be a positive integer, got ${opts.numEnvs}`);
    this.numEnvs = opts.numEnvs;
    this.seed = opts.seed;
    this.copy = opts.copy ?? true;
    const first = new TradingEnv(market, features, config, { span: opts.span, seed: opts.seed, stateBuilder: opts.stateBuilder });
    this.stateBuilder = first.stateBuilder;
    this.envs = [first];
    for (let i = 1; i < this.numEnvs; i++) {
      this.envs.push(new TradingEnv(market, features, config, { span: opts.span, seed: opts.seed + i, stateBuilder: this.stateBuilder }));
    }
    this.obsDim = first.obsDim;
    this.observationSpace = first.observationSpace;
    this.actionSpace = first.actionSpace;
    this.obs = new Float32Array(this.numEnvs * this.obsDim);
    this.rewards = new Float64Array(this.numEnvs);
    this.terminated = new Uint8Array(this.numEnvs);
    this.truncated = new Uint8Array(this.numEnvs);
    this.infos = Array.from({ length: this.numEnvs }, blankInfo);
    this.finalObs = new Array(this.numEnvs).fill(null);
    this.returns = new Float64Array(this.numEnvs);
  }

  /**
   * Resets every env. The first call (or one with a seed) seeds env i with seed + i; later calls
   * continue each env's stream. Returns the batched first observation.
   */
  reset(seed?: number): Float32Array {
    if (seed !== undefined || !this.seeded) {
      const s = seed ?? this.seed;
      this.envs.forEach((e, i) => e.seed(s + i));
      this.seeded = true;
    }
    for (let i = 0; i < this.numEnvs; i++) {
      this.envs[i]!.resetInto(undefined, this.obs, i * this.obsDim);
      this.envs[i]!.writeInfo(this.infos[i]!);
      this.returns[i] = 0;
    }
    this.started = true;
    return this.copy ? this.obs.slice() : this.obs;
  }

  /** One step of every env: actions[i] is env i's action (clipped to [−1, 1] by the env). */
  step(actions: ArrayLike<number>): VecStepResult {
    if (!this.started) throw new Error('VecTradingEnv: call reset() before step()');
    if (actions.length !== this.numEnvs) throw new Error(`VecTradingEnv.step: ${actions.length} actions for ${this.numEnvs} envs`);
    const dim = this.obsDim;
    this.episodes.length = 0;
    for (let i = 0; i < this.numEnvs; i++) {
      const env = this.envs[i]!;
      const off = i * dim;
      const r = env.stepInto(actions[i]!, this.obs, off);
      this.rewards[i] = r;
      this.returns[i] = this.returns[i]! + r;
      this.terminated[i] = env.terminated ? 1 : 0;
      this.truncated[i] = env.truncated ? 1 : 0;
      env.writeInfo(this.infos[i]!);
      if (env.terminated || env.truncated) {
        this.finalObs[i] = this.obs.slice(off, off + dim);
        this.episodes.push({ envIndex: i, return: this.returns[i]!, length: env.steps, finalEquity: env.equity, terminated: env.terminated });
        this.returns[i] = 0;
        env.resetInto(undefined, this.obs, off);
      } else {
        this.finalObs[i] = null;
      }
    }
    if (!this.copy) {
      return { obs: this.obs, rewards: this.rewards, terminated: this.terminated, truncated: this.truncated, finalObs: this.finalObs, infos: this.infos, episodes: this.episodes };
    }
    return {
      obs: this.obs.slice(),
      rewards: this.rewards.slice(),
      terminated: this.terminated.slice(),
      truncated: this.truncated.slice(),
      finalObs: [...this.finalObs],
      infos: this.infos.map((x) => ({ ...x })),
      episodes: [...this.episodes],
    };
  }
}
