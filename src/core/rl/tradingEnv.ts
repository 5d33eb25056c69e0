/**
 * TradingEnv (seed IV) with Gymnasium's API: reset({seed, options}) → {obs, info};
 * step(action) → {obs, reward, terminated, truncated, info}; observationSpace / actionSpace are Box.
 * One asset (BTC spot, `btcPrices`), one continuous action: the target exposure.
 *
 * The features never depend on the agent, so the raw feature matrix [n, D] is computed once
 * (FeatureEngine) and the environment only normalises, stacks and does the accounting: a step is
 * O(D) work (one normalised row into the window) plus one window copy into the observation, and
 * stepInto() allocates nothing.
 *
 * Semantics (issue 10 item 5; every number below is a config key, EnvConfig):
 *   reset:  cash = initialCapital (10 000), units = 0, t = start, where start is options.start or
 *           drawn uniformly from the span's starts [first, last − 1] with the env's Rng stream
 *           (reset({seed}) re-seeds it; a reset without a seed continues it, as in Gymnasium).
 *           first = max(span.start, features.warmup): episodes and normalisation begin where every
 *           feature is defined; last = span.end − 1 (span.end is exclusive). The window is emptied
 *           and the start row pushed (its statistics updated unless the StateBuilder is frozen).
 *   step(a): a is clipped to [−1, 1] (NaN is an error); with p_t = btcPrices[t] and
 *           equity_t = cash + units·p_t:
 *             units'  = a·maxLeverage·equity_t / p_t
 *             cost    = (transactionCost + slippageBps·1e-4)·|units' − units|·p_t
 *             cash   −= (units' − units)·p_t + cost
 *             t → t + 1
 *             funding (if enabled and btcFunding[t+1] ≠ 0): cash −= units'·p_{t+1}·btcFunding[t+1]
 *             equity_{t+1} = cash + units'·p_{t+1}
 *           reward: "simple" (Δequity / initialCapital, the seed's) or "risk" (RewardEngine).
 *   terminated when equity_{t+1} ≤ ruinFraction·initialCapital (ruin: no bootstrap);
 *   truncated when not terminated and t+1 = last (the span's last step) or the episode has made
 *           maxEpisodeSteps steps (time limit: bootstrap from the final obs). At most one is true.
 *   obs   = [ StateBuilder window of feature rows t+1−window+1 … t+1, normalised, oldest → newest,
 *             flattened (window·D) | exposure units'·p_{t+1}/equity_{t+1} ], float32, length
 *             window·D + 1: the agent sees what it holds, so it can tell what a change will cost.
 *   info  = { equity, units, cash, cost, exposure, drawdown, funding, t }, all after the step;
 *           t is the step the obs belongs to (t+1 after a step, start after reset); drawdown is
 *           equity/peak − 1 with peak the running maximum since reset (initial capital included).
 * After a terminated or truncated step the episode is over: step() throws until reset().
 *
 * Trading at p_t on the obs built from row t is not look-ahead: row t uses data up to and
 * including step t (bar close), and the trade fills at that close.
 */
import { InputError } from '../errors.ts';
import { Rng } from '../math/rng.ts';
import { StateBuilder, type StateBuffer } from '../features/stateBuilder.ts';
import type { MarketData } from '../market/marketData.ts';
import { Box } from './spaces.ts';
import { effectiveRewardConfig, resolveEnvConfig, type EnvConfig, type EnvConfigInput } from './envConfig.ts';
import { RewardEngine, simpleReward, type RewardConfig } from './rewardEngine.ts';

/** What the env reads of a FeatureMatrix (C4): row-major [n × d], NaN before `warmup`. */
export interface FeatureRows {
  n: number;
  d: number;
  values: Float64Array;
  warmup: number;
  names?: string[];
}

/** What the env reads of a market. */
export type EnvMarket = Pick<MarketData, 'btcPrices' | 'btcFunding' | 'dtYears'>;

/** A range of steps [start, end): end is exclusive, so the last step is end − 1. */
export interface Span {
  start: number;
  end: number;
}

export interface StepInfo {
  equity: number;
  units: number;
  cash: number;
  /** Fee + slippage paid on this step's trade. */
  cost: number;
  /** units·p / equity after the step. */
  exposure: number;
  /** equity / running peak − 1 (≤ 0). */
  drawdown: number;
  /** Funding paid on this step (negative: received). */
  funding: number;
  /** The step the observation belongs to. */
  t: number;
}

export interface StepResult {
  obs: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface ResetArgs {
  seed?: number;
  options?: { start?: number };
}

export interface TradingEnvOptions {
  /** Steps the episodes may use (default: the whole market); clipped below at the warmup. */
  span?: Span;
  /** Seed of the start-step stream until reset({seed}) re-seeds it (default 0). */
  seed?: number;
  /** Share one StateBuilder (its statistics) between environments; default: a new one. */
  stateBuilder?: StateBuilder;
}

/** Named Rng stream ids (src/core/math/rng.ts habit). */
const STREAM = { episodeStart: 1 } as const;

function emptyInfo(): StepInfo {
  return { equity: 0, units: 0, cash: 0, cost: 0, exposure: 0, drawdown: 0, funding: 0, t: 0 };
}

export class TradingEnv {
  readonly config: EnvConfig;
  /** The RewardEngine's per-step numbers (after the preset), when reward is "risk". */
  readonly rewardConfig: RewardConfig;
  readonly observationSpace: Box;
  readonly actionSpace: Box;
  readonly obsDim: number;
  readonly stateBuilder: StateBuilder;
  /** First and last step an episode may occupy (inclusive). */
  readonly first: number;
  readonly last: number;

  // Episode state (public for reading; mutate through reset/step only).
  t = 0;
  start = 0;
  cash = 0;
  units = 0;
  equity = 0;
  peak = 0;
  cost = 0;
  fundingPaid = 0;
  exposure = 0;
  drawdown = 0;
  /** Steps taken in this episode. */
  steps = 0;
  terminated = false;
  truncated = false;

  private readonly prices: Float64Array;
  private readonly funding: Float64Array;
  private readonly values: Float64Array;
  private readonly d: number;
  private readonly buffer: StateBuffer;
  private readonly reward: RewardEngine | null;
  private readonly feeRate: number;
  private readonly ruinEquity: number;
  private readonly maxSteps: number;
  private rng: Rng;
  private active = false;

  constructor(market: EnvMarket, features: FeatureRows, config: EnvConfigInput = {}, opts: TradingEnvOptions = {}) {
    this.config = resolveEnvConfig(config);
    const cfg = this.config;
    const n = market.btcPrices.length;
    if (features.n !== n) throw new InputError(`feature matrix has ${features.n} rows but the market has ${n} steps`, 'features');
    if (features.values.length !== features.n * features.d) throw new InputError(`values has ${features.values.length} numbers, expected n·d = ${features.n * features.d}`, 'features');
    if (market.btcFunding.length !== n) throw new InputError(`has ${market.btcFunding.length} steps, expected ${n}`, 'market: btc_funding');
    const span = opts.span ?? { start: 0, end: n };
    if (!Number.isInteger(span.start) || !Number.isInteger(span.end) || span.start < 0 || span.end > n || span.start >= span.end) {
      throw new InputError(`must be whole steps with 0 ≤ start < end ≤ ${n}, got [${span.start}, ${span.end})`, 'span');
    }
    this.first = Math.max(span.start, features.warmup);
    this.last = span.end - 1;
    if (this.last - this.first < 1) {
      throw new InputError(`[${span.start}, ${span.end}) leaves no step to take after the feature warmup (${features.warmup})`, 'span');
    }
    this.prices = market.btcPrices;
    this.funding = market.btcFunding;
    this.values = features.values;
    this.d = features.d;
    // The accounting divides by prices and the normaliser would turn one NaN into NaN statistics
    // for ever: check the span once here rather than every step.
    for (let t = this.first; t <= this.last; t++) {
      const p = this.prices[t]!;
      if (!(p > 0) || !Number.isFinite(p)) throw new InputError(`step ${t}: price must be finite and > 0, got ${p}`, 'market: btc_prices');
      if (cfg.funding && !Number.isFinite(this.funding[t]!)) throw new InputError(`step ${t}: funding is not finite`, 'market: btc_funding');
      for (let j = 0; j < this.d; j++) {
        const v = this.values[t * this.d + j]!;
        if (!Number.isFinite(v)) {
          const name = features.names?.[j] ?? `feature ${j}`;
          throw new InputError(`step ${t} (≥ warmup ${features.warmup}): ${name} is ${v}`, 'features');
        }
      }
    }

    this.stateBuilder = opts.stateBuilder ?? new StateBuilder(this.d, { window: cfg.window, clipValue: cfg.clipValue });
    if (this.stateBuilder.dim !== this.d) throw new InputError(`has ${this.stateBuilder.dim} features, the feature matrix ${this.d}`, 'stateBuilder');
    this.buffer = this.stateBuilder.newBuffer();
    const stateSize = this.stateBuilder.stateSize;
    this.obsDim = stateSize + 1;
    const clip = this.stateBuilder.normalizer.clipValue;
    const low = new Float32Array(this.obsDim).fill(-clip);
    const high = new Float32Array(this.obsDim).fill(clip);
    // Exposure drifts past ±maxLeverage as prices move (a short losing towards ruin reaches ~−19
    // at maxLeverage 1): it is not bounded, and the space says so.
    low[stateSize] = -Infinity;
    high[stateSize] = Infinity;
    this.observationSpace = new Box(low, high, [this.obsDim]);
    this.actionSpace = new Box(-1, 1, [1]);

    this.rewardConfig = effectiveRewardConfig(cfg, market.dtYears);
    this.reward = cfg.reward === 'risk' ? new RewardEngine(this.rewardConfig, cfg.initialCapital) : null;
    this.feeRate = cfg.transactionCost + cfg.slippageBps * 1e-4;
    this.ruinEquity = cfg.ruinFraction * cfg.initialCapital;
    this.maxSteps = cfg.maxEpisodeSteps ?? Number.POSITIVE_INFINITY;
    this.rng = Rng.stream(opts.seed ?? 0, STREAM.episodeStart);
  }

  /** Feature dimension D. */
  get featureDim(): number {
    return this.d;
  }

  /** Gymnasium reset: a fresh obs array and info object. */
  reset(args: ResetArgs = {}): { obs: Float32Array; info: StepInfo } {
    if (args.seed !== undefined) this.seed(args.seed);
    const obs = new Float32Array(this.obsDim);
    this.resetInto(args.options?.start, obs, 0);
    return { obs, info: this.writeInfo(emptyInfo()) };
  }

  /** Re-seeds the start-step stream. */
  seed(seed: number): void {
    this.rng = Rng.stream(seed, STREAM.episodeStart);
  }

  /** Allocation-free reset: writes the first obs at obs[offset …]. */
  resetInto(start: number | undefined, obs: Float32Array, offset: number): void {
    let s: number;
    if (start === undefined) {
      s = this.first + this.rng.int(this.last - this.first);
    } else {
      if (!Number.isInteger(start) || start < this.first || start > this.last - 1) {
        throw new InputError(`must be a whole step in [${this.first}, ${this.last - 1}] (after the warmup, before the span's last step), got ${start}`, 'options.start');
      }
      s = start;
    }
    const cap = this.config.initialCapital;
    this.start = s;
    this.t = s;
    this.cash = cap;
    this.units = 0;
    this.equity = cap;
    this.peak = cap;
    this.cost = 0;
    this.fundingPaid = 0;
    this.exposure = 0;
    this.drawdown = 0;
    this.steps = 0;
    this.terminated = false;
    this.truncated = false;
    this.reward?.reset(cap);
    this.buffer.reset();
    this.active = true;
    this.writeObs(obs, offset);
  }

  /** Gymnasium step: a fresh obs array and info object (stepInto is the allocation-free form). */
  step(action: number | ArrayLike<number>): StepResult {
    const a = typeof action === 'number' ? action : action[0]!;
    const obs = new Float32Array(this.obsDim);
    const reward = this.stepInto(a, obs, 0);
    return { obs, reward, terminated: this.terminated, truncated: this.truncated, info: this.writeInfo(emptyInfo()) };
  }

  /** Allocation-free step: writes the next obs at obs[offset …], returns the reward; flags in this.terminated / this.truncated. */
  stepInto(action: number, obs: Float32Array, offset: number): number {
    if (!this.active) throw new Error('TradingEnv: the episode has ended (or never started): call reset()');
    if (Number.isNaN(action)) throw new InputError('is NaN', 'action');
    const a = action > 1 ? 1 : action < -1 ? -1 : action;
    const t = this.t;
    const p = this.prices[t]!;
    const equityPrev = this.cash + this.units * p;
    const unitsPrev = this.units;
    const unitsNew = (a * this.config.maxLeverage * equityPrev) / p;
    const dUnits = unitsNew - unitsPrev;
    const cost = this.feeRate * Math.abs(dUnits) * p;
    let cash = this.cash - dUnits * p - cost;
    const t1 = t + 1;
    const p1 = this.prices[t1]!;
    let fundingPaid = 0;
    if (this.config.funding) {
      const f = this.funding[t1]!;
      if (f !== 0) {
        fundingPaid = unitsNew * p1 * f;
        cash -= fundingPaid;
      }
    }
    const equity = cash + unitsNew * p1;
    this.t = t1;
    this.cash = cash;
    this.units = unitsNew;
    this.equity = equity;
    this.cost = cost;
    this.fundingPaid = fundingPaid;
    this.exposure = equity !== 0 ? (unitsNew * p1) / equity : 0;
    if (equity > this.peak) this.peak = equity;
    this.drawdown = equity / this.peak - 1;
    this.steps++;

    const reward = this.reward
      ? this.reward.computeReward(equityPrev, equity, unitsPrev, unitsNew, p, p1)
      : simpleReward(equityPrev, equity, this.config.initialCapital);
    this.terminated = equity <= this.ruinEquity;
    this.truncated = !this.terminated && (t1 >= this.last || this.steps >= this.maxSteps);
    if (this.terminated || this.truncated) this.active = false;
    this.writeObs(obs, offset);
    return reward;
  }

  /** The RewardEngine's terms of the last step (risk reward only). */
  get rewardTerms(): RewardEngine['terms'] | null {
    return this.reward ? this.reward.terms : null;
  }

  /** Copies the current accounting into `into` (no allocation) and returns it. */
  writeInfo(into: StepInfo): StepInfo {
    into.equity = this.equity;
    into.units = this.units;
    into.cash = this.cash;
    into.cost = this.cost;
    into.exposure = this.exposure;
    into.drawdown = this.drawdown;
    into.funding = this.fundingPaid;
    into.t = this.t;
    return into;
  }

  private writeObs(obs: Float32Array, offset: number): void {
    this.stateBuilder.pushRow(this.buffer, this.values, this.t * this.d);
    this.buffer.getState(obs, offset);
    obs[offset + this.obsDim - 1] = this.exposure;
  }
}
