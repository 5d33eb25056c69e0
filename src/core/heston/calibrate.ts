/**
 * Heston calibration by Levenberg–Marquardt with the analytic Jacobian.
 *
 * Residuals are implied-vol differences by default (target 'iv'): r = w·(σ_model − σ_market),
 * with σ_model the Black–Scholes inversion of the Float64 Heston OTM price and
 * ∂σ_model/∂p = (∂price/∂p) / vega(σ_model) — the price gradient comes from the characteristic
 * function's analytic derivatives (charfn.ts), one pass per maturity. Target 'price' fits OTM
 * prices in units of spot. Bounds are enforced by projecting each step onto the box; an optional
 * Feller penalty adds the residual λ·max(0, σ² − 2κθ). Damping follows Nielsen (1999) with
 * Marquardt's diagonal scaling, which copes with parameters of very different scales (κ ~ 5,
 * v0 ~ 0.04).
 *
 * Default start (documented in README): v0 = the squared ATM implied vol of the shortest
 * maturity, θ = that of the longest, κ = 2, and ρσ from the short-maturity ATM skew
 * (∂σ/∂k ≈ ρσ/(4√v0)) with σ = 0.5 (raised when that would need |ρ| > 0.8) — the data fix these
 * to within tens of percent, which keeps LM in the right basin far more often than a fixed point.
 */
import { cancellationPoint, withEta, type JobContext } from '../jobs.ts';
import { choleskySolve } from '../math/linalg.ts';
import { Rng } from '../math/rng.ts';
import { bsPrice, bsVega, impliedVol } from './blackScholes.ts';
import { PARAM_BOUNDS, PARAM_NAMES, SEED_PRIOR, fellerRatio, paramsFromArray, paramsToArray, type Bounds, type HestonParams, type ParamName } from './params.ts';
import { LewisControlVariateEngine, type HestonEngine, type SliceOutput } from './pricer.ts';
// The user-facing settings' defaults are declared once there (CLI flags, Pricer page form).
import { DEFAULT_CALIBRATION_SETTINGS } from './calibrationConfig.ts';

/** The quotes of one maturity. NaN (or mask = 1) marks a missing point. */
export interface MaturitySlice {
  /** Years. */
  T: number;
  /** Continuously compounded zero rate and dividend/repo yield to T. */
  r?: number;
  q?: number;
  /** Absolute strikes. */
  strikes: ArrayLike<number>;
  /** Market implied vols (decimals). Needed for target 'iv'. */
  iv?: ArrayLike<number>;
  /** Market OTM prices (present value; put below the forward, call above). Derived from iv when absent. */
  otmPrices?: ArrayLike<number>;
  weights?: ArrayLike<number>;
  /** 1 = ignore this point. */
  mask?: ArrayLike<number>;
}

export interface CalibrationProblem {
  spot: number;
  slices: MaturitySlice[];
}

export interface CalibrationOptions extends JobContext {
  /** Starting point; default from the data (see the module comment). */
  start?: HestonParams;
  /** Total number of starts: the default/given start plus draws from SEED_PRIOR (default 1). */
  multiStart?: number;
  /** Seed for the multi-start draws. */
  seed?: number;
  /** 'iv' (default): residuals in implied vol; 'price': OTM prices / spot. */
  target?: 'iv' | 'price';
  /** Weight λ of the Feller penalty residual λ·max(0, σ² − 2κθ); 0 = off (default). */
  fellerPenalty?: number;
  bounds?: Record<ParamName, Bounds>;
  /** Per start (default 100). */
  maxIterations?: number;
  /** Stop when max |Jᵀr| ≤ gtol (default 1e-12), the relative step ≤ xtol (1e-10) or the relative cost decrease ≤ ftol (1e-14). */
  gtol?: number;
  xtol?: number;
  ftol?: number;
  /**
   * Also stop once the RMS residual is ≤ resTol (levmar's ε3 test; in the residual's units: IV for
   * target 'iv'). Default 0: only an exact fit stops early. On noiseless data LM otherwise spends
   * its last iterations moving parameters by ~1e-9 while the residual sits at the pricer's
   * rounding floor (RMS 2–4e-9 in IV on the seed grid), whatever the start.
   */
  resTol?: number;
  /**
   * Initial Marquardt damping μ0 (the step solves (JᵀJ + μ·diag JᵀJ) h = −Jᵀr; default 1e-3).
   * A start known to be close (a trained network's) can pass a smaller one.
   */
  initialDamping?: number;
  engine?: HestonEngine;
}

export interface CalibrationResult {
  params: HestonParams;
  /** Root-mean-square implied-vol error over the fitted points, in vol points (1 = 0.01). */
  rmseVol: number;
  /** Root-mean-square OTM price error over the fitted points, in units of spot. */
  rmsePrice: number;
  iterations: number;
  ms: number;
  converged: boolean;
  /** Why it stopped, in words. */
  reason: string;
  /** Points fitted. */
  points: number;
  fellerRatio: number;
  /** Characteristic-function evaluations spent. */
  cfEvaluations: number;
  /** Model implied vols per slice (NaN where masked or not invertible). */
  modelIv: Float64Array[];
  /** Starts tried (multi-start) and the final cost of each. */
  starts: { start: HestonParams; cost: number; iterations: number }[];
  /**
   * Parameters that end ON a bound of the box (PARAM_BOUNDS or options.bounds), in PARAM_NAMES
   * order: the optimum is then a constrained one — the data pull the parameter further out than
   * the box allows (percent vols read as decimals put them all there) — and `converged` only says
   * the optimiser's stopping test was met. Empty when the optimum is interior.
   */
  atBounds: ParamName[];
}

/**
 * A parameter counts as at a bound within this distance in LM's coordinates (ln p, atanh ρ): a
 * relative 1e-6 of a positive parameter. The box projection puts a parameter exactly on its
 * bound, so only the round trip through ln/exp (~1e-16) separates it; an interior optimum as
 * close as 1e-6 to a bound is indistinguishable from one on it for any use of the parameters.
 */
export const AT_BOUND_TOL = 1e-6;

/** Which parameters of p sit on a bound of `bounds` (see CalibrationResult.atBounds). */
export function paramsAtBounds(p: HestonParams, bounds: Record<ParamName, Bounds> = PARAM_BOUNDS): ParamName[] {
  const y = new Float64Array(5);
  toY(paramsToArray(p), y);
  const yb = yBounds(bounds);
  return PARAM_NAMES.filter((name, a) => Math.abs(y[a]! - yb[name].lo) <= AT_BOUND_TOL || Math.abs(y[a]! - yb[name].hi) <= AT_BOUND_TOL);
}

interface Point {
  slice: number;
  index: number;
  K: number;
  F: number;
  D: number;
  T: number;
  isCall: boolean;
  iv: number;
  price: number;
  weight: number;
}

interface Prepared {
  spot: number;
  points: Point[];
  slices: { T: number; F: number; D: number; strikes: Float64Array; pointIndex: Int32Array }[];
}

function prepare(problem: CalibrationProblem, target: 'iv' | 'price'): Prepared {
  const points: Point[] = [];
  const slices: Prepared['slices'] = [];
  const S = problem.spot;
  if (!(S > 0)) throw new RangeError(`spot must be positive, got ${S}`);
  problem.slices.forEach((sl, si) => {
    const r = sl.r ?? 0;
    const q = sl.q ?? 0;
    if (!(sl.T > 0)) throw new RangeError(`slice ${si}: maturity must be positive, got ${sl.T}`);
    const F = S * Math.exp((r - q) * sl.T);
    const D = Math.exp(-r * sl.T);
    const idx: number[] = [];
    const ks: number[] = [];
    for (let i = 0; i < sl.strikes.length; i++) {
      const K = sl.strikes[i]!;
      if (sl.mask && sl.mask[i] === 1) continue;
      const isCall = K >= F;
      let iv = sl.iv ? sl.iv[i]! : NaN;
      let price = sl.otmPrices ? sl.otmPrices[i]! : NaN;
      const o = { forward: F, strike: K, T: sl.T, r, isCall };
      if (!Number.isFinite(price) && Number.isFinite(iv)) price = bsPrice(iv, o);
      if (!Number.isFinite(iv) && Number.isFinite(price)) iv = impliedVol(price, o).iv;
      if (target === 'iv' ? !Number.isFinite(iv) : !Number.isFinite(price)) continue;
      const weight = sl.weights ? sl.weights[i]! : 1;
      if (!(weight > 0)) continue;
      idx.push(points.length);
      ks.push(K);
      points.push({ slice: si, index: i, K, F, D, T: sl.T, isCall, iv, price, weight });
    }
    slices.push({ T: sl.T, F, D, strikes: Float64Array.from(ks), pointIndex: Int32Array.from(idx) });
  });
  return { spot: S, points, slices };
}

/** Residuals (and Jacobian, row-major [m × 5]) at p. Returns modelled IVs per point. */
function evaluate(
  p: HestonParams,
  prep: Prepared,
  engine: HestonEngine,
  target: 'iv' | 'price',
  feller: number,
  res: Float64Array,
  jac: Float64Array | null,
  modelIv: Float64Array,
  modelPrice: Float64Array,
): void {
  for (const sl of prep.slices) {
    const nk = sl.strikes.length;
    if (nk === 0) continue;
    const out: SliceOutput = { calls: new Float64Array(nk), puts: new Float64Array(nk), grad: jac ? new Float64Array(5 * nk) : undefined };
    engine.priceSlice(p, sl.T, sl.F, sl.D, sl.strikes, out);
    for (let a = 0; a < nk; a++) {
      const m = sl.pointIndex[a]!;
      const pt = prep.points[m]!;
      const price = pt.isCall ? out.calls[a]! : out.puts[a]!;
      modelPrice[m] = price;
      const o = { forward: pt.F, strike: pt.K, T: pt.T, r: -Math.log(pt.D) / pt.T, isCall: pt.isCall };
      const ivm = impliedVol(price, o).iv;
      modelIv[m] = ivm;
      if (target === 'price') {
        res[m] = (pt.weight * (price - pt.price)) / prep.spot;
        if (jac) for (let k = 0; k < 5; k++) jac[m * 5 + k] = (pt.weight * out.grad![k * nk + a]!) / prep.spot;
      } else {
        // IV residual; where the model price has no implied vol (e.g. below 1e-16 of spot) fall
        // back to the first-order price difference over the market vega.
        const vegaAt = Number.isFinite(ivm) ? ivm : pt.iv;
        const vega = Math.max(bsVega(vegaAt, o), 1e-300);
        res[m] = pt.weight * (Number.isFinite(ivm) ? ivm - pt.iv : (price - pt.price) / vega);
        if (jac) for (let k = 0; k < 5; k++) jac[m * 5 + k] = (pt.weight * out.grad![k * nk + a]!) / vega;
      }
    }
  }
  const m = prep.points.length;
  if (feller > 0) {
    const viol = p.sigma * p.sigma - 2 * p.kappa * p.theta;
    res[m] = viol > 0 ? feller * viol : 0;
    if (jac) {
      jac[m * 5] = viol > 0 ? -2 * feller * p.theta : 0;
      jac[m * 5 + 1] = viol > 0 ? -2 * feller * p.kappa : 0;
      jac[m * 5 + 2] = viol > 0 ? 2 * feller * p.sigma : 0;
      jac[m * 5 + 3] = 0;
      jac[m * 5 + 4] = 0;
    }
  }
}

/** The documented default start: variance levels from the data, the rest mid-range. */
export function defaultStart(problem: CalibrationProblem): HestonParams {
  const prep = prepare(problem, 'iv');
  let first: Point | undefined;
  let last: Point | undefined;
  let tMin = Infinity;
  let tMax = -Infinity;
  for (const pt of prep.points) {
    if (!Number.isFinite(pt.iv)) continue;
    tMin = Math.min(tMin, pt.T);
    tMax = Math.max(tMax, pt.T);
  }
  for (const pt of prep.points) {
    if (!Number.isFinite(pt.iv)) continue;
    const atm = Math.abs(Math.log(pt.K / pt.F));
    if (pt.T === tMin && (!first || atm < Math.abs(Math.log(first.K / first.F)))) first = pt;
    if (pt.T === tMax && (!last || atm < Math.abs(Math.log(last.K / last.F)))) last = pt;
  }
  const v0 = first ? first.iv * first.iv : 0.04;
  const theta = last ? last.iv * last.iv : 0.04;
  // ρσ from the short-maturity ATM skew: ∂σ_imp/∂k → ρσ/(4√v0) as T → 0 (least-squares slope
  // of the shortest slice within |k| ≤ 0.25). Keeps |ρ| ≤ 0.8 by raising σ instead.
  let sk = 0;
  let skk = 0;
  let sv = 0;
  let svk = 0;
  let m = 0;
  for (const pt of prep.points) {
    const k = Math.log(pt.K / pt.F);
    if (pt.T !== tMin || Math.abs(k) > 0.25 || !Number.isFinite(pt.iv)) continue;
    sk += k;
    skk += k * k;
    sv += pt.iv;
    svk += pt.iv * k;
    m++;
  }
  let sigma = 0.5;
  let rho = -0.5;
  const den = m * skk - sk * sk;
  if (m >= 2 && den > 1e-12) {
    const slope = (m * svk - sk * sv) / den;
    const rhoSigma = 4 * Math.sqrt(v0) * slope;
    if (Number.isFinite(rhoSigma)) {
      rho = rhoSigma / sigma;
      if (Math.abs(rho) > 0.8) {
        sigma = Math.min(2, Math.abs(rhoSigma) / 0.8);
        rho = Math.max(-0.95, Math.min(0.5, rhoSigma / sigma));
      }
      rho = Math.max(-0.95, Math.min(0.5, rho));
    }
  }
  return { kappa: 2, theta, sigma, rho, v0 };
}

function clampToBounds(x: Float64Array, bounds: Record<ParamName, Bounds>): void {
  PARAM_NAMES.forEach((name, k) => {
    const b = bounds[name];
    x[k] = Math.min(b.hi, Math.max(b.lo, x[k]!));
  });
}

interface RunResult {
  x: Float64Array;
  cost: number;
  iterations: number;
  converged: boolean;
  reason: string;
}

/**
 * LM works on y = (ln κ, ln θ, ln σ, atanh ρ, ln v0): positivity and |ρ| < 1 hold by
 * construction, relative changes of very different scales become comparable, and ρ → ±1 is
 * infinitely far away — in the raw coordinates LM from a default start sometimes crept along
 * the ρ = −0.999 edge and stalled there (2 of 150 seed-box surfaces).
 */
const toY = (x: ArrayLike<number>, out: Float64Array) => {
  for (let a = 0; a < 5; a++) out[a] = a === 3 ? Math.atanh(x[a]!) : Math.log(x[a]!);
};
const toX = (y: ArrayLike<number>, out: Float64Array) => {
  for (let a = 0; a < 5; a++) out[a] = a === 3 ? Math.tanh(y[a]!) : Math.exp(y[a]!);
};
/** dx/dy per coordinate at x. */
const dxdy = (x: ArrayLike<number>, a: number) => (a === 3 ? 1 - x[a]! * x[a]! : x[a]!);

function yBounds(bounds: Record<ParamName, Bounds>): Record<ParamName, Bounds> {
  const lo = new Float64Array(5);
  const hi = new Float64Array(5);
  toY(PARAM_NAMES.map((n) => bounds[n].lo), lo);
  toY(PARAM_NAMES.map((n) => bounds[n].hi), hi);
  return Object.fromEntries(PARAM_NAMES.map((n, a) => [n, { lo: lo[a]!, hi: hi[a]! }])) as Record<ParamName, Bounds>;
}

async function levenbergMarquardt(
  x0: Float64Array,
  prep: Prepared,
  engine: HestonEngine,
  o: Required<Pick<CalibrationOptions, 'target' | 'fellerPenalty' | 'maxIterations' | 'gtol' | 'xtol' | 'ftol' | 'resTol' | 'initialDamping' | 'bounds'>> & JobContext,
  scratch: { modelIv: Float64Array; modelPrice: Float64Array },
  onIteration: (it: number, cost: number) => void,
  tick: () => Promise<void>,
): Promise<RunResult> {
  const m = prep.points.length + (o.fellerPenalty > 0 ? 1 : 0);
  const n = 5;
  const xStart = Float64Array.from(x0);
  clampToBounds(xStart, o.bounds);
  // From here on x holds the transformed coordinates y (see toY) and bounds are in y.
  const bounds = yBounds(o.bounds);
  const x = new Float64Array(n);
  toY(xStart, x);
  const real = new Float64Array(n);
  const evalAt = (y: Float64Array, r: Float64Array, J: Float64Array | null) => {
    toX(y, real);
    evaluate(paramsFromArray(real), prep, engine, o.target, o.fellerPenalty, r, J, scratch.modelIv, scratch.modelPrice);
    if (J) for (let i = 0; i < m; i++) for (let a = 0; a < n; a++) J[i * n + a] = J[i * n + a]! * dxdy(real, a);
  };
  const done = (r: RunResult): RunResult => {
    toX(r.x, real);
    return { ...r, x: Float64Array.from(real) };
  };
  let res = new Float64Array(m);
  let jac = new Float64Array(m * n);
  let resTry = new Float64Array(m);
  let jacTry = new Float64Array(m * n);
  const A = new Float64Array(n * n);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const xTry = new Float64Array(n);
  const Aμ = new Float64Array(n * n);
  const negG = new Float64Array(n);
  const cost = (r: Float64Array) => {
    let s = 0;
    for (let i = 0; i < r.length; i++) s += r[i]! * r[i]!;
    return 0.5 * s;
  };
  const normal = () => {
    A.fill(0);
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const ri = res[i]!;
      // A point whose model vega underflowed (far from the data) carries no usable slope:
      // leave its row out of the normal equations rather than poison them with Inf/NaN.
      let finite = Number.isFinite(ri);
      for (let a = 0; a < n && finite; a++) finite = Number.isFinite(jac[i * n + a]!) && Math.abs(jac[i * n + a]!) < 1e150;
      if (!finite) continue;
      for (let a = 0; a < n; a++) {
        const ja = jac[i * n + a]!;
        g[a] += ja * ri;
        for (let b = 0; b <= a; b++) A[a * n + b] += ja * jac[i * n + b]!;
      }
    }
    for (let a = 0; a < n; a++) for (let b = 0; b < a; b++) A[b * n + a] = A[a * n + b]!;
  };
  evalAt(x, res, jac);
  let F = cost(res);
  if (!Number.isFinite(F)) return done({ x, cost: F, iterations: 0, converged: false, reason: 'model could not be evaluated at the start point' });
  normal();
  let maxDiag = 0;
  for (let a = 0; a < n; a++) maxDiag = Math.max(maxDiag, A[a * n + a]!);
  let mu = o.initialDamping;
  let nu = 2;
  for (let it = 1; it <= o.maxIterations; it++) {
    // One LM iteration prices every slice once or twice (~0.5–3 ms on the seed grid); the
    // cancellation point yields every 10 ms, so a Cancel lands within ~15 ms.
    await tick();
    let gmax = 0;
    for (let a = 0; a < n; a++) gmax = Math.max(gmax, Math.abs(g[a]!));
    if (gmax <= o.gtol) return done({ x, cost: F, iterations: it - 1, converged: true, reason: 'gradient below gtol' });
    if (F <= 1e-30) return done({ x, cost: F, iterations: it - 1, converged: true, reason: 'exact fit' });
    if (F <= 0.5 * m * o.resTol * o.resTol) return done({ x, cost: F, iterations: it - 1, converged: true, reason: 'RMS residual below resTol' });
    // (A + μ·diag(A)) h = −g, Marquardt scaling; raise μ until the system is positive definite.
    // Active set: a parameter sitting on a bound whose step would push it further out is held
    // fixed and the others re-solved, so the box never shrinks the step of the free ones to
    // nothing (plain projection then stops early with ρ stuck at −0.999).
    const fixed = new Uint8Array(n);
    let solved = false;
    for (let pass = 0; pass < n; pass++) {
      solved = false;
      for (let tries = 0; tries < 20 && !solved; tries++) {
        Aμ.set(A);
        for (let a = 0; a < n; a++) Aμ[a * n + a] = A[a * n + a]! * (1 + mu) + 1e-30 * maxDiag;
        for (let a = 0; a < n; a++) negG[a] = -g[a]!;
        for (let a = 0; a < n; a++) {
          if (!fixed[a]) continue;
          for (let b = 0; b < n; b++) Aμ[a * n + b] = Aμ[b * n + a] = a === b ? 1 : 0;
          negG[a] = 0;
        }
        solved = choleskySolve(Aμ, negG, n, h);
        if (!solved) mu *= 10;
      }
      if (!solved) break;
      let changed = false;
      PARAM_NAMES.forEach((name, a) => {
        const b = bounds[name];
        if (!fixed[a] && ((x[a]! <= b.lo && h[a]! < 0) || (x[a]! >= b.hi && h[a]! > 0))) {
          fixed[a] = 1;
          changed = true;
        }
      });
      if (!changed) break;
    }
    if (!solved) return done({ x, cost: F, iterations: it, converged: false, reason: 'normal equations singular' });
    for (let a = 0; a < n; a++) xTry[a] = x[a]! + h[a]!;
    clampToBounds(xTry, bounds);
    let stepNorm = 0;
    for (let a = 0; a < n; a++) {
      h[a] = xTry[a]! - x[a]!;
      // y are logs (and atanh ρ): an absolute change is a relative change of the parameter.
      stepNorm = Math.max(stepNorm, Math.abs(h[a]!));
    }
    if (stepNorm <= o.xtol) return done({ x, cost: F, iterations: it, converged: true, reason: 'step below xtol' });
    evalAt(xTry, resTry, jacTry);
    const Fnew = cost(resTry);
    // Predicted decrease of the local quadratic model for the (projected) step.
    let pred = 0;
    for (let a = 0; a < n; a++) {
      let Ah = 0;
      for (let b = 0; b < n; b++) Ah += A[a * n + b]! * h[b]!;
      pred -= h[a]! * g[a]! + 0.5 * h[a]! * Ah;
    }
    const rho = pred > 0 ? (F - Fnew) / pred : -1;
    if (Number.isFinite(Fnew) && Fnew < F && rho > 0) {
      const rel = (F - Fnew) / Math.max(F, 1e-300);
      x.set(xTry);
      [res, resTry] = [resTry, res];
      [jac, jacTry] = [jacTry, jac];
      F = Fnew;
      normal();
      mu *= Math.max(1 / 3, 1 - Math.pow(2 * rho - 1, 3));
      nu = 2;
      onIteration(it, F);
      if (rel <= o.ftol) return done({ x, cost: F, iterations: it, converged: true, reason: 'relative cost decrease below ftol' });
    } else {
      mu *= nu;
      nu *= 2;
      if (mu > 1e20) return done({ x, cost: F, iterations: it, converged: true, reason: 'no further decrease possible (damping exhausted)' });
    }
  }
  return done({ x, cost: F, iterations: o.maxIterations, converged: false, reason: `iteration limit ${o.maxIterations} reached` });
}

/**
 * Asynchronous because it yields to the event loop between iterations (a cancellation point every
 * ~10 ms): run synchronously in a worker, an abort message could never be delivered (issue 14:
 * a 12-start calibration ran to the end after Cancel at 5 ms).
 */
export async function calibrate(problem: CalibrationProblem, options: CalibrationOptions = {}): Promise<CalibrationResult> {
  const t0 = performance.now();
  const ctx = withEta({ signal: options.signal, onProgress: options.onProgress });
  const tick = cancellationPoint(options.signal);
  const target = options.target ?? DEFAULT_CALIBRATION_SETTINGS.target;
  const engine = options.engine ?? new LewisControlVariateEngine();
  const cf0 = engine.cfEvaluations;
  const prep = prepare(problem, target);
  if (prep.points.length < 5) throw new RangeError(`calibration needs at least 5 usable quotes, got ${prep.points.length}`);
  const o = {
    target,
    fellerPenalty: options.fellerPenalty ?? DEFAULT_CALIBRATION_SETTINGS.fellerPenalty,
    maxIterations: options.maxIterations ?? DEFAULT_CALIBRATION_SETTINGS.maxIterations,
    gtol: options.gtol ?? 1e-12,
    xtol: options.xtol ?? 1e-10,
    ftol: options.ftol ?? 1e-14,
    resTol: options.resTol ?? 0,
    initialDamping: options.initialDamping ?? 1e-3,
    bounds: options.bounds ?? PARAM_BOUNDS,
    signal: options.signal,
    onProgress: ctx.onProgress,
  };
  const starts: HestonParams[] = [options.start ?? defaultStart(problem)];
  const nStarts = Math.max(1, Math.floor(options.multiStart ?? DEFAULT_CALIBRATION_SETTINGS.multiStart));
  const rng = new Rng(options.seed ?? DEFAULT_CALIBRATION_SETTINGS.seed);
  for (let s = 1; s < nStarts; s++) {
    const a = PARAM_NAMES.map((name) => {
      const d = SEED_PRIOR[name];
      return d.kind === 'logUniform' ? rng.logUniform(d.lo, d.hi) : rng.range(d.lo, d.hi);
    });
    starts.push(paramsFromArray(a));
  }
  const scratch = { modelIv: new Float64Array(prep.points.length), modelPrice: new Float64Array(prep.points.length) };
  let best: RunResult | undefined;
  let totalIt = 0;
  const tried: CalibrationResult['starts'] = [];
  for (let si = 0; si < starts.length; si++) {
    const st = starts[si]!;
    const run = await levenbergMarquardt(
      Float64Array.from(paramsToArray(st)),
      prep,
      engine,
      o,
      scratch,
      (it, cost) => {
        o.onProgress?.({
          // Progress counts starts (the total known up front); the iteration is in the message.
          done: si,
          total: starts.length,
          message: `start ${si + 1}/${starts.length}, iteration ${it}`,
          metrics: { start: si + 1, iteration: it, cost, rmseVol: target === 'iv' ? 100 * Math.sqrt((2 * cost) / prep.points.length) : NaN },
        });
      },
      tick,
    );
    totalIt += run.iterations;
    tried.push({ start: st, cost: run.cost, iterations: run.iterations });
    if (!best || run.cost < best.cost || !Number.isFinite(best.cost)) best = run;
    o.onProgress?.({ done: si + 1, total: starts.length, message: `start ${si + 1}/${starts.length} done`, metrics: { start: si + 1, cost: run.cost } });
  }
  const params = paramsFromArray(best!.x);
  // Final statistics at the best point.
  const m = prep.points.length + (o.fellerPenalty > 0 ? 1 : 0);
  evaluate(params, prep, engine, target, o.fellerPenalty, new Float64Array(m), null, scratch.modelIv, scratch.modelPrice);
  let sIv = 0;
  let nIv = 0;
  let sP = 0;
  const modelIv = problem.slices.map((sl) => new Float64Array(sl.strikes.length).fill(NaN));
  prep.points.forEach((pt, k) => {
    const ivm = scratch.modelIv[k]!;
    modelIv[pt.slice]![pt.index] = ivm;
    if (Number.isFinite(ivm) && Number.isFinite(pt.iv)) {
      sIv += (ivm - pt.iv) ** 2;
      nIv++;
    }
    sP += ((scratch.modelPrice[k]! - pt.price) / prep.spot) ** 2;
  });
  const atBounds = paramsAtBounds(params, o.bounds);
  return {
    params,
    rmseVol: nIv ? 100 * Math.sqrt(sIv / nIv) : NaN,
    rmsePrice: Math.sqrt(sP / prep.points.length),
    iterations: totalIt,
    ms: performance.now() - t0,
    converged: best!.converged,
    reason: atBounds.length ? `${best!.reason}; ${atBounds.join(', ')} ${atBounds.length === 1 ? 'is' : 'are'} on ${atBounds.length === 1 ? 'its' : 'their'} bound (a constrained optimum)` : best!.reason,
    points: prep.points.length,
    fellerRatio: fellerRatio(params),
    cfEvaluations: engine.cfEvaluations - cf0,
    modelIv,
    starts: tried,
    atBounds,
  };
}

/**
 * A calibration problem on a strike × maturity grid (rows strikes, columns maturities, row-major
 * iv with NaN for missing), r and q scalars or per maturity.
 */
export function gridProblem(
  spot: number,
  strikes: ArrayLike<number>,
  maturities: ArrayLike<number>,
  iv: ArrayLike<number>,
  r: number | ArrayLike<number> = 0,
  q: number | ArrayLike<number> = 0,
  mask?: ArrayLike<number>,
  weights?: ArrayLike<number>,
): CalibrationProblem {
  const nk = strikes.length;
  const nt = maturities.length;
  const slices: MaturitySlice[] = [];
  for (let j = 0; j < nt; j++) {
    const col = (a: ArrayLike<number>) => Float64Array.from({ length: nk }, (_, i) => a[i * nt + j]!);
    slices.push({
      T: maturities[j]!,
      r: typeof r === 'number' ? r : r[j]!,
      q: typeof q === 'number' ? q : q[j]!,
      strikes: Float64Array.from(strikes),
      iv: col(iv),
      mask: mask ? col(mask) : undefined,
      weights: weights ? col(weights) : undefined,
    });
  }
  return { spot, slices };
}

/**
 * What calibrateSurface reads of a surface (src/core/surface/types.ts's Surface fits it): declared
 * here because heston sits below surface and may not import it (src/core/layers.ts).
 */
export interface IvGridInput {
  kGrid: readonly number[];
  tGrid: readonly number[];
  /** Row-major [nk × nt], decimals. */
  iv: ArrayLike<number>;
  /** 1 = masked (numpy.ma convention). */
  mask?: ArrayLike<number>;
  spot: number;
  forward?: readonly number[];
  /** A Surface's other fields, admitted so a Surface literal passes as one; calibration ignores them. */
  timestamp?: number;
  source?: string;
  name?: string;
}

/**
 * Calibrates to a Surface (k = ln(K/F)): strikes are F·e^k with F = surface.forward[j] where
 * given, else the spot (zero rates); surface.mask is honoured.
 */
export async function calibrateSurface(surface: IvGridInput, options: CalibrationOptions = {}): Promise<CalibrationResult & { modelSurface: Float64Array }> {
  const nk = surface.kGrid.length;
  const nt = surface.tGrid.length;
  const slices: MaturitySlice[] = surface.tGrid.map((T, j) => {
    const F = surface.forward?.[j] ?? surface.spot;
    // A forward different from spot is represented as a carry q (r = 0) so F = S·e^{−qT}.
    const q = -Math.log(F / surface.spot) / T;
    return {
      T,
      r: 0,
      q,
      strikes: Float64Array.from(surface.kGrid, (k) => F * Math.exp(k)),
      iv: Float64Array.from({ length: nk }, (_, i) => surface.iv[i * nt + j]!),
      mask: surface.mask ? Float64Array.from({ length: nk }, (_, i) => surface.mask![i * nt + j]!) : undefined,
    };
  });
  const res = await calibrate({ spot: surface.spot, slices }, options);
  const modelSurface = new Float64Array(nk * nt);
  for (let j = 0; j < nt; j++) for (let i = 0; i < nk; i++) modelSurface[i * nt + j] = res.modelIv[j]![i]!;
  return { ...res, modelSurface };
}
