/**
 * Window statistics the feature modules share. Every function reads a window that ENDS at the
 * current step (a view built by `windowAt`), so nothing here can look ahead; a window shorter than
 * asked (the series has not run long enough) gives NaN, which is how a feature says "not yet".
 */

/** The last `len` values of a up to and including step t, as a view (shorter near the start). */
export function windowAt(a: Float64Array, t: number, len: number): Float64Array {
  return a.subarray(Math.max(0, t - len + 1), t + 1);
}

/** ln(p_last / p_{last−h}) from a price window; NaN when the window holds fewer than h + 1 prices. */
export function logReturn(prices: Float64Array, h: number): number {
  const n = prices.length;
  if (n < h + 1) return NaN;
  return Math.log(prices[n - 1]! / prices[n - 1 - h]!);
}

/**
 * Annualised realised vol of the last w one-step log returns: √(Σr² / (w·dtYears)) — zero-mean
 * (the usual high-frequency estimator; a w-step mean is noise, not drift). NaN when fewer than
 * w + 1 prices.
 */
export function realisedVol(prices: Float64Array, w: number, dtYears: number): number {
  const n = prices.length;
  if (n < w + 1) return NaN;
  let s = 0;
  for (let i = n - w; i < n; i++) {
    const r = Math.log(prices[i]! / prices[i - 1]!);
    s += r * r;
  }
  return Math.sqrt(s / (w * dtYears));
}

export interface Moments {
  mean: number;
  /** Population std. */
  std: number;
  skew: number;
  /** Excess kurtosis (0 for a normal). */
  kurt: number;
}

/**
 * Moments of the last w one-step log returns (population estimators). A flat window has std 0 and
 * skew = kurt = 0 by convention (not NaN: the window is full, there is simply no dispersion).
 */
export function returnMoments(prices: Float64Array, w: number): Moments {
  const n = prices.length;
  if (n < w + 1) return { mean: NaN, std: NaN, skew: NaN, kurt: NaN };
  let s1 = 0;
  for (let i = n - w; i < n; i++) s1 += Math.log(prices[i]! / prices[i - 1]!);
  const mean = s1 / w;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = n - w; i < n; i++) {
    const d = Math.log(prices[i]! / prices[i - 1]!) - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= w;
  m3 /= w;
  m4 /= w;
  // Below ~1e-30 (returns equal to ~1e-15) the ratios are rounding noise.
  if (m2 < 1e-30) return { mean, std: Math.sqrt(m2), skew: 0, kurt: 0 };
  return { mean, std: Math.sqrt(m2), skew: m3 / m2 ** 1.5, kurt: m4 / (m2 * m2) - 3 };
}

/** Mean of the last w values; NaN when fewer. */
export function windowMean(a: Float64Array, w: number): number {
  if (a.length < w) return NaN;
  let s = 0;
  for (let i = a.length - w; i < a.length; i++) s += a[i]!;
  return s / w;
}

/** (max − min) / last over the last w values; NaN when fewer. */
export function windowRange(a: Float64Array, w: number): number {
  if (a.length < w) return NaN;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = a.length - w; i < a.length; i++) {
    lo = Math.min(lo, a[i]!);
    hi = Math.max(hi, a[i]!);
  }
  return (hi - lo) / a[a.length - 1]!;
}

/** ln(x_last) − mean ln x over the last w values (how unusual the latest value is); NaN when fewer. */
export function logLevelVsMean(a: Float64Array, w: number): number {
  if (a.length < w) return NaN;
  let s = 0;
  for (let i = a.length - w; i < a.length; i++) s += Math.log(Math.max(a[i]!, 1e-300));
  return Math.log(Math.max(a[a.length - 1]!, 1e-300)) - s / w;
}
