/**
 * computePnlStats — the original design's compute_pnl_stats (VII.4: pnl, sharpe, max_drawdown, avg_ret,
 * vol_ret) widened to the statistics empyrical (the library behind pyfolio and FinRL's reports)
 * prints, with empyrical's conventions so the numbers can be compared with a Python notebook:
 *
 *   r_i = e_i / e_{i−1} − 1 (simple returns, i = 1…n), zero risk-free rate
 *   avg_ret = mean(r)                 vol_ret = std(r, ddof 1)
 *   sharpe  = avg_ret / vol_ret · √ppy
 *   sortino = mean(r)·ppy / (√mean(min(r, 0)²) · √ppy)        (downside over ALL n, ddof 0)
 *   max_drawdown = min(e / running max(e) − 1) ≤ 0             (e_0 included)
 *   total_return = e_n / e_0 − 1      annual_return = (e_n / e_0)^(ppy / n) − 1
 *   annual_vol = vol_ret · √ppy       calmar = annual_return / |max_drawdown|
 *   pnl = e_n − e_0
 *   turnover = mean_i |units_i − units_{i−1}| · p_i / e_{i−1}     (units_{−1} = 0: the first
 *              trade from flat counts, so buy-and-hold pays one unit of turnover over n steps)
 *   exposure = mean_i |units_i · p_i / e_{i−1}|
 *   hit_rate = share of r_i > 0 among the steps that held a position (units_i ≠ 0)
 *
 * null where a denominator is 0 (sharpe and sortino with no dispersion / no losing step, calmar
 * without a drawdown, hit_rate without a position) or the input cannot define it (vol with n < 2;
 * turnover, exposure and hit_rate without positions). JSON has no NaN, and a user should see "not
 * defined", not a number. periods_per_year comes from the bar interval on a 365-day year
 * (periodsPerYearOf: 8760 for hourly bars).
 *
 * Beside the point estimate, a backtest reports how far luck could carry it: sharpeBootstrapCi
 * (seeded percentile bootstrap, 95 %) and probabilisticSharpeRatio (Bailey & López de Prado 2012:
 * P(true SR > 0) given n, skew and kurtosis of the returns).
 */
import { InputError } from '../errors.ts';
import { normCdf } from '../math/normal.ts';
import { Rng } from '../math/rng.ts';

export interface PnlStats {
  pnl: number;
  sharpe: number | null;
  max_drawdown: number;
  avg_ret: number;
  vol_ret: number | null;
  total_return: number;
  annual_return: number;
  annual_vol: number | null;
  sortino: number | null;
  calmar: number | null;
  turnover: number | null;
  exposure: number | null;
  hit_rate: number | null;
}

/** Positions behind an equity curve: units_i held over return i, set at price p_i. Both [n]. */
export interface Positions {
  units: ArrayLike<number>;
  prices: ArrayLike<number>;
}

/** Named Rng stream ids of this module (Rng.stream(seed, id)). */
export const PNL_STREAM = { bootstrap: 0x5e11 } as const;

/** Bars per 365-day year for a bar interval in years (hourly 1/8760 → 8760). Rounds away float noise. */
export function periodsPerYearOf(dtYears: number): number {
  if (!(dtYears > 0) || !Number.isFinite(dtYears)) throw new InputError(`must be a positive number of years, got ${dtYears}`, 'dtYears');
  const p = 1 / dtYears;
  const r = Math.round(p);
  return Math.abs(p - r) < 1e-6 * p ? r : p;
}

/** Simple returns of an equity curve; InputError on fewer than 2 points or a non-positive value. */
export function simpleReturns(equity: ArrayLike<number>, where = 'equity'): Float64Array {
  if (equity.length < 2) throw new InputError(`needs at least 2 values, got ${equity.length}`, where);
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (!Number.isFinite(e) || e <= 0) throw new InputError(`element ${i} must be a positive finite number, got ${e}`, where);
  }
  const r = new Float64Array(equity.length - 1);
  for (let i = 1; i < equity.length; i++) r[i - 1] = equity[i]! / equity[i - 1]! - 1;
  return r;
}

function mean(r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i]!;
  return s / r.length;
}

/** Sample std (ddof 1), null for fewer than 2 values. */
function std1(r: ArrayLike<number>, m: number): number | null {
  if (r.length < 2) return null;
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i]! - m) ** 2;
  return Math.sqrt(s / (r.length - 1));
}

function ratio(num: number, den: number | null): number | null {
  return den === null || den === 0 ? null : num / den;
}

export function computePnlStats(equity: ArrayLike<number>, periodsPerYear: number, positions?: Positions, where = 'equity'): PnlStats {
  if (!(periodsPerYear > 0) || !Number.isFinite(periodsPerYear)) throw new InputError(`must be positive, got ${periodsPerYear}`, 'periods_per_year');
  const r = simpleReturns(equity, where);
  const n = r.length;
  const e0 = equity[0]!;
  const en = equity[n]!;
  const avg = mean(r);
  const vol = std1(r, avg);
  let down = 0;
  for (let i = 0; i < n; i++) down += Math.min(r[i]!, 0) ** 2;
  down = Math.sqrt(down / n);
  let peak = -Infinity;
  let mdd = 0;
  for (let i = 0; i <= n; i++) {
    peak = Math.max(peak, equity[i]!);
    mdd = Math.min(mdd, equity[i]! / peak - 1);
  }
  const annualReturn = (en / e0) ** (periodsPerYear / n) - 1;
  const sqrtP = Math.sqrt(periodsPerYear);

  let turnover: number | null = null;
  let exposure: number | null = null;
  let hitRate: number | null = null;
  if (positions) {
    const { units, prices } = positions;
    if (units.length !== n) throw new InputError(`has ${units.length} entries, expected one per return (${n})`, `${where}: units`);
    if (prices.length !== n) throw new InputError(`has ${prices.length} entries, expected one per return (${n})`, `${where}: prices`);
    let to = 0;
    let ex = 0;
    let held = 0;
    let hits = 0;
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const u = units[i]!;
      const p = prices[i]!;
      if (!Number.isFinite(u) || !Number.isFinite(p)) throw new InputError(`row ${i}: units and price must be finite`, where);
      const e = equity[i]!;
      to += (Math.abs(u - prev) * p) / e;
      ex += Math.abs((u * p) / e);
      if (u !== 0) {
        held++;
        if (r[i]! > 0) hits++;
      }
      prev = u;
    }
    turnover = to / n;
    exposure = ex / n;
    hitRate = held > 0 ? hits / held : null;
  }

  return {
    pnl: en - e0,
    sharpe: vol === null ? null : ratio(avg * sqrtP, vol),
    max_drawdown: mdd,
    avg_ret: avg,
    vol_ret: vol,
    total_return: en / e0 - 1,
    annual_return: annualReturn,
    annual_vol: vol === null ? null : vol * sqrtP,
    sortino: ratio(avg * periodsPerYear, down * sqrtP),
    calmar: ratio(annualReturn, Math.abs(mdd)),
    turnover,
    exposure,
    hit_rate: hitRate,
  };
}

/** Population skewness and Pearson (non-excess) kurtosis, as scipy.stats with bias=True; null without dispersion. */
export function returnMoments(r: ArrayLike<number>): { skew: number; kurtosis: number } | null {
  const m = mean(r);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < r.length; i++) {
    const d = r[i]! - m;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= r.length;
  m3 /= r.length;
  m4 /= r.length;
  if (m2 === 0) return null;
  return { skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/**
 * Probabilistic Sharpe ratio against a benchmark SR* (per period, default 0):
 *   PSR = Φ( (SR − SR*)·√(n − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4·SR²) ),
 * SR the per-period (not annualised) Sharpe of the n returns, γ₃ skew, γ₄ Pearson kurtosis.
 * null without dispersion or with fewer than 3 returns.
 */
export function probabilisticSharpeRatio(r: ArrayLike<number>, benchmarkSr = 0): number | null {
  if (r.length < 3) return null;
  const m = mean(r);
  const s = std1(r, m);
  const mom = returnMoments(r);
  if (!s || !mom) return null;
  const sr = m / s;
  const den = 1 - mom.skew * sr + ((mom.kurtosis - 1) / 4) * sr * sr;
  // den > 0 always for real data (it is a variance ratio); guard against float cancellation.
  if (!(den > 0)) return null;
  return normCdf(((sr - benchmarkSr) * Math.sqrt(r.length - 1)) / Math.sqrt(den));
}

export interface BootstrapOptions {
  seed: number;
  /** Resamples (default 2000: the 2.5 % quantile then rests on 50 draws). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /**
   * Block length of a circular block bootstrap (default 1 = iid). Returns with serial dependence
   * (a trend-following policy's) want blocks of ~n^(1/3) so the resample keeps it.
   */
  blockLength?: number;
}

/**
 * Percentile bootstrap interval of the annualised Sharpe: resample the n returns with replacement
 * (in blocks), recompute the Sharpe, take the (1 − level)/2 and (1 + level)/2 quantiles. Seeded
 * from Rng.stream(seed, PNL_STREAM.bootstrap): same seed, same interval. null when the returns
 * have no dispersion (every resample's Sharpe is undefined) or there are fewer than 3.
 */
export function sharpeBootstrapCi(r: ArrayLike<number>, periodsPerYear: number, opts: BootstrapOptions): [number, number] | null {
  const n = r.length;
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  const block = Math.max(1, Math.min(n, Math.floor(opts.blockLength ?? 1)));
  if (n < 3) return null;
  const rng = Rng.stream(opts.seed, PNL_STREAM.bootstrap);
  const srs: number[] = [];
  const sqrtP = Math.sqrt(periodsPerYear);
  for (let b = 0; b < B; b++) {
    let s = 0;
    let s2 = 0;
    let k = 0;
    while (k < n) {
      const start = rng.int(n);
      for (let j = 0; j < block && k < n; j++, k++) {
        const x = r[(start + j) % n]!;
        s += x;
        s2 += x * x;
      }
    }
    const m = s / n;
    const v = (s2 - n * m * m) / (n - 1);
    // A resample with (numerically) no dispersion has no Sharpe; it is left out, not counted as 0.
    if (v > 1e-30) srs.push((m / Math.sqrt(v)) * sqrtP);
  }
  if (srs.length < B / 2) return null;
  srs.sort((a, b) => a - b);
  const q = (p: number) => {
    const x = p * (srs.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(srs.length - 1, lo + 1);
    return srs[lo]! + (srs[hi]! - srs[lo]!) * (x - lo);
  };
  return [q((1 - level) / 2), q((1 + level) / 2)];
}
