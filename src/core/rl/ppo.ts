/**
 * trainPpo — the original design's PPO training loop (VII, V.5–V.8), laid out like CleanRL's
 * ppo_continuous_action.py so it reads top to bottom in the order it runs:
 *
 *   for each iteration:  anneal lr → rollout (N envs × rolloutLen/N steps, batched CPU policy) →
 *   bootstrap V(s_T) → GAE (truncations bootstrap from their final observation) → flatten →
 *   `epochs` × shuffled minibatches: clipped surrogate + (clipped) value loss − entropy bonus,
 *   per-minibatch advantage normalisation, GLOBAL grad-norm clip, Adam → diagnostics.
 *
 * Diagnostics per iteration are CleanRL's: policy loss, value loss, entropy, approx KL
 * ((ratio − 1) − log ratio, Schulman's low-variance estimator) and the old −log ratio, clip
 * fraction, explained variance, learning rate, steps/s, plus mean episode return and equity.
 * Losses and KL are those of the LAST minibatch of the update (as CleanRL logs them); clip
 * fraction is averaged over every minibatch.
 *
 * tfjs has no global-norm clipping (tf.train optimisers clip per value at most) and its Adam keeps
 * its moments out of reach of a checkpoint, so ClippedAdam below does both over one flat vector of
 * every parameter — PyTorch's clip_grad_norm_ (coef = max/(‖g‖ + 1e-6), capped at 1) then
 * torch.optim.Adam's update, in ~25 kernels per step instead of ~10 per variable. With
 * updateOn 'cpu' (the default) the same loss, gradients and Adam run as hand-written float64 code
 * (CpuPpoUpdater): no kernel dispatch, the same numbers to float32 rounding (tested).
 *
 * Determinism: the weights from Rng.stream(seed, AGENT_STREAM.init…), the exploration noise of
 * iteration k from Rng.stream(seed, AGENT_STREAM.noise + k), its minibatch order from
 * Rng.stream(seed, PPO_STREAM.shuffle + k), the environments from their own seed: same seed →
 * same run. Resume restores weights, Adam moments, iteration, history and the environments' state
 * where the env can serialise it (VecEnvLike.getState); otherwise the envs restart their episodes.
 *
 * Cancel / pause: the loop yields to the event loop whenever ~20 ms have passed (an abort lands
 * within one minibatch or one rollout chunk, ≪ 50 ms) and waits at the PauseGate between
 * minibatches.
 */
import * as tf from '@tensorflow/tfjs';
import { throwIfAborted, withEta, yieldToEventLoop, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import type { PauseGate } from '../inverse/pauseGate.ts';
import type { Store } from '../store/store.ts';
import { computeGae } from './gae.ts';
import { AGENT_STREAM, PPOAgent, mlpForward32, parameterShapes, type LayerAt } from './ppoAgent.ts';
import { GemmWorkspace } from '../math/simdGemm.ts';
import { AdamBuffers } from '../math/simdAdam.ts';
import { DEFAULT_TRAIN_FRACTION, resolvePpoConfig, type PPOConfig } from './ppoConfig.ts';
import { InputError } from '../errors.ts';
import type { JsonValue } from '../io/bundle.ts';
import type { MarketData } from '../market/marketData.ts';
import type { FeatureMatrix } from '../features/featureEngine.ts';
import { StateBuilder } from '../features/stateBuilder.ts';
import { resolveEnvConfig, type EnvConfig, type EnvConfigInput } from './envConfig.ts';
import { VecTradingEnv } from './vecEnv.ts';
import { decodeAgentCheckpoint, encodeAgentCheckpoint, type AgentCheckpoint } from './agentCheckpoint.ts';
import { marketAndFeatures, splitStep, type FeatureInputs, type MarketSpec } from './backtest.ts';

export const PPO_STREAM = { shuffle: 0x5100 } as const;

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** What the trainer needs of an environment (VecTradingEnv satisfies it). */
export interface VecEnvLike {
  readonly numEnvs: number;
  readonly obsDim: number;
  reset(): Float32Array;
  step(actions: Float32Array): {
    obs: Float32Array;
    rewards: ArrayLike<number>;
    terminated: ArrayLike<number>;
    truncated: ArrayLike<number>;
    finalObs: (Float32Array | null)[];
    infos?: { equity?: number }[];
    episodes: { envIndex: number; return: number; length: number; finalEquity: number }[];
  };
  /** Optional: the environments' full state (positions, windows, statistics) for an exact resume. */
  getState?(): unknown;
  /** Optional: restore getState's value; returns the current observations. */
  setState?(s: unknown): Float32Array;
}

/** Where metrics go besides the UI (an ActiveRun of src/core/tracking satisfies it). */
export interface MetricsSink {
  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void;
}

export interface IterationDiagnostics {
  iteration: number;
  iterations: number;
  globalStep: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  oldApproxKl: number;
  clipFrac: number;
  /** 1 − Var(returns − values)/Var(returns) over the rollout; null when the returns do not vary. */
  explainedVariance: number | null;
  lr: number;
  /** Global gradient norm of the last minibatch, before clipping. */
  gradNorm: number;
  /** Epochs actually run (fewer when targetKl stopped the update). */
  epochsRun: number;
  /** Environment steps per second over this iteration (rollout + update). */
  stepsPerSec: number;
  /** Rollout alone. */
  rolloutStepsPerSec: number;
  /** Episodes that ended in this rollout, their mean (unscaled) return and final equity (null if none). */
  episodes: number;
  meanEpisodeReturn: number | null;
  meanEpisodeEquity: number | null;
  /** Mean equity across the environments at the end of the rollout (null if the env reports none). */
  meanEquity: number | null;
  seconds: number;
}

export interface AdamState {
  step: number;
  m: Float32Array | Float64Array;
  v: Float32Array | Float64Array;
}

/** A resumable training state (structured-clone friendly: typed arrays and plain objects). */
export interface PpoResumeState {
  version: 1;
  config: PPOConfig;
  obsDim: number;
  /** Iterations completed. */
  iteration: number;
  globalStep: number;
  params: Record<string, Float32Array>;
  /** The CPU path's float64 master parameters (updateOn 'cpu'), so a resume is exact. */
  master?: Float64Array;
  adam: AdamState;
  history: IterationDiagnostics[];
  /** The environments' state when they can serialise it (VecEnvLike.getState). */
  envState?: unknown;
  savedAt: string;
}

export interface TrainPpoOptions {
  gate?: PauseGate;
  /** Periodic resumable states go here (the browser's IndexedDB Store, the CLI's files). */
  store?: Store;
  /** Store key of the latest state (default "rl/run/latest"). */
  stateKey?: string;
  /** Write a state every N iterations (default 10; 0 = never; the last iteration always writes). */
  checkpointEvery?: number;
  /** Continue from this state (same config and observation size). */
  resume?: PpoResumeState;
  /** Called after every iteration (live charts, tracking). */
  onIteration?: (d: IterationDiagnostics) => void | Promise<void>;
  /** Called with every resumable state written (e.g. to save an agent bundle beside it). */
  onCheckpoint?: (s: PpoResumeState, agent: PPOAgent) => void | Promise<void>;
  /** Metrics of every iteration, logged at the global step. */
  run?: MetricsSink;
}

export interface TrainPpoResult {
  agent: PPOAgent;
  config: PPOConfig;
  history: IterationDiagnostics[];
  state: PpoResumeState;
  seconds: number;
}

// ---------------------------------------------------------------------------------------------
// The loss (CleanRL lines "Policy loss", "Value loss", "entropy_loss"), on tensors.

export interface LossInputs {
  newLogProb: tf.Tensor1D;
  oldLogProb: tf.Tensor1D;
  /** Advantages as the loss should see them (already normalised when normAdv). */
  advantages: tf.Tensor1D;
  newValue: tf.Tensor1D;
  oldValue: tf.Tensor1D;
  returns: tf.Tensor1D;
  /** Mean entropy of the policy over the minibatch (a scalar). */
  entropy: tf.Scalar;
}

export interface LossTerms {
  loss: tf.Scalar;
  policyLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropy: tf.Scalar;
  approxKl: tf.Scalar;
  oldApproxKl: tf.Scalar;
  clipFrac: tf.Scalar;
}

/**
 * L = mean(max(−A·ρ, −A·clip(ρ, 1 ± ε))) + vfCoef·½·mean(max((V − R)², (V_clip − R)²)) − entCoef·H,
 * ρ = exp(log π_new − log π_old), V_clip = V_old + clip(V − V_old, ±ε) (or plain ½·MSE without
 * clipVloss). The KL and clip-fraction diagnostics are not part of `loss`.
 */
export function ppoLossTerms(x: LossInputs, cfg: Pick<PPOConfig, 'clipRatio' | 'clipVloss' | 'entCoef' | 'vfCoef'>): LossTerms {
  const eps = cfg.clipRatio;
  const logRatio = tf.sub(x.newLogProb, x.oldLogProb);
  const ratio = tf.exp(logRatio);
  const negAdv = tf.neg(x.advantages);
  const policyLoss = tf.mean(tf.maximum(tf.mul(negAdv, ratio), tf.mul(negAdv, tf.clipByValue(ratio, 1 - eps, 1 + eps)))) as tf.Scalar;
  const unclipped = tf.square(tf.sub(x.newValue, x.returns));
  let valueLoss: tf.Scalar;
  if (cfg.clipVloss) {
    const vClipped = tf.add(x.oldValue, tf.clipByValue(tf.sub(x.newValue, x.oldValue), -eps, eps));
    valueLoss = tf.mul(0.5, tf.mean(tf.maximum(unclipped, tf.square(tf.sub(vClipped, x.returns))))) as tf.Scalar;
  } else {
    valueLoss = tf.mul(0.5, tf.mean(unclipped)) as tf.Scalar;
  }
  const loss = tf.add(tf.sub(policyLoss, tf.mul(cfg.entCoef, x.entropy)), tf.mul(cfg.vfCoef, valueLoss)) as tf.Scalar;
  // Diagnostics only: not part of `loss`, so no gradient flows through them.
  const lr = logRatio;
  const r = ratio;
  return {
    loss,
    policyLoss,
    valueLoss,
    entropy: x.entropy,
    approxKl: tf.mean(tf.sub(tf.sub(r, 1), lr)) as tf.Scalar,
    oldApproxKl: tf.mean(tf.neg(lr)) as tf.Scalar,
    clipFrac: tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(r, 1)), eps), 'float32')) as tf.Scalar,
  };
}

// ---------------------------------------------------------------------------------------------
// Adam with global grad-norm clipping over one flat parameter vector.

export class ClippedAdam {
  step = 0;
  private readonly sizes: number[];
  private readonly total: number;
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;

  constructor(
    private readonly vars: tf.Variable[],
    private readonly cfg: { beta1?: number; beta2?: number; eps: number; maxGradNorm: number },
  ) {
    this.sizes = vars.map((v) => v.size);
    this.total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.tidy(() => tf.variable(tf.zeros([this.total]), false));
    this.v = tf.tidy(() => tf.variable(tf.zeros([this.total]), false));
  }

  /**
   * Clip the gradients to a global L2 norm of maxGradNorm (0 = no clip) and take one Adam step at
   * `lr`. Returns the norm before clipping as a kept scalar tensor (the caller disposes it), so
   * no readback is forced here.
   */
  apply(grads: tf.NamedTensorMap, lr: number): tf.Scalar {
    this.step++;
    const b1 = this.cfg.beta1 ?? 0.9;
    const b2 = this.cfg.beta2 ?? 0.999;
    const bc1 = 1 - b1 ** this.step;
    const bc2 = 1 - b2 ** this.step;
    return tf.tidy(() => {
      const g0 = tf.concat(this.vars.map((w) => (grads[w.name] ?? tf.zerosLike(w)).reshape([-1])));
      const norm = tf.sqrt(tf.sum(tf.square(g0))) as tf.Scalar;
      const g = this.cfg.maxGradNorm > 0 ? tf.mul(g0, tf.minimum(tf.div(this.cfg.maxGradNorm, tf.add(norm, 1e-6)), 1)) : g0;
      const m = tf.add(tf.mul(this.m, b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), 1 - b2));
      this.m.assign(m);
      this.v.assign(v);
      const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.cfg.eps);
      const wFlat = tf.concat(this.vars.map((w) => w.reshape([-1])));
      const next = tf.split(tf.sub(wFlat, tf.mul(tf.div(m, denom), lr / bc1)), this.sizes);
      this.vars.forEach((w, i) => w.assign(next[i]!.reshape(w.shape)));
      return tf.keep(norm);
    });
  }

  async getState(): Promise<AdamState> {
    return { step: this.step, m: Float32Array.from((await this.m.data()) as Float32Array), v: Float32Array.from((await this.v.data()) as Float32Array) };
  }

  setState(s: AdamState): void {
    if (s.m.length !== this.total || s.v.length !== this.total) throw new Error(`ClippedAdam.setState: moments of size ${s.m.length}, expected ${this.total}`);
    this.step = s.step;
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(Float32Array.from(s.m)));
      this.v.assign(tf.tensor1d(Float32Array.from(s.v)));
    });
  }

  dispose(): void {
    tf.dispose([this.m, this.v]);
  }
}

// ---------------------------------------------------------------------------------------------
// The same update on the CPU: hand-written backprop of both MLPs and the PPO loss, and Adam with
// global-norm clipping, over one flat master vector (checkpoint layout). At 2 × 64 and minibatch
// 64 the tfjs path costs ~280 kernels per step, dispatch-bound on wasm; this path has none
// (measured in bench/rl-ppo.bench.ts). Its gradients equal tfjs's to float32 rounding (test).
// Mixed precision, as PyTorch's AMP keeps it: the products, activations and gradients are float32
// (what tfjs and the original design's PyTorch compute in; twice the lanes of f64x2, 29 against
// 15 GMAC per CPU-second), the master weights and Adam's moments float64, and the Adam step writes
// the float32 weights the next products use in the same pass. The loss terms and the reductions
// (biases' gradients, log σ's, the global norm) sum in float64. Parameters, gradients, moments, the
// minibatch and every activation live in one math/simdGemm GemmWorkspace, so each product runs in
// place and nothing is copied but the minibatch's observations.

interface CpuLayer {
  inD: number;
  outD: number;
  /** Offsets of W [in, out] and b [out] in the flat parameter vector. */
  w: number;
  b: number;
  /** float32 workspace index of Wᵀ [out, in] (the backward's dh = dz · Wᵀ), refreshed after every step;
   *  −1 for the first layer, whose dh is never needed (913 × 64 of the 125k weights at D = 57). */
  wT: number;
}

/** float32 workspace indices of one minibatch capacity's scratch. */
interface Scratch {
  cap: number;
  x: number;
  acts: Record<'pi' | 'v', number[]>;
  deltas: Record<'pi' | 'v', number[]>;
}

/**
 * PPO loss, gradients and a clipped Adam step on the CPU. The master parameters are float64 (the
 * agent receives float32 copies); `params()` and `state()` give both for checkpoints and resume.
 */
export class CpuPpoUpdater {
  private readonly ws = new GemmWorkspace();
  /** master, grad and the moments, in the workspace (no copy per step). */
  private readonly bufs: AdamBuffers;
  step = 0;
  private readonly names: { name: string; shape: number[]; offset: number; size: number }[];
  private readonly nets: Record<'pi' | 'v', CpuLayer[]>;
  /** Per net: layer widths and the float32 weights' workspace indices, for mlpForward32. */
  private readonly fwd: Record<'pi' | 'v', { sizes: number[]; layers: LayerAt[] }>;
  private readonly logStdOff: number;
  private readonly tanh: boolean;
  private scratch: Scratch | null = null;

  constructor(
    private readonly agent: PPOAgent,
    private readonly cfg: Pick<PPOConfig, 'clipRatio' | 'clipVloss' | 'entCoef' | 'vfCoef' | 'maxGradNorm' | 'adamEps'>,
    master?: Float64Array,
  ) {
    const t = agent.topology;
    if (t.actDim !== 1) throw new Error('CpuPpoUpdater: one action dimension only');
    this.tanh = t.activation === 'tanh';
    const params = agent.parameters();
    this.names = [];
    let off = 0;
    for (const { name, shape } of parameterShapes(t)) {
      const size = shape.reduce((a, b) => a * b, 1);
      this.names.push({ name, shape, offset: off, size });
      off += size;
    }
    if (master && master.length !== off) throw new Error(`CpuPpoUpdater: master vector of ${master.length}, expected ${off}`);
    this.bufs = new AdamBuffers(off, this.ws, true);
    const p = this.bufs.params;
    if (master) p.set(master);
    else for (const e of this.names) p.set(params.get(e.name)!, e.offset);
    this.bufs.params32.set(p); // rounded to nearest, as every Adam step writes it
    const at = (name: string) => this.names.find((e) => e.name === name)!.offset;
    const layers = (net: 'pi' | 'v', outDim: number): CpuLayer[] => {
      const sizes = [t.obsDim, ...t.hiddenSizes, outDim];
      return sizes.slice(1).map((outD, l) => ({ inD: sizes[l]!, outD, w: at(`${net}.w${l}`), b: at(`${net}.b${l}`), wT: l === 0 ? -1 : this.ws.alloc32(sizes[l]! * outD) }));
    };
    this.nets = { pi: layers('pi', 1), v: layers('v', 1) };
    const P = this.bufs.params32At;
    const fwd = (Ls: CpuLayer[]) => ({ sizes: [Ls[0]!.inD, ...Ls.map((L) => L.outD)], layers: Ls.map((L) => ({ w: P + L.w, b: P + L.b })) });
    this.fwd = { pi: fwd(this.nets.pi), v: fwd(this.nets.v) };
    this.logStdOff = at('logStd');
    this.refreshTransposes();
  }

  /** The float64 master parameters (checkpoint layout; a fresh view). */
  get master(): Float64Array {
    return this.bufs.params;
  }

  private refreshTransposes(): void {
    const p = this.bufs.params32;
    const M = this.ws.f32;
    for (const net of ['pi', 'v'] as const)
      for (const L of this.nets[net].slice(1)) for (let i = 0; i < L.inD; i++) for (let j = 0; j < L.outD; j++) M[L.wT + j * L.inD + i] = p[L.w + i * L.outD + j]!;
  }

  private ensure(B: number, D: number): Scratch {
    if (this.scratch && B <= this.scratch.cap) return this.scratch;
    const per = (net: 'pi' | 'v') => this.nets[net].map((L) => this.ws.alloc32(B * L.outD));
    this.scratch = { cap: B, x: this.ws.alloc32(B * D), acts: { pi: per('pi'), v: per('v') }, deltas: { pi: per('pi'), v: per('v') } };
    return this.scratch;
  }

  /** Forward of one net over the batch at S.x, keeping every layer's output (post-activation). */
  private forward(S: Scratch, net: 'pi' | 'v', B: number): Float32Array {
    const f = this.fwd[net];
    return this.ws.view32(mlpForward32(this.ws, B, f.sizes, S.x, f.layers, S.acts[net], this.tanh), B);
  }

  /** Backward of one net from dL/d(output) [B] (in deltas[last]); writes its part of the gradient. */
  private backward(S: Scratch, net: 'pi' | 'v', B: number): void {
    const G = this.bufs.gradAt;
    const M = this.ws.f32;
    const Ls = this.nets[net];
    for (let l = Ls.length - 1; l >= 0; l--) {
      const L = Ls[l]!;
      const dz = S.deltas[net][l]!;
      const input = l === 0 ? S.x : S.acts[net][l - 1]!;
      // db = Σ_b dz;  dW[in, out] = inputᵀ · dz (input read in place, transposed by the kernel).
      // Each parameter gets exactly one contribution per step, so both are written, not added.
      for (let j = 0; j < L.outD; j++) {
        let sb = 0;
        for (let r = 0; r < B; r++) sb += M[dz + r * L.outD + j]!;
        M[G + L.b + j] = sb;
      }
      this.ws.product32(L.inD, L.outD, B, input, dz, G + L.w, -1, true);
      if (l === 0) break;
      // dh[B, in] = dz · Wᵀ, then through the activation.
      const prev = S.deltas[net][l - 1]!;
      this.ws.product32(B, L.inD, L.outD, dz, L.wT, prev);
      const h = S.acts[net][l - 1]!;
      const n = B * L.inD;
      if (this.tanh) for (let i = 0; i < n; i++) M[prev + i]! *= 1 - M[h + i]! * M[h + i]!;
      else for (let i = 0; i < n; i++) if (M[h + i]! <= 0) M[prev + i] = 0;
    }
  }

  /**
   * Loss terms and gradients of one minibatch (the tfjs path's ppoLossTerms, term for term) into
   * this.grad; returns [policyLoss, valueLoss, entropy, approxKl, oldApproxKl, clipFrac].
   */
  lossAndGrad(obs: Float32Array, actions: Float32Array, oldLogp: Float32Array, adv: Float32Array, returns: Float32Array, oldValues: Float32Array, B: number): number[] {
    const D = this.agent.topology.obsDim;
    const S = this.ensure(B, D);
    this.ws.view32(S.x, B * D).set(obs.length === B * D ? obs : obs.subarray(0, B * D));
    const mu = this.forward(S, 'pi', B);
    const val = this.forward(S, 'v', B);
    const s = this.bufs.params[this.logStdOff]!;
    const sigma = Math.exp(s);
    const eps = this.cfg.clipRatio;
    const dMu = this.ws.view32(S.deltas.pi[this.nets.pi.length - 1]!, B);
    const dV = this.ws.view32(S.deltas.v[this.nets.v.length - 1]!, B);
    let pg = 0;
    let vl = 0;
    let kl = 0;
    let oldKl = 0;
    let clipped = 0;
    let dS = 0;
    for (let r = 0; r < B; r++) {
      const z = (actions[r]! - mu[r]!) / sigma;
      const logp = -0.5 * z * z - s - HALF_LOG_2PI;
      const lr = logp - oldLogp[r]!;
      const ratio = Math.exp(lr);
      const A = adv[r]!;
      const un = -A * ratio;
      const cl = -A * Math.min(Math.max(ratio, 1 - eps), 1 + eps);
      // max(un, cl): tfjs's Maximum sends the gradient to its first argument on a tie, so do we.
      const active = un >= cl;
      pg += active ? un : cl;
      const dLogp = active ? -A * ratio / B : 0;
      dMu[r] = dLogp * (z / sigma);
      dS += dLogp * (z * z - 1);
      kl += ratio - 1 - lr;
      oldKl += -lr;
      if (Math.abs(ratio - 1) > eps) clipped++;
      const R = returns[r]!;
      const vo = oldValues[r]!;
      const vu = (val[r]! - R) ** 2;
      let g: number;
      if (this.cfg.clipVloss) {
        const diff = val[r]! - vo;
        const inBand = diff >= -eps && diff <= eps;
        const vc = vo + Math.min(Math.max(diff, -eps), eps);
        const vcl = (vc - R) ** 2;
        if (vu >= vcl) {
          vl += vu;
          g = 2 * (val[r]! - R);
        } else {
          vl += vcl;
          g = inBand ? 2 * (vc - R) : 0;
        }
      } else {
        vl += vu;
        g = 2 * (val[r]! - R);
      }
      dV[r] = (this.cfg.vfCoef * 0.5 * g) / B;
    }
    this.backward(S, 'pi', B);
    this.backward(S, 'v', B);
    this.bufs.grad[this.logStdOff] = dS - this.cfg.entCoef;
    const entropy = s + 0.5 + HALF_LOG_2PI;
    return [pg / B, (0.5 * vl) / B, entropy, kl / B, oldKl / B, clipped / B];
  }

  /** Global-norm clip then Adam (PyTorch's formulas); returns the norm before clipping. */
  apply(lr: number): number {
    this.step++;
    const g = this.bufs.grad;
    // Four running sums (one dependent add chain was ~100 µs of the 125k squares at D = 57).
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    const n4 = g.length & ~3;
    for (let i = 0; i < n4; i += 4) {
      s0 += g[i]! * g[i]!;
      s1 += g[i + 1]! * g[i + 1]!;
      s2 += g[i + 2]! * g[i + 2]!;
      s3 += g[i + 3]! * g[i + 3]!;
    }
    let sq = s0 + s1 + (s2 + s3);
    for (let i = n4; i < g.length; i++) sq += g[i]! * g[i]!;
    const norm = Math.sqrt(sq);
    const coef = this.cfg.maxGradNorm > 0 ? Math.min(1, this.cfg.maxGradNorm / (norm + 1e-6)) : 1;
    this.bufs.step(this.step, lr, coef, this.cfg.adamEps);
    this.refreshTransposes();
    return norm;
  }

  /** The gradient of the last lossAndGrad, by parameter name (its float32 values, widened; for tests). */
  gradients(): Map<string, Float64Array> {
    const g = this.bufs.grad;
    return new Map(this.names.map((e) => [e.name, Float64Array.from(g.subarray(e.offset, e.offset + e.size))]));
  }

  /** Float32 parameters by name (what the agent and the checkpoint hold). */
  params(): Map<string, Float32Array> {
    const p = this.bufs.params;
    return new Map(this.names.map((e) => [e.name, Float32Array.from(p.subarray(e.offset, e.offset + e.size))]));
  }

  getState(): AdamState {
    return { step: this.step, m: this.bufs.m.slice(), v: this.bufs.v.slice() };
  }

  setState(s: AdamState): void {
    if (s.m.length !== this.bufs.n) throw new Error(`CpuPpoUpdater.setState: moments of size ${s.m.length}, expected ${this.bufs.n}`);
    this.step = s.step;
    this.bufs.m.set(s.m);
    this.bufs.v.set(s.v);
  }
}

// ---------------------------------------------------------------------------------------------

function explainedVariance(pred: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = y.length;
  let my = 0;
  let md = 0;
  for (let i = 0; i < n; i++) {
    my += y[i]!;
    md += y[i]! - pred[i]!;
  }
  my /= n;
  md /= n;
  let vy = 0;
  let vd = 0;
  for (let i = 0; i < n; i++) {
    vy += (y[i]! - my) ** 2;
    vd += (y[i]! - pred[i]! - md) ** 2;
  }
  return vy === 0 ? null : 1 - vd / vy;
}

/** A yield that costs nothing unless ~20 ms passed since the last one. */
function makeYielder(ctx: JobContext, gate?: PauseGate): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (gate?.isPaused) await gate.wait(ctx.signal);
    if (performance.now() - last < 20) return;
    await yieldToEventLoop();
    last = performance.now();
    throwIfAborted(ctx.signal);
    if (gate?.isPaused) await gate.wait(ctx.signal);
  };
}

/** Train a fresh (or resumed) PPOAgent on `env`. */
export async function trainPpo(env: VecEnvLike, partial: Partial<PPOConfig>, opts: TrainPpoOptions = {}, ctx: JobContext = {}): Promise<TrainPpoResult> {
  // Every progress report after the first carries etaMs (time left at this run's rate): the page's "time left".
  ctx = withEta(ctx);
  const cfg = resolvePpoConfig(opts.resume ? { ...opts.resume.config, ...partial, totalSteps: partial.totalSteps ?? opts.resume.config.totalSteps } : partial);
  const N = env.numEnvs;
  if (N !== cfg.numEnvs) throw new Error(`trainPpo: env has ${N} environments, config.numEnvs is ${cfg.numEnvs}`);
  const D = env.obsDim;
  const T = cfg.rolloutLen / N;
  const batch = cfg.rolloutLen;
  const iterations = Math.max(1, Math.floor(cfg.totalSteps / batch));
  const agent = PPOAgent.create({ obsDim: D, actDim: 1, hiddenSizes: cfg.hiddenSizes, activation: cfg.activation }, { init: cfg.init, seed: cfg.seed, logStdInit: cfg.logStdInit });
  const varList = [...agent.vars.values()];
  const onCpu = cfg.updateOn === 'cpu';
  const adam = onCpu ? undefined : new ClippedAdam(varList, { eps: cfg.adamEps, maxGradNorm: cfg.maxGradNorm });
  let cpu: CpuPpoUpdater | undefined;
  const history: IterationDiagnostics[] = [];
  let startIteration = 0;
  let globalStep = 0;
  let obs: Float32Array;
  if (opts.resume) {
    const r = opts.resume;
    if (r.obsDim !== D) throw new Error(`trainPpo: resume state has observations of ${r.obsDim} values, the env gives ${D}`);
    agent.setParameters(new Map(Object.entries(r.params)));
    if (onCpu) {
      cpu = new CpuPpoUpdater(agent, cfg, r.master);
      cpu.setState(r.adam);
    } else adam!.setState(r.adam);
    startIteration = r.iteration;
    globalStep = r.globalStep;
    history.push(...r.history);
    obs = env.reset();
    if (r.envState !== undefined && env.setState) obs = env.setState(r.envState);
  } else {
    obs = env.reset();
  }
  if (onCpu) cpu ??= new CpuPpoUpdater(agent, cfg);

  const stateKey = opts.stateKey ?? 'rl/run/latest';
  const checkpointEvery = opts.checkpointEvery ?? 10;
  const maybeYield = makeYielder(ctx, opts.gate);
  const t0 = performance.now();

  // Rollout storage, time-major [T, N].
  const obsBuf = new Float32Array(batch * D);
  const actBuf = new Float32Array(batch);
  const logpBuf = new Float32Array(batch);
  const valBuf = new Float32Array(batch);
  const rewBuf = new Float64Array(batch);
  const doneBuf = new Uint8Array(batch);
  const truncBuf = new Uint8Array(batch);
  const truncValBuf = new Float64Array(batch);
  // Minibatch staging.
  const B = cfg.minibatchSize;
  const mbObs = new Float32Array(B * D);
  const mbAct = new Float32Array(B);
  const mbLogp = new Float32Array(B);
  const mbAdv = new Float32Array(B);
  const mbRet = new Float32Array(B);
  const mbVal = new Float32Array(B);
  const order = new Int32Array(batch);

  let state: PpoResumeState | undefined;
  let metricTensors: tf.Tensor[] = [];
  try {
    for (let iteration = startIteration; iteration < iterations; iteration++) {
      const itStart = performance.now();
      throwIfAborted(ctx.signal);
      // 1. Anneal the learning rate (CleanRL: frac = 1 − (iteration − 1)/num_iterations, 1-based).
      const lr = cfg.annealLr ? (1 - iteration / iterations) * cfg.lr : cfg.lr;

      // 2. Rollout.
      const noise = Rng.stream(cfg.seed, AGENT_STREAM.noise + iteration);
      const endedReturns: number[] = [];
      const endedEquity: number[] = [];
      let lastInfos: { equity?: number }[] | undefined;
      for (let t = 0; t < T; t++) {
        const off = t * N;
        obsBuf.set(obs, off * D);
        const a = agent.act(obs, N, { rng: noise });
        actBuf.set(a.actions, off);
        logpBuf.set(a.logProbs, off);
        valBuf.set(a.values, off);
        const s = env.step(a.actions);
        const truncIdx: number[] = [];
        for (let e = 0; e < N; e++) {
          const term = s.terminated[e]! ? 1 : 0;
          const trunc = s.truncated[e]! && !term ? 1 : 0;
          rewBuf[off + e] = s.rewards[e]! * cfg.rewardScale;
          doneBuf[off + e] = term || trunc ? 1 : 0;
          truncBuf[off + e] = trunc;
          truncValBuf[off + e] = 0;
          if (trunc) truncIdx.push(e);
        }
        if (truncIdx.length > 0) {
          const fo = new Float32Array(truncIdx.length * D);
          truncIdx.forEach((e, k) => {
            const f = s.finalObs[e];
            if (!f) throw new Error(`trainPpo: env ${e} was truncated without a final observation`);
            fo.set(f, k * D);
          });
          const v = agent.value(fo, truncIdx.length);
          truncIdx.forEach((e, k) => (truncValBuf[off + e] = v[k]!));
        }
        for (const ep of s.episodes) {
          endedReturns.push(ep.return);
          endedEquity.push(ep.finalEquity);
        }
        lastInfos = s.infos;
        obs = s.obs;
        globalStep += N;
        if ((t & 15) === 15) await maybeYield();
      }
      const rolloutSeconds = (performance.now() - itStart) / 1000;

      // 3. Bootstrap and GAE.
      const lastValue = agent.value(obs, N);
      const { advantages, returns } = computeGae({
        rewards: rewBuf, values: valBuf, dones: doneBuf, truncated: truncBuf, truncatedValues: truncValBuf,
        lastValue, gamma: cfg.gamma, lam: cfg.lam, numEnvs: N,
      });

      // 4. Update: epochs × shuffled minibatches.
      const shuffle = Rng.stream(cfg.seed, PPO_STREAM.shuffle + iteration);
      for (let i = 0; i < batch; i++) order[i] = i;
      let clipSum = 0;
      let clipCount = 0;
      let last: number[] = [0, 0, 0, 0, 0, 0, 0];
      let epochsRun = 0;
      const nMinibatches = Math.floor(batch / B);
      for (let epoch = 0; epoch < cfg.epochs; epoch++) {
        shuffle.shuffle(order);
        metricTensors = [];
        const cpuMetrics: number[] = [];
        for (let mb = 0; mb < nMinibatches; mb++) {
          // Gather on the CPU; normalise the minibatch's advantages here (64 numbers, no kernels).
          let am = 0;
          for (let k = 0; k < B; k++) {
            const i = order[mb * B + k]!;
            mbObs.set(obsBuf.subarray(i * D, i * D + D), k * D);
            mbAct[k] = actBuf[i]!;
            mbLogp[k] = logpBuf[i]!;
            mbRet[k] = returns[i]!;
            mbVal[k] = valBuf[i]!;
            am += advantages[i]!;
          }
          am /= B;
          let av = 0;
          for (let k = 0; k < B; k++) av += (advantages[order[mb * B + k]!]! - am) ** 2;
          const as = B > 1 ? Math.sqrt(av / (B - 1)) : 0; // torch .std() is ddof 1
          for (let k = 0; k < B; k++) {
            const a = advantages[order[mb * B + k]!]!;
            mbAdv[k] = cfg.normAdv ? (a - am) / (as + 1e-8) : a;
          }
          if (cpu) {
            const terms = cpu.lossAndGrad(mbObs, mbAct, mbLogp, mbAdv, mbRet, mbVal, B);
            const norm = cpu.apply(lr);
            cpuMetrics.push(...terms, norm);
            await maybeYield();
            continue;
          }
          const metrics = tf.tidy(() => {
            const xObs = tf.tensor2d(mbObs, [B, D]);
            const xAct = tf.tensor2d(mbAct, [B, 1]);
            const xLogp = tf.tensor1d(mbLogp);
            const xAdv = tf.tensor1d(mbAdv);
            const xRet = tf.tensor1d(mbRet);
            const xVal = tf.tensor1d(mbVal);
            // variableGrads frees everything its function made but the loss: keep the diagnostics
            // as one stacked tensor (not on the loss's path, so it adds no gradient).
            let diag: tf.Tensor | undefined;
            const { grads } = tf.variableGrads(() => {
              const { mean, value } = agent.forward(xObs);
              const t = ppoLossTerms(
                { newLogProb: agent.logProb(mean, xAct), oldLogProb: xLogp, advantages: xAdv, newValue: value, oldValue: xVal, returns: xRet, entropy: agent.entropy() },
                cfg,
              );
              diag = tf.keep(tf.stack([t.policyLoss, t.valueLoss, t.entropy, t.approxKl, t.oldApproxKl, t.clipFrac]));
              return t.loss;
            }, varList);
            const norm = adam!.apply(grads, lr);
            const out = tf.concat([diag!, norm.reshape([1])]);
            tf.dispose([diag!, norm]);
            return out;
          });
          metricTensors.push(metrics);
          await maybeYield();
        }
        // One readback per epoch: the clip fractions of every minibatch and the last one's losses.
        let vals: Float32Array | Float64Array;
        if (cpu) vals = Float64Array.from(cpuMetrics);
        else {
          const all = tf.concat(metricTensors);
          vals = (await all.data()) as Float32Array;
          tf.dispose([all, ...metricTensors]);
        }
        const count = vals.length / 7;
        for (let mb = 0; mb < count; mb++) {
          clipSum += vals[mb * 7 + 5]!;
          clipCount++;
        }
        last = Array.from(vals.subarray((count - 1) * 7, count * 7));
        epochsRun++;
        if (cfg.targetKl !== null && last[3]! > cfg.targetKl) break;
      }
      if (cpu) agent.setParameters(cpu.params());
      else await agent.syncFromVariables();

      // 5. Diagnostics.
      const seconds = (performance.now() - itStart) / 1000;
      const equities = lastInfos?.map((i) => i.equity).filter((x): x is number => typeof x === 'number') ?? [];
      const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
      const d: IterationDiagnostics = {
        iteration: iteration + 1,
        iterations,
        globalStep,
        policyLoss: last[0]!,
        valueLoss: last[1]!,
        entropy: last[2]!,
        approxKl: last[3]!,
        oldApproxKl: last[4]!,
        clipFrac: clipCount ? clipSum / clipCount : 0,
        explainedVariance: explainedVariance(valBuf, returns),
        lr,
        gradNorm: last[6]!,
        epochsRun,
        stepsPerSec: batch / seconds,
        rolloutStepsPerSec: batch / rolloutSeconds,
        episodes: endedReturns.length,
        meanEpisodeReturn: mean(endedReturns),
        meanEpisodeEquity: mean(endedEquity),
        meanEquity: mean(equities),
        seconds,
      };
      history.push(d);
      if (opts.run) {
        opts.run.logMetrics(globalStep, numericMetrics(d));
      }
      await opts.onIteration?.(d);
      // Every iteration reaches the page (a few a second at most): the live charts need each one.
      ctx.onProgress?.({ done: iteration + 1, total: iterations, message: `iteration ${iteration + 1}/${iterations} · ${globalStep} steps`, metrics: numericMetrics(d) });

      // 6. Periodic resumable state.
      const isLast = iteration + 1 === iterations;
      if ((checkpointEvery > 0 && (iteration + 1) % checkpointEvery === 0) || isLast) {
        state = {
          version: 1,
          config: cfg,
          obsDim: D,
          iteration: iteration + 1,
          globalStep,
          params: Object.fromEntries(agent.parameters()),
          ...(cpu ? { master: cpu.master.slice() } : {}),
          adam: cpu ? cpu.getState() : await adam!.getState(),
          history: history.map((h) => ({ ...h })),
          envState: env.getState?.(),
          savedAt: new Date().toISOString(),
        };
        if (opts.store && (checkpointEvery > 0 || isLast)) await opts.store.set(stateKey, state);
        await opts.onCheckpoint?.(state, agent);
      }
    }
  } catch (e) {
    tf.dispose(metricTensors);
    adam?.dispose();
    agent.dispose();
    throw e;
  }
  adam?.dispose();
  if (!state) {
    // A resume of an already finished run: nothing left to do, hand the state back.
    state = { ...opts.resume!, savedAt: new Date().toISOString() };
  }
  return { agent, config: cfg, history, state, seconds: (performance.now() - t0) / 1000 };
}

function numericMetrics(d: IterationDiagnostics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(d)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The market job: features → VecTradingEnv on the training span → trainPpo → agent checkpoint.

export interface MarketTrainInputs {
  market: MarketData;
  features: FeatureMatrix;
  /** The FeatureConfig the features were built with (stored in the checkpoint for the backtest). */
  featureConfig: { [k: string]: JsonValue };
  envConfig?: EnvConfigInput;
  ppo?: Partial<PPOConfig>;
  /** Train on steps [0, floor(trainFraction·n)) (default 0.7); the rest is the backtest's. */
  trainFraction?: number;
  name?: string;
  /** Extra provenance (inverse checkpoint hash, market file …). */
  provenance?: { [k: string]: JsonValue };
}

export interface MarketTrainResult extends TrainPpoResult {
  checkpoint: AgentCheckpoint;
  trainSpan: { start: number; end: number };
}

/**
 * VecTradingEnv as the trainer sees it, with its resumable part: the shared StateBuilder's
 * statistics. A resume restores them and restarts the episodes at fresh random starts (the envs'
 * positions are not carried over), so a resumed market run continues the same normalisation and
 * weights but is not bit-identical to an uninterrupted one.
 */
class TradingVecAdapter implements VecEnvLike {
  constructor(readonly vec: VecTradingEnv) {}
  get numEnvs(): number {
    return this.vec.numEnvs;
  }
  get obsDim(): number {
    return this.vec.obsDim;
  }
  reset(): Float32Array {
    return this.vec.reset();
  }
  step(actions: Float32Array) {
    return this.vec.step(actions);
  }
  getState(): unknown {
    return this.vec.stateBuilder.toJSON();
  }
  setState(s: unknown): Float32Array {
    this.vec.stateBuilder.normalizer = StateBuilder.fromJSON(s, 'resume state: stateBuilder').normalizer;
    return this.vec.reset();
  }
}

function checkpointOf(cfg: PPOConfig, agent: PPOAgent, vec: VecTradingEnv, inputs: MarketTrainInputs, span: { start: number; end: number }, history: IterationDiagnostics[], envConfig: EnvConfig): AgentCheckpoint {
  const m = inputs.market;
  const last = history.at(-1);
  return {
    name: inputs.name ?? `ppo-${m.name}-seed${cfg.seed}`,
    created: new Date().toISOString(),
    topology: { ...agent.topology },
    ppoConfig: cfg,
    envConfig,
    featureConfig: inputs.featureConfig,
    featureNames: [...inputs.features.names],
    stateBuilder: vec.stateBuilder.toJSON(),
    market: { name: m.name, nSteps: m.btcPrices.length, dtYears: m.dtYears, kGrid: Array.from(m.kGrid), tGrid: Array.from(m.tGrid), trainSpan: span, trainFraction: inputs.trainFraction ?? DEFAULT_TRAIN_FRACTION },
    provenance: {
      seed: cfg.seed,
      iterations: history.length,
      globalStep: last?.globalStep ?? 0,
      final: last ? (numericMetrics(last) as { [k: string]: JsonValue }) : null,
      ...(inputs.provenance ?? {}),
    },
    params: agent.parameters(),
  };
}

/** Train a PPO agent on the first trainFraction of a market; returns its checkpoint too. */
export async function trainOnMarket(inputs: MarketTrainInputs, opts: TrainPpoOptions & { onAgentCheckpoint?: (c: AgentCheckpoint) => void | Promise<void> } = {}, ctx: JobContext = {}): Promise<MarketTrainResult> {
  const n = inputs.market.btcPrices.length;
  const fraction = inputs.trainFraction ?? DEFAULT_TRAIN_FRACTION;
  if (!(fraction > 0 && fraction < 1)) throw new InputError(`must be in (0, 1), got ${fraction}`, '--train-fraction');
  const span = { start: 0, end: splitStep(fraction, n) };
  const cfg = resolvePpoConfig(opts.resume ? { ...opts.resume.config, ...inputs.ppo } : inputs.ppo ?? {});
  const envConfig = resolveEnvConfig(inputs.envConfig ?? {});
  const vec = new VecTradingEnv(inputs.market, inputs.features, envConfig, { numEnvs: cfg.numEnvs, span, seed: cfg.seed, copy: false });
  const env = new TradingVecAdapter(vec);
  const result = await trainPpo(env, cfg, {
    ...opts,
    onCheckpoint: async (s, agent) => {
      await opts.onCheckpoint?.(s, agent);
      if (opts.onAgentCheckpoint) await opts.onAgentCheckpoint(checkpointOf(cfg, agent, vec, inputs, span, s.history, envConfig));
    },
  }, ctx);
  return { ...result, checkpoint: checkpointOf(result.config, result.agent, vec, inputs, span, result.history, envConfig), trainSpan: span };
}

// ---------------------------------------------------------------------------------------------
// The RL page's training job (workers/rl.worker.ts): market spec → features → trainOnMarket, with
// the resumable state, the job's arguments and the latest agent in a Store (IndexedDB in the
// browser), so a closed tab loses at most `checkpointEvery` iterations.

export interface TrainJobArgs extends FeatureInputs {
  market: MarketSpec;
  env?: EnvConfigInput;
  ppo?: Partial<PPOConfig>;
  trainFraction?: number;
  /** Iterations between stored states (default 5). */
  checkpointEvery?: number;
  /** Continue the run stored under run/ (its own arguments are used; the others are ignored). */
  resume?: boolean;
  name?: string;
}

export interface TrainJobResult {
  /** The agent checkpoint (.hlckpt bytes). */
  agent: Uint8Array;
  hash: string;
  history: IterationDiagnostics[];
  seconds: number;
  trainSpan: { start: number; end: number };
  featureNames: string[];
  marketName: string;
}

export const RUN_KEYS = { args: 'run/args', state: 'run/latest', agent: 'run/agent' } as const;

export async function trainJob(a: TrainJobArgs, deps: { store?: Store; gate?: PauseGate; run?: MetricsSink }, ctx: JobContext = {}): Promise<TrainJobResult> {
  let args = a;
  let resume: PpoResumeState | undefined;
  if (a.resume) {
    const stored = await deps.store?.get<TrainJobArgs>(RUN_KEYS.args);
    resume = await deps.store?.get<PpoResumeState>(RUN_KEYS.state);
    if (!stored || !resume) throw new InputError('there is no stored run to resume', 'resume');
    args = stored;
  } else if (deps.store) {
    await deps.store.delete(RUN_KEYS.state);
    await deps.store.set(RUN_KEYS.args, { ...a, resume: false });
  }
  const { market, features, featureConfig, inverseHash } = await marketAndFeatures(args.market, args, ctx);
  const r = await trainOnMarket(
    {
      market, features, featureConfig: featureConfig as unknown as { [k: string]: JsonValue }, envConfig: args.env, ppo: args.ppo, trainFraction: args.trainFraction, name: args.name,
      provenance: { market: market.name, inverse: inverseHash, featureModules: features.modules },
    },
    {
      store: deps.store,
      stateKey: RUN_KEYS.state,
      gate: deps.gate,
      resume,
      run: deps.run,
      checkpointEvery: args.checkpointEvery ?? 5,
      onAgentCheckpoint: async (c) => {
        if (deps.store) await deps.store.set(RUN_KEYS.agent, await encodeAgentCheckpoint(c));
      },
    },
    ctx,
  );
  const bytes = await encodeAgentCheckpoint(r.checkpoint);
  r.agent.dispose();
  if (deps.store) await deps.store.set(RUN_KEYS.agent, bytes);
  const hash = (await decodeAgentCheckpoint(bytes, 'agent.hlckpt')).hash;
  return { agent: bytes, hash, history: r.history, seconds: r.seconds, trainSpan: r.trainSpan, featureNames: features.names, marketName: market.name };
}

/** What a page shows of a stored run: how far it got, its diagnostics, and whether it finished. */
export async function savedRun(store: Store): Promise<{ iteration: number; iterations: number; history: IterationDiagnostics[]; finished: boolean; args: TrainJobArgs; agent: Uint8Array | null } | null> {
  const state = await store.get<PpoResumeState>(RUN_KEYS.state);
  const args = await store.get<TrainJobArgs>(RUN_KEYS.args);
  if (!state || !args) return null;
  const iterations = Math.max(1, Math.floor(state.config.totalSteps / state.config.rolloutLen));
  return { iteration: state.iteration, iterations, history: state.history, finished: state.iteration >= iterations, args, agent: (await store.get<Uint8Array>(RUN_KEYS.agent)) ?? null };
}
