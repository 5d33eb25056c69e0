/**
 * Moving a surface onto another (k, T) grid, and between spot and forward log-moneyness.
 *
 * Method (interpolation in total variance w = σ²·T, the quantity that is linear-ish in T and
 * whose monotonicity in T is the calendar no-arbitrage condition):
 *  1. at each source maturity T_j, w_j(k) is interpolated linearly in k between the nearest
 *     unmasked points either side of k;
 *  2. across maturities, w(k, T) is interpolated linearly in T between the nearest source
 *     maturities either side of T at which step 1 gave a value; σ = sqrt(w / T).
 * Masked source points are skipped. A target point outside the source's range (in k at every
 * usable maturity, or in T) is masked — never extrapolated — unless `extrapolate: true`, which
 * holds the vol flat beyond the edges (flat σ in k at each maturity; flat σ in T).
 */
import { InputError } from '../errors.ts';
import type { Surface } from './types.ts';
import { gridProblems } from './validate.ts';

export interface ResampleOptions {
  /** Hold vols flat beyond the source grid instead of masking those points. Default false. */
  extrapolate?: boolean;
}

/**
 * Total variance at k from one maturity's points (ks increasing). NaN when k is outside the
 * unmasked range and extrapolation is off, or when the column has no usable point.
 */
export function interpW(ks: ArrayLike<number>, w: ArrayLike<number>, ok: (i: number) => boolean, k: number, extrapolate: boolean): number {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < ks.length; i++) {
    if (!ok(i)) continue;
    if (ks[i]! <= k) lo = i;
    if (ks[i]! >= k && hi < 0) hi = i;
  }
  if (lo >= 0 && hi >= 0) {
    if (lo === hi || ks[hi] === ks[lo]) return w[lo]!;
    const a = (k - ks[lo]!) / (ks[hi]! - ks[lo]!);
    return w[lo]! + a * (w[hi]! - w[lo]!);
  }
  if (!extrapolate) return NaN;
  const edge = lo >= 0 ? lo : hi;
  if (edge < 0) return NaN;
  return w[edge]!; // flat vol in k at fixed T is flat total variance
}

/** Interpolates ln F linearly in T; beyond the ends, F grows at the nearest end's carry rate. */
export function interpForward(tSrc: readonly number[], fSrc: readonly number[], spot: number, t: number): number {
  const n = tSrc.length;
  if (t <= tSrc[0]!) return spot * Math.exp((Math.log(fSrc[0]! / spot) / tSrc[0]!) * t);
  if (t >= tSrc[n - 1]!) return spot * Math.exp((Math.log(fSrc[n - 1]! / spot) / tSrc[n - 1]!) * t);
  let j = 0;
  while (tSrc[j + 1]! < t) j++;
  const a = (t - tSrc[j]!) / (tSrc[j + 1]! - tSrc[j]!);
  return Math.exp(Math.log(fSrc[j]!) + a * (Math.log(fSrc[j + 1]!) - Math.log(fSrc[j]!)));
}

/** Interpolates across maturities at fixed k given w per source maturity (NaN = unavailable). */
export function interpAcrossT(tSrc: readonly number[], wAtK: ArrayLike<number>, t: number, extrapolate: boolean): number {
  let lo = -1;
  let hi = -1;
  for (let j = 0; j < tSrc.length; j++) {
    if (!Number.isFinite(wAtK[j]!)) continue;
    if (tSrc[j]! <= t) lo = j;
    if (tSrc[j]! >= t && hi < 0) hi = j;
  }
  if (lo >= 0 && hi >= 0) {
    if (lo === hi) return wAtK[lo]!;
    const a = (t - tSrc[lo]!) / (tSrc[hi]! - tSrc[lo]!);
    return wAtK[lo]! + a * (wAtK[hi]! - wAtK[lo]!);
  }
  if (!extrapolate) return NaN;
  const edge = lo >= 0 ? lo : hi;
  if (edge < 0) return NaN;
  return (wAtK[edge]! / tSrc[edge]!) * t; // flat vol in T
}

export function resampleSurface(s: Surface, kGrid: readonly number[], tGrid: readonly number[], opts: ResampleOptions = {}): Surface {
  const problems = [...gridProblems(kGrid, 'target k grid'), ...gridProblems(tGrid, 'target T grid', true)];
  if (problems.length) throw new InputError(problems.join('; '), 'resample');
  const extrapolate = opts.extrapolate ?? false;
  const nk0 = s.kGrid.length;
  const nt0 = s.tGrid.length;
  const nk = kGrid.length;
  const nt = tGrid.length;
  const iv = new Float64Array(nk * nt);
  const mask = new Uint8Array(nk * nt);
  const wAtK = new Float64Array(nt0);
  const wCols: Float64Array[] = [];
  for (let j = 0; j < nt0; j++) {
    const w = new Float64Array(nk0);
    for (let i = 0; i < nk0; i++) {
      const v = s.iv[i * nt0 + j]!;
      w[i] = v * v * s.tGrid[j]!;
    }
    wCols.push(w);
  }
  for (let a = 0; a < nk; a++) {
    for (let j = 0; j < nt0; j++) {
      const ok = (i: number) => s.mask?.[i * nt0 + j] !== 1 && Number.isFinite(s.iv[i * nt0 + j]!) && s.iv[i * nt0 + j]! > 0;
      wAtK[j] = interpW(s.kGrid, wCols[j]!, ok, kGrid[a]!, extrapolate);
    }
    for (let b = 0; b < nt; b++) {
      const w = interpAcrossT(s.tGrid, wAtK, tGrid[b]!, extrapolate);
      const idx = a * nt + b;
      if (Number.isFinite(w) && w > 0) iv[idx] = Math.sqrt(w / tGrid[b]!);
      else {
        iv[idx] = NaN;
        mask[idx] = 1;
      }
    }
  }
  const out: Surface = { ...s, kGrid: [...kGrid], tGrid: [...tGrid], iv, mask };
  if (s.forward) out.forward = tGrid.map((t) => interpForward(s.tGrid, s.forward!, s.spot, t));
  return out;
}

/** ATM (k = 0) vol per maturity, interpolated in total variance; NaN where it cannot be. */
export function atmTermStructure(s: Surface): number[] {
  return Array.from(resampleSurface(s, [0], s.tGrid).iv);
}

/** ln(K/S) from ln(K/F): k + ln(F/S). */
export function toSpotMoneyness(kForward: number, forward: number, spot: number): number {
  return kForward + Math.log(forward / spot);
}

/** ln(K/F) from ln(K/S): k − ln(F/S). */
export function toForwardMoneyness(kSpot: number, spot: number, forward: number): number {
  return kSpot - Math.log(forward / spot);
}

/** The forward of maturity j (the spot when the surface carries no forwards: zero carry). */
export function forwardAt(s: Surface, j: number): number {
  return s.forward?.[j] ?? s.spot;
}

/** ln(K/S) of every grid point, row-major like iv (it differs by maturity when F ≠ S). */
export function spotMoneynessGrid(s: Surface): Float64Array {
  const nt = s.tGrid.length;
  const out = new Float64Array(s.kGrid.length * nt);
  for (let i = 0; i < s.kGrid.length; i++) for (let j = 0; j < nt; j++) out[i * nt + j] = toSpotMoneyness(s.kGrid[i]!, forwardAt(s, j), s.spot);
  return out;
}

/** F = S·exp((r − q)·T) per maturity, for sources that give rates instead of forwards. */
export function forwardsFromRates(spot: number, tGrid: readonly number[], r: number, q = 0): number[] {
  return tGrid.map((t) => spot * Math.exp((r - q) * t));
}

export interface SpotGridSurface extends Omit<Surface, 'kGrid'> {
  /** ln(K/S) rows. */
  kSpotGrid: number[];
  forward: number[];
}

/**
 * A surface quoted on a ln(K/S) grid, moved to ln(K/F): each maturity's points sit at
 * k = ln(K/S) − ln(F_j/S); they are re-interpolated (total variance, linear in k) onto kGrid
 * (by default the same numbers as kSpotGrid). Points outside a column's range are masked unless
 * `extrapolate`.
 */
export function surfaceFromSpotGrid(src: SpotGridSurface, kGrid: readonly number[] = src.kSpotGrid, opts: ResampleOptions = {}): Surface {
  const nkS = src.kSpotGrid.length;
  const nt = src.tGrid.length;
  if (src.forward.length !== nt) throw new InputError(`forward has ${src.forward.length} values but t_grid has ${nt}`);
  const nk = kGrid.length;
  const iv = new Float64Array(nk * nt);
  const mask = new Uint8Array(nk * nt);
  for (let j = 0; j < nt; j++) {
    const T = src.tGrid[j]!;
    const shift = Math.log(src.forward[j]! / src.spot);
    const ks = src.kSpotGrid.map((k) => k - shift);
    const w = new Float64Array(nkS);
    for (let i = 0; i < nkS; i++) w[i] = src.iv[i * nt + j]! ** 2 * T;
    const ok = (i: number) => src.mask?.[i * nt + j] !== 1 && Number.isFinite(src.iv[i * nt + j]!) && src.iv[i * nt + j]! > 0;
    for (let a = 0; a < nk; a++) {
      const wa = interpW(ks, w, ok, kGrid[a]!, opts.extrapolate ?? false);
      if (Number.isFinite(wa) && wa > 0) iv[a * nt + j] = Math.sqrt(wa / T);
      else {
        iv[a * nt + j] = NaN;
        mask[a * nt + j] = 1;
      }
    }
  }
  const { kSpotGrid: _drop, ...rest } = src;
  void _drop;
  return { ...rest, kGrid: [...kGrid], iv, mask };
}
