/**
 * The backend self-test: does this backend compute what the cpu backend computes, and how fast?
 * Two checks, each run once to compare (and to compile shaders) and once more to time:
 *
 *  1. matmul — a seeded n × n matMul (default 128), compared element by element with the cpu
 *     backend against a rigorous float32 error bound;
 *  2. train — one AdamW step of a small net built from EXACTLY the ops the inverse network trains
 *     with (src/core/inverse/model.ts): denseConv2d → biasAdd → ReLU → strideMaxPool, twice, then
 *     fastMatMul + biasAdd, updated by the lab's flat AdamW (src/core/nn/adamw.ts), on a seeded
 *     [8, 5, 6, 2] batch (the network's input: IV and mask channels on the seed grid): loss before
 *     and after, gradients and updated weights compared with the cpu backend. (The first version
 *     trained patchConv2d / patchMaxPool with tf.train.adam — ops the network no longer runs, so
 *     a backend could pass it and still train the network wrongly.)
 *
 * The train check's median time also ranks the backends for training (estimate.ts): what a backend
 * measures here, not a fixed order.
 *
 * One tfjs backend is active per thread, so the cpu reference is computed first, then each
 * backend in turn; the backend active before the call is restored afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../math/rng.ts';
import { biasAdd, denseConv2d, fastMatMul, strideMaxPool } from '../nn/patchConv.ts';
import { AdamW } from '../nn/adamw.ts';
import { SELFTEST_BATCH_SIZE } from './estimate.ts';
import { DEFAULT_SELFTEST_SETTINGS } from './selftestConfig.ts';
import { throwIfAborted, type JobContext } from '../jobs.ts';
import { errorMessage } from '../errors.ts';
import { activeBackendName, initBackend, isBackendName, type BackendName } from './backends.ts';

export interface SelftestOptions {
  /** Backends to test, in order (the cpu reference is always computed). */
  backends: BackendName[];
  /** matMul size n (n × n times n × n). */
  size?: number;
  /** Timed repetitions per check after the first (comparison) run; the median is reported. */
  reps?: number;
  /** Seed for the matrices, the batch and the initial weights. */
  seed?: number;
}

export interface CheckResult {
  name: 'matmul' | 'train';
  ok: boolean;
  /** Median wall time of the timed repetitions, upload and readback included. */
  ms: number;
  /** The first run: includes shader compilation / kernel warm-up. */
  firstMs: number;
  /** Largest error as a fraction of the allowed error: ok ⇔ ≤ 1. */
  errorRatio: number;
  /** Figures behind the verdict, named with their units. */
  detail: Record<string, number>;
  /** What went wrong, in a sentence. */
  message?: string;
}

export interface BackendSelftest {
  backend: BackendName;
  ok: boolean;
  /** Why the backend could not be tested at all (not available, failed to initialise). */
  error?: string;
  initMs?: number;
  checks: CheckResult[];
}

export interface SelftestReport {
  ok: boolean;
  size: number;
  reps: number;
  seed: number;
  results: BackendSelftest[];
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function seededArray(n: number, rng: Rng, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * scale);
}

// ---------------------------------------------------------------------------------------------
// matmul

interface MatmulInputs {
  n: number;
  a: Float32Array;
  b: Float32Array;
  /** Σ_k |a_ik|·|b_kj|, the scale of each output's rounding error. */
  absScale: Float64Array;
}

function matmulInputs(n: number, seed: number): MatmulInputs {
  const rng = Rng.stream(seed, 0);
  const a = seededArray(n * n, rng);
  const b = seededArray(n * n, rng);
  const absScale = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = Math.abs(a[i * n + k]!);
      for (let j = 0; j < n; j++) absScale[i * n + j] += aik * Math.abs(b[k * n + j]!);
    }
  }
  return { n, a, b, absScale };
}

async function runMatmul(x: MatmulInputs): Promise<Float32Array> {
  const out = tf.tidy(() => tf.matMul(tf.tensor2d(x.a, [x.n, x.n]), tf.tensor2d(x.b, [x.n, x.n])));
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

/**
 * Tolerance: any float32 dot product of length n, summed in any order, is within γ_n·Σ|a||b| of
 * the exact value, γ_n = n·u/(1 − n·u), u = 2⁻²⁴ (Higham, Accuracy and Stability, §3.1). Two such
 * results (backend and cpu) differ by at most 2·γ_n·Σ|a||b|. A backend beyond that bound is not
 * doing float32 arithmetic (e.g. a WebGL context that fell back to half floats).
 */
function compareMatmul(x: MatmulInputs, got: Float32Array, ref: Float32Array) {
  const u = 2 ** -24;
  const gamma = (x.n * u) / (1 - x.n * u);
  let ratio = 0;
  let maxAbs = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - ref[i]!);
    if (!(err <= Infinity)) return { ratio: Infinity, maxAbs: NaN };
    maxAbs = Math.max(maxAbs, err);
    ratio = Math.max(ratio, err / (2 * gamma * x.absScale[i]! + Number.MIN_VALUE));
  }
  return { ratio, maxAbs };
}

// ---------------------------------------------------------------------------------------------
// one training step of a small conv net

/** The inverse network's input: a batch of 5 × 6 maps with two channels (IV, mask). */
export const SELFTEST_BATCH: [number, number, number, number] = [SELFTEST_BATCH_SIZE, 5, 6, 2];
const BATCH = SELFTEST_BATCH;
/** Filters of the two conv blocks (the network's defaults are 16, 32: halved to keep the cpu reference quick). */
const FILTERS: [number, number] = [8, 16];
const LEARNING_RATE = 1e-3;
/** AdamW's ε and decay, fixed (the trainer's defaults) so every backend runs the same algorithm. */
const ADAMW = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 };

interface TrainInputs {
  x: Float32Array;
  y: Float32Array;
  /** conv1 kernel, conv1 bias, conv2 kernel, conv2 bias, dense w, dense b. */
  weights: Float32Array[];
}

/** ceil(ceil(5/2)/2) × ceil(ceil(6/2)/2) × F2 = 2 × 2 × 16. */
function flatSize(): number {
  const [, h, w] = BATCH;
  return Math.ceil(Math.ceil(h / 2) / 2) * Math.ceil(Math.ceil(w / 2) / 2) * FILTERS[1];
}

function weightShapes(): number[][] {
  const c = BATCH[3];
  return [[3, 3, c, FILTERS[0]], [FILTERS[0]], [3, 3, FILTERS[0], FILTERS[1]], [FILTERS[1]], [flatSize(), 1], [1]];
}

function trainInputs(seed: number): TrainInputs {
  const rng = Rng.stream(seed, 1);
  const [b, h, w, c] = BATCH;
  const x = seededArray(b * h * w * c, rng);
  const y = seededArray(b, rng);
  // He-like scales so activations stay O(1) and no ReLU is dead for the whole batch.
  const fanIn = [9 * c, 1, 9 * FILTERS[0], 1, flatSize(), 1];
  const weights = weightShapes().map((shape, i) => seededArray(shape.reduce((a, d) => a * d, 1), rng, i % 2 ? 0.1 : Math.sqrt(2 / fanIn[i]!)));
  return { x, y, weights };
}

interface TrainOutputs {
  lossBefore: number;
  lossAfter: number;
  grads: Float32Array[];
  weights: Float32Array[];
}

let selftestVarId = 0;

async function runTrainStep(inp: TrainInputs): Promise<TrainOutputs> {
  const [b, h, w, c] = BATCH;
  const [f1, f2] = FILTERS;
  const shapes = weightShapes();
  const vars = inp.weights.map((a, i) => tf.variable(tf.tensor(a, shapes[i]!), true, `selftest_${i}_${selftestVarId++}`));
  const [k1, b1, k2, b2, wd, bd] = vars as [tf.Variable<tf.Rank.R4>, tf.Variable, tf.Variable<tf.Rank.R4>, tf.Variable, tf.Variable<tf.Rank.R2>, tf.Variable];
  const xs = tf.tensor2d(inp.x, [b, h * w * c]);
  const ys = tf.tensor2d(inp.y, [b, 1]);
  const optimizer = new AdamW(new Map(vars.map((v) => [v.name, v])), ADAMW);
  // The encoder block of InverseHestonModel.encode, at the check's sizes.
  const lossFn = () =>
    tf.tidy(() => {
      const c1 = denseConv2d(xs, k1, h, w, false).reshape([b * h * w, f1]) as tf.Tensor2D;
      let m = strideMaxPool(tf.relu(biasAdd(c1, b1)).reshape([b, h, w, f1]) as tf.Tensor4D, 2);
      const [, h2, w2] = m.shape;
      const c2 = denseConv2d(m.reshape([b, h2 * w2 * f1]) as tf.Tensor2D, k2, h2, w2).reshape([b * h2 * w2, f2]) as tf.Tensor2D;
      m = strideMaxPool(tf.relu(biasAdd(c2, b2)).reshape([b, h2, w2, f2]) as tf.Tensor4D, 2);
      const pred = biasAdd(fastMatMul(m.reshape([b, flatSize()]) as tf.Tensor2D, wd), bd);
      return tf.mean(tf.square(tf.sub(pred, ys))) as tf.Scalar;
    });
  try {
    const before = lossFn();
    const { value, grads } = tf.variableGrads(lossFn, vars);
    value.dispose();
    const gradTensors = vars.map((v) => grads[v.name]!);
    const gradData = (await Promise.all(gradTensors.map((g) => g.data()))) as Float32Array[];
    optimizer.apply(grads, LEARNING_RATE);
    tf.dispose(gradTensors);
    const after = lossFn();
    const out: TrainOutputs = {
      lossBefore: (await before.data())[0]!,
      lossAfter: (await after.data())[0]!,
      grads: gradData,
      weights: (await Promise.all(vars.map((v) => v.data()))) as Float32Array[],
    };
    tf.dispose([before, after]);
    return out;
  } finally {
    optimizer.dispose();
    tf.dispose([xs, ys, ...vars]);
  }
}

/**
 * Tolerances, with why:
 *  - losses: relative 1e-4. The forward pass is three layers of float32 sums of ≤ 144 terms;
 *    differently ordered sums differ by ~1e-6 relative, so 1e-4 leaves two orders of margin
 *    while a wrong kernel (an index slip, a missing bias) changes the loss by far more.
 *  - gradients: 1e-4 · max|g| absolute, same argument one backward pass deeper.
 *  - updated weights: AdamW's first step is w − lr·(g/(|g|+ε) + λ·w), i.e. ±lr by the SIGN of g
 *    (the decay λ·w is the same on every backend, ~1e-6 here). Where
 *    |g| is well above the gradient tolerance the sign is certain and both backends must land
 *    within 1e-5 (float32 rounding of O(1) weights is ~1e-7); where |g| is within noise the
 *    sign may legitimately differ, and the difference is bounded by the step itself, 2·lr.
 */
function compareTrain(got: TrainOutputs, ref: TrainOutputs) {
  const LOSS_REL = 1e-4;
  const GRAD_REL = 1e-4;
  const WEIGHT_ABS = 1e-5;
  let ratio = 0;
  const lossErr = Math.max(
    Math.abs(got.lossBefore - ref.lossBefore) / Math.abs(ref.lossBefore),
    Math.abs(got.lossAfter - ref.lossAfter) / Math.abs(ref.lossAfter),
  );
  ratio = Math.max(ratio, lossErr / LOSS_REL);
  let gradErr = 0;
  let weightErr = 0;
  let noisySigns = 0;
  for (let v = 0; v < ref.grads.length; v++) {
    const g = ref.grads[v]!;
    let gmax = 0;
    for (const x of g) gmax = Math.max(gmax, Math.abs(x));
    const gtol = GRAD_REL * gmax;
    for (let i = 0; i < g.length; i++) {
      const ge = Math.abs(got.grads[v]![i]! - g[i]!);
      gradErr = Math.max(gradErr, ge / (gtol + Number.MIN_VALUE));
      const we = Math.abs(got.weights[v]![i]! - ref.weights[v]![i]!);
      const certain = Math.abs(g[i]!) > 10 * gtol;
      if (!certain) noisySigns++;
      weightErr = Math.max(weightErr, we / (certain ? WEIGHT_ABS : 2 * LEARNING_RATE + WEIGHT_ABS));
    }
  }
  ratio = Math.max(ratio, gradErr, weightErr);
  if (!Number.isFinite(got.lossBefore) || !Number.isFinite(got.lossAfter)) ratio = Infinity;
  return {
    ratio,
    detail: {
      loss_before: got.lossBefore,
      loss_after: got.lossAfter,
      loss_rel_err: lossErr,
      grad_err_ratio: gradErr,
      weight_err_ratio: weightErr,
      near_zero_grads: noisySigns,
    },
  };
}

// ---------------------------------------------------------------------------------------------

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = now();
  const r = await fn();
  return [r, now() - t0];
}

async function timeReps(fn: () => Promise<unknown>, reps: number, signal?: AbortSignal): Promise<number> {
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) {
    throwIfAborted(signal);
    ms.push((await timed(fn))[1]);
  }
  return median(ms);
}

/**
 * Runs the self-test on each backend in `opts.backends` against the cpu backend. Never throws
 * for a failing backend: the report says which checks failed and why.
 */
export async function runSelftest(opts: SelftestOptions, ctx: JobContext = {}): Promise<SelftestReport> {
  const size = opts.size ?? DEFAULT_SELFTEST_SETTINGS.size;
  const reps = Math.max(1, opts.reps ?? 1);
  const seed = opts.seed ?? DEFAULT_SELFTEST_SETTINGS.seed;
  const backends = opts.backends.filter(isBackendName);
  const previous = (() => {
    try {
      return activeBackendName();
    } catch {
      return undefined;
    }
  })();
  const mm = matmulInputs(size, seed);
  const tr = trainInputs(seed);
  const total = backends.length + 1;
  ctx.onProgress?.({ done: 0, total, message: 'cpu reference' });

  const cpu = await initBackend('cpu');
  if (!cpu.ok) throw new Error(`the cpu reference backend failed: ${cpu.error}`);
  const [refMm, refMmMs] = await timed(() => runMatmul(mm));
  const [refTr, refTrMs] = await timed(() => runTrainStep(tr));

  const results: BackendSelftest[] = [];
  try {
    for (let i = 0; i < backends.length; i++) {
      throwIfAborted(ctx.signal);
      const name = backends[i]!;
      ctx.onProgress?.({ done: i + 1, total, message: `testing ${name}` });
      const init = await initBackend(name);
      if (!init.ok) {
        results.push({ backend: name, ok: false, error: init.error, initMs: init.ms, checks: [] });
        continue;
      }
      const checks: CheckResult[] = [];
      try {
        // On cpu the reference run is the first run; elsewhere run once (cold) and compare.
        const check = async <T>(checkName: CheckResult['name'], run: () => Promise<T>, ref: [T, number], compare: (got: T) => { ratio: number; detail: Record<string, number> }, failure: string): Promise<CheckResult> => {
          const [got, firstMs] = name === 'cpu' ? ref : await timed(run);
          const { ratio, detail } = compare(got);
          const ms = await timeReps(run, reps, ctx.signal);
          return { name: checkName, ok: ratio <= 1, ms, firstMs, errorRatio: ratio, detail, message: ratio <= 1 ? undefined : `${failure} (error ${ratio.toPrecision(3)}× the allowed)` };
        };
        checks.push(
          await check('matmul', () => runMatmul(mm), [refMm, refMmMs], (got) => {
            const m = compareMatmul(mm, got, refMm);
            return { ratio: m.ratio, detail: { n: size, max_abs_err: m.maxAbs } };
          }, 'matMul differs from cpu beyond the float32 bound'),
        );
        throwIfAborted(ctx.signal);
        checks.push(await check('train', () => runTrainStep(tr), [refTr, refTrMs], (got) => compareTrain(got, refTr), 'the AdamW step of the inverse network\'s ops differs from cpu beyond tolerance'));
        results.push({ backend: name, ok: checks.every((c) => c.ok), initMs: init.ms, checks });
      } catch (e) {
        if ((e as Error)?.name === 'CancelledError') throw e;
        results.push({ backend: name, ok: false, error: `crashed during the self-test: ${errorMessage(e)}`, initMs: init.ms, checks });
      }
    }
  } finally {
    if (previous && previous !== activeBackendName()) await initBackend(previous);
  }
  ctx.onProgress?.({ done: total, total, message: 'done' });
  return { ok: results.every((r) => r.ok), size, reps, seed, results };
}
