/**
 * Black–Scholes prices, greeks and implied volatility (continuous r and q).
 *
 * Implied volatility works on the normalised out-of-the-money price (Jäckel's convention):
 *     b(x, s) = e^{x/2} Φ(x/s + s/2) − e^{−x/2} Φ(x/s − s/2),  x = ln(F/K) ≤ 0, s = σ√T,
 * (an OTM put is the call with −x). b rises from 0 to e^{x/2}, convex below the inflection point
 * s_c = √(2|x|) and concave above. The inversion is a safeguarded Newton iteration: on ln b below
 * s_c (where b is tiny and Newton on b itself crawls) and on b above it, with a bracket kept
 * throughout so a step never leaves it (bisection otherwise). The normal CDF is accurate in
 * relative terms deep into the tail (math/normal.ts), so the result is right to a few ulps of s
 * wherever the price itself carries that information: the round-trip test states where that is.
 * A price outside the no-arbitrage bounds gives NaN and the reason — never a wrong number.
 */
import { gaussLegendre } from '../math/gaussLegendre.ts';
import { normCdf, normPdf } from '../math/normal.ts';

export interface BsInput {
  /** Spot; ignored when forward is given. */
  spot?: number;
  /** Forward for maturity T; default spot·e^{(r−q)T}. */
  forward?: number;
  strike: number;
  /** Years. */
  T: number;
  r?: number;
  q?: number;
  isCall: boolean;
}

function forwardOf(o: BsInput): number {
  if (o.forward !== undefined) return o.forward;
  if (o.spot === undefined) throw new RangeError('Black–Scholes input needs spot or forward');
  return o.spot * Math.exp(((o.r ?? 0) - (o.q ?? 0)) * o.T);
}

/** Present value of a European option with volatility vol. */
export function bsPrice(vol: number, o: BsInput): number {
  const F = forwardOf(o);
  const D = Math.exp(-(o.r ?? 0) * o.T);
  const K = o.strike;
  const s = vol * Math.sqrt(o.T);
  const intrinsic = Math.max(o.isCall ? F - K : K - F, 0);
  if (!(s > 0)) return D * intrinsic;
  // Through the normalised OTM price, so an OTM price keeps its relative accuracy.
  const x = -Math.abs(Math.log(F / K));
  return D * (Math.sqrt(F * K) * normalisedOtmCall(x, s) + intrinsic);
}

/** ∂price/∂vol. */
export function bsVega(vol: number, o: BsInput): number {
  const F = forwardOf(o);
  const D = Math.exp(-(o.r ?? 0) * o.T);
  const sT = Math.sqrt(o.T);
  const s = vol * sT;
  if (!(s > 0)) return 0;
  const d1 = Math.log(F / o.strike) / s + 0.5 * s;
  return D * F * normPdf(d1) * sT;
}

export interface Greeks {
  price: number;
  /** ∂V/∂S */
  delta: number;
  /** ∂²V/∂S² */
  gamma: number;
  /** ∂V/∂σ (per unit vol, not per vol point) */
  vega: number;
  /** ∂V/∂t (calendar time passing, per year: −∂V/∂T) */
  theta: number;
  /** ∂V/∂r */
  rho: number;
  /** ∂²V/∂S∂σ */
  vanna: number;
  /** ∂²V/∂σ² */
  volga: number;
}

/** All first-order greeks plus gamma, vanna and volga, with respect to spot (needs spot). */
export function greeks(vol: number, o: BsInput): Greeks {
  if (o.spot === undefined) throw new RangeError('greeks need the spot');
  const S = o.spot;
  const r = o.r ?? 0;
  const q = o.q ?? 0;
  const T = o.T;
  const K = o.strike;
  const sT = Math.sqrt(T);
  const s = vol * sT;
  const F = S * Math.exp((r - q) * T);
  const Dr = Math.exp(-r * T);
  const Dq = Math.exp(-q * T);
  const d1 = Math.log(F / K) / s + 0.5 * s;
  const d2 = d1 - s;
  const pdf = normPdf(d1);
  const cp = o.isCall ? 1 : -1;
  const price = bsPrice(vol, { ...o, forward: F });
  const delta = cp * Dq * normCdf(cp * d1);
  const gamma = (Dq * pdf) / (S * s);
  const vega = S * Dq * pdf * sT;
  const theta = (-S * Dq * pdf * vol) / (2 * sT) - cp * r * K * Dr * normCdf(cp * d2) + cp * q * S * Dq * normCdf(cp * d1);
  const rho = cp * K * T * Dr * normCdf(cp * d2);
  const vanna = (-Dq * pdf * d2) / vol;
  const volga = (vega * d1 * d2) / vol;
  return { price, delta, gamma, vega, theta, rho, vanna, volga };
}

const GL8 = gaussLegendre(8);

/**
 * Normalised OTM call b(x, s), x ≤ 0. For small s the textbook difference of two nearly equal
 * terms loses up to ~1/s digits (at s = 5e-4, one standard deviation out: 3.6 digits), so it is
 * rewritten as b = e^{x/2}[Φ(h+t) − Φ(h−t)] + 2 sinh(x/2) Φ(h−t), h = x/s, t = s/2, with the
 * bracket taken as ∫ φ over [h−t, h+t] by 8-point Gauss–Legendre (exact to rounding on an
 * interval this short, 2t < 0.2); the remaining cancellation is only the Mills-ratio factor ~h².
 * Above t = 0.1 the direct form loses at most ~1.5 digits, which the round-trip test bounds.
 */
export function normalisedOtmCall(x: number, s: number): number {
  if (s <= 0) return 0;
  const h = x / s;
  const t = 0.5 * s;
  if (t < 0.1 && -2 * h * t < 1) {
    let diff = 0;
    for (let j = 0; j < 8; j++) diff += GL8.weights[j]! * normPdf(h + t * GL8.nodes[j]!);
    diff *= t;
    return Math.exp(0.5 * x) * diff + 2 * Math.sinh(0.5 * x) * normCdf(h - t);
  }
  return Math.exp(0.5 * x) * normCdf(h + t) - Math.exp(-0.5 * x) * normCdf(h - t);
}

export interface ImpliedVolResult {
  /** Implied volatility (annualised), NaN when there is none. */
  iv: number;
  /** Why iv is NaN. */
  reason?: string;
  /** Newton / bisection steps taken (diagnostics). */
  iterations?: number;
}

/**
 * s = σ√T with b(x, s) = beta, for x ≤ 0 and 0 < beta < e^{x/2}; NaN with the reason otherwise.
 */
export function normalisedImpliedStdDev(beta: number, x: number): ImpliedVolResult {
  if (!(x <= 0)) return { iv: NaN, reason: 'log-moneyness must be ≤ 0 (use the OTM side)' };
  const bMax = Math.exp(0.5 * x);
  if (!Number.isFinite(beta)) return { iv: NaN, reason: 'price is not a finite number' };
  if (beta <= 0) return { iv: NaN, reason: 'price is at or below intrinsic value (no time value)' };
  if (beta >= bMax) return { iv: NaN, reason: 'price is at or above the no-arbitrage upper bound' };
  const sc = Math.sqrt(-2 * x);
  const bc = normalisedOtmCall(x, sc);
  const useLog = beta < bc;
  const lnBeta = Math.log(beta);
  let lo = 0;
  let hi = Infinity;
  // Start at the inflection point (monotone Newton in the upper region); at the money b ≤ s/√(2π)
  // with equality as s → 0, so √(2π)·b is a lower bound from which Newton on the concave b climbs.
  // Below it, the larger of two lower-region guesses: ln b ≈ −x²/(2s²) + c (matched at s_c; good
  // far out of the money) and Corrado–Miller (good near the money).
  let s = x === 0 ? 2.5066282746310002 * beta : sc;
  if (useLog) {
    const asym = -x / Math.sqrt(2 * (Math.log(bc) - lnBeta) - 0.5 * x);
    const fk = Math.exp(0.5 * x) - Math.exp(-0.5 * x);
    const a = beta - 0.5 * fk;
    const cm = (2.5066282746310002 / (2 * Math.cosh(0.5 * x))) * (a + Math.sqrt(Math.max(0, a * a - (fk * fk) / Math.PI)));
    s = cm > asym && cm < sc ? cm : asym;
  }
  for (let it = 0; it < 100; it++) {
    const b = normalisedOtmCall(x, s);
    const vega = Math.exp(0.5 * x) * normPdf(x / s + 0.5 * s);
    if (b > beta) hi = Math.min(hi, s);
    else if (b < beta) lo = Math.max(lo, s);
    else if (b === beta) return { iv: s, iterations: it + 1 };
    // A non-finite b or vega (underflow far from the root) makes the step non-finite, and the
    // safeguard below bisects instead.
    let step: number;
    if (useLog) step = b > 0 ? ((Math.log(b) - lnBeta) * b) / vega : -Infinity;
    else step = (b - beta) / vega;
    let next = s - step;
    let newton = true;
    if (!(next > lo && next < hi) || !Number.isFinite(next)) {
      next = hi === Infinity ? Math.max(2 * s, lo * 2) : 0.5 * (lo + hi);
      newton = false;
    }
    // Newton converges quadratically: once a Newton step is below 1e-9·s the next error is far
    // below one ulp, so stop instead of dithering in rounding noise.
    if (newton && Math.abs(next - s) <= 1e-9 * s) return { iv: next, iterations: it + 1 };
    s = next;
    if (hi - lo <= 2e-16 * s) return { iv: s, iterations: it + 1 };
  }
  return { iv: s, iterations: 100 };
}

/**
 * Implied volatility of a European option price (present value), using the OTM side: an ITM
 * price is converted by put–call parity first.
 */
export function impliedVol(price: number, o: BsInput): ImpliedVolResult {
  if (!Number.isFinite(price)) return { iv: NaN, reason: 'price is not a finite number' };
  if (!(o.T > 0)) return { iv: NaN, reason: 'maturity must be positive' };
  if (!(o.strike > 0)) return { iv: NaN, reason: 'strike must be positive' };
  const F = forwardOf(o);
  if (!(F > 0)) return { iv: NaN, reason: 'forward must be positive' };
  const D = Math.exp(-(o.r ?? 0) * o.T);
  const K = o.strike;
  let undiscounted = price / D;
  let isCall = o.isCall;
  // Work on the OTM side: call for K ≥ F, put for K < F.
  if (isCall !== K >= F) {
    undiscounted = isCall ? undiscounted - (F - K) : undiscounted + (F - K);
    isCall = !isCall;
  }
  if (undiscounted < 0) return { iv: NaN, reason: 'price is below intrinsic value' };
  const x = isCall ? Math.log(F / K) : Math.log(K / F);
  const beta = undiscounted / Math.sqrt(F * K);
  const r = normalisedImpliedStdDev(beta, x);
  return Number.isNaN(r.iv) ? r : { iv: r.iv / Math.sqrt(o.T) };
}
