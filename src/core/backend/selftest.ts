/**
 * The backend self-test: does this backend compute what the cpu backend computes, and how fast?
 * Two checks, each run once to compare (and to compile shaders) and once more to time:
 *
 *  1. matmul — a seeded n × n matMul (default 128), compared element by element with the cpu
 *     backend against a rigorous float32 error bound;
 *  2. train — one Adam step of a small conv net (conv 3×3×8 → ReLU → max-pool 2 → dense) on a
 *     seeded [8, 5, 6, 1] batch: loss before and after, gradients and updated weights compared with
 *     the cpu backend. The net is built from patchConv2d / patchMaxPool (selection matMuls), because
 *     the wasm backend has no Conv2DBackpropFilter and would otherwise be unable to train at all.
 *
 * One tfjs backend is active per thread, so the cpu reference is computed first, then each
 * backend in turn; the backend active before the call is restored afterwards.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../math/rng.ts';
import { patchConv2d, patchMaxPool } from '../nn/patchConv.ts';
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

const BATCH: [number, number, number, number] = [8, 5, 6, 1];
const FILTERS = 8;
const LEARNING_RATE = 0.01;
/**
 * Adam's ε, fixed: left unset, tfjs takes it from the backend (1e-7, or 1e-4 where WebGL reports
 * half-float precision), and the backends would then run different algorithms.
 */
const ADAM_EPSILON = 1e-7;

interface TrainInputs {
  x: Float32Array;
  y: Float32Array;
  kernel: Float32Array;
  bias: Float32Array;
  dense: Float32Array;
  denseBias: Float32Array;
}

function pooledSize(): number {
  const [, h, w] = BATCH;
  return Math.ceil(h / 2) * Math.ceil(w / 2) * FILTERS;
}

function trainInputs(seed: number): TrainInputs {
  const rng = Rng.stream(seed, 1);
  const [b, h, w, c] = BATCH;
  const x = seededArray(b * h * w * c, rng);
  const y = seededArray(b, rng);
  // Glorot-like scales so activations stay O(1) and no ReLU is dead for the whole batch.
  const kernel = seededArray(9 * c * FILTERS, rng, Math.sqrt(2 / (9 * c)));
  const bias = seededArray(FILTERS, rng, 0.1);
  const dense = seededArray(pooledSize(), rng, Math.sqrt(1 / pooledSize()));
  const denseBias = seededArray(1, rng, 0.1);
  return { x, y, kernel, bias, dense, denseBias };
}

interface TrainOutputs {
  lossBefore: number;
  lossAfter: number;
  grads: Float32Array[];
  weights: Float32Array[];
}

async function runTrainStep(inp: TrainInputs): Promise<TrainOutputs> {
  const [b, h, w, c] = BATCH;
  const vars = [
    tf.variable(tf.tensor4d(inp.kernel, [3, 3, c, FILTERS]), true, undefined),
    tf.variable(tf.tensor1d(inp.bias), true),
    tf.variable(tf.tensor2d(inp.dense, [pooledSize(), 1]), true),
    tf.variable(tf.tensor1d(inp.denseBias), true),
  ];
  const [kernel, bias, dense, denseBias] = vars as [tf.Variable<tf.Rank.R4>, tf.Variable<tf.Rank.R1>, tf.Variable<tf.Rank.R2>, tf.Variable<tf.Rank.R1>];
  const xs = tf.tensor4d(inp.x, [b, h, w, c]);
  const ys = tf.tensor2d(inp.y, [b, 1]);
  const optimizer = tf.train.adam(LEARNING_RATE, 0.9, 0.999, ADAM_EPSILON);
  const lossFn = () =>
    tf.tidy(() => {
      const conv = tf.relu(patchConv2d(xs, kernel).add(bias)) as tf.Tensor4D;
      const pooled = patchMaxPool(conv, 2, 2).reshape([b, pooledSize()]);
      const pred = tf.matMul(pooled, dense).add(denseBias);
      return tf.losses.meanSquaredError(ys, pred) as tf.Scalar;
    });
  try {
    const before = lossFn();
    const { value, grads } = tf.variableGrads(lossFn, vars);
    value.dispose();
    const gradTensors = vars.map((v) => grads[v.name]!);
    optimizer.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
    const after = lossFn();
    const out: TrainOutputs = {
      lossBefore: (await before.data())[0]!,
      lossAfter: (await after.data())[0]!,
      grads: (await Promise.all(gradTensors.map((g) => g.data()))) as Float32Array[],
      weights: (await Promise.all(vars.map((v) => v.data()))) as Float32Array[],
    };
    tf.dispose([before, after, ...gradTensors]);
    return out;
  } finally {
    optimizer.dispose();
    tf.dispose([xs, ys, ...vars]);
  }
}

/**
 * Tolerances, with why:
 *  - losses: relative 1e-4. The forward pass is three layers of float32 sums of ≤ 72 terms;
 *    differently ordered sums differ by ~1e-6 relative, so 1e-4 leaves two orders of margin
 *    while a wrong kernel (an index slip, a missing bias) changes the loss by far more.
 *  - gradients: 1e-4 · max|g| absolute, same argument one backward pass deeper.
 *  - updated weights: Adam's first step is w − lr·g/(|g|+ε), i.e. ±lr by the SIGN of g. Where
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
  const size = opts.size ?? 128;
  const reps = Math.max(1, opts.reps ?? 1);
  const seed = opts.seed ?? 20240607;
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
        checks.push(await check('train', () => runTrainStep(tr), [refTr, refTrMs], (got) => compareTrain(got, refTr), 'the Adam step differs from cpu beyond tolerance'));
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
