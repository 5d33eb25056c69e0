/**
 * BtcHestonFeatureModule (seed II.6): what the BTC option surface and futures say, per step.
 *
 *   kappa theta sigma rho v0        the inverse network's Heston parameters for the step's surface
 *   d_kappa … d_v0                  their change since the previous step (0 when no new surface came)
 *   atm_iv_short, atm_iv_long       ATM (k = 0) IV at the shortest and longest maturity with data
 *                                   (linear in k between the nearest unmasked points either side)
 *   smile_slope_short               ∂σ/∂k at the short end: (σ(k₊) − σ(k₋)) / (k₊ − k₋), the nearest
 *                                   unmasked strikes either side of ATM at the shortest maturity having both
 *   term_slope                      (atm_iv_long − atm_iv_short) / (T_long − T_short), per year
 *   basis                           ln(F/S) of the futures against spot at the step
 *   funding                         the funding rate paid on the step (0 on other steps)
 *   oi_change                       ln(OI_t / OI_{t−1}); 0 when either is unknown (and at step 0)
 *   rv_<w>                          annualised realised vol of spot over the last w steps (zero-mean)
 *   surface_age_h                   hours since the surface in use was observed
 *
 * A step without a fresh, usable surface carries the last one forward (surface_age_h grows, the
 * deltas are 0); no step ever sees a later surface: the context of step t holds the summaries of the
 * latest usable surfaces at or before t and t − 1 only. A surface is unusable when its ATM or slope
 * cannot be read (a fully masked short end); before the first usable one the surface features are NaN.
 */
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import type { InverseCheckpoint } from '../inverse/checkpoint.ts';
import { PARAM_NAMES } from '../heston/params.ts';
import { surfaceTimeAt, type MarketData } from '../market/marketData.ts';
import type { MarketFeatureModule } from './featureEngine.ts';
import { inverseParamsBatch, yieldToCancel } from './inverseBatch.ts';
import { realisedVol, windowAt } from './rolling.ts';

export interface SurfaceSummary {
  /** κ, θ, σ, ρ, v0 from the network. */
  params: Float64Array;
  atmShort: number;
  atmLong: number;
  smileSlopeShort: number;
  termSlope: number;
  /** When the surface was observed (ms UTC). */
  timeMs: number;
}

export interface BtcHestonContext {
  /** Spot prices of the last `lookback` steps, ending at t. */
  spot: Float64Array;
  fut: number;
  funding: number;
  oi: number;
  /** NaN at step 0 (no previous step). */
  oiPrev: number;
  timeMs: number;
  dtYears: number;
  /** Latest usable surface at or before t, and at or before t − 1. */
  surface: SurfaceSummary | null;
  previous: SurfaceSummary | null;
}

const PARAMS = [...PARAM_NAMES];

/** ATM IV of column j by linear interpolation in k between the nearest unmasked points around k = 0. */
function atmAt(iv: ArrayLike<number>, mask: ArrayLike<number>, off: number, kGrid: Float64Array, nt: number, j: number): number {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < kGrid.length; i++) {
    if (mask[off + i * nt + j]) continue;
    if (kGrid[i]! <= 0) lo = i;
    if (kGrid[i]! >= 0 && hi < 0) hi = i;
  }
  if (lo < 0 || hi < 0) return NaN;
  const a = iv[off + lo * nt + j]!;
  if (lo === hi) return a;
  const b = iv[off + hi * nt + j]!;
  const w = (0 - kGrid[lo]!) / (kGrid[hi]! - kGrid[lo]!);
  return a + w * (b - a);
}

/** Slope of column j between the nearest unmasked strikes strictly below and above ATM. */
function slopeAt(iv: ArrayLike<number>, mask: ArrayLike<number>, off: number, kGrid: Float64Array, nt: number, j: number): number {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < kGrid.length; i++) {
    if (mask[off + i * nt + j]) continue;
    if (kGrid[i]! < 0) lo = i;
    if (kGrid[i]! > 0 && hi < 0) hi = i;
  }
  if (lo < 0 || hi < 0) return NaN;
  return (iv[off + hi * nt + j]! - iv[off + lo * nt + j]!) / (kGrid[hi]! - kGrid[lo]!);
}

/** The summary of surface row s (without parameters); null when ATM or slope cannot be read. */
export function summariseSurface(m: MarketData, s: number): Omit<SurfaceSummary, 'params' | 'timeMs'> | null {
  const nt = m.tGrid.length;
  const off = s * m.kGrid.length * nt;
  const atm = Array.from({ length: nt }, (_, j) => atmAt(m.btcIvSurface, m.btcIvMask, off, m.kGrid, nt, j));
  const first = atm.findIndex(Number.isFinite);
  const last = atm.length - 1 - [...atm].reverse().findIndex(Number.isFinite);
  if (first < 0 || last === first) return null;
  let slope = NaN;
  for (let j = 0; j < nt && !Number.isFinite(slope); j++) slope = slopeAt(m.btcIvSurface, m.btcIvMask, off, m.kGrid, nt, j);
  if (!Number.isFinite(slope)) return null;
  return { atmShort: atm[first]!, atmLong: atm[last]!, smileSlopeShort: slope, termSlope: (atm[last]! - atm[first]!) / (m.tGrid[last]! - m.tGrid[first]!) };
}

export interface BtcHestonOptions {
  /** Realised-vol windows in steps. */
  realisedVolWindows: number[];
  /** The inverse network for the market's grid. */
  inverse: InverseCheckpoint;
}

export class BtcHestonFeatureModule implements MarketFeatureModule<BtcHestonContext> {
  readonly name = 'btc';
  readonly featureNames: readonly string[];
  readonly lookback: number;
  readonly notes: string[] = [];
  private readonly windows: number[];
  /** Per step: index into `summaries` of the latest usable surface at or before it, −1 before any. */
  private latest: Int32Array;
  private summaries: SurfaceSummary[] = [];

  constructor(
    private readonly market: MarketData,
    private readonly opts: BtcHestonOptions,
  ) {
    if (!opts.inverse) throw new InputError('the btc module needs an inverse-Heston checkpoint for the market’s grid', 'features.btc');
    this.windows = [...opts.realisedVolWindows];
    if (this.windows.some((w) => !Number.isInteger(w) || w < 2)) throw new InputError(`realised-vol windows must be integers ≥ 2, got ${this.windows.join(', ')}`, 'features.realisedVolWindows');
    this.lookback = Math.max(...this.windows) + 1;
    this.featureNames = [...PARAMS, ...PARAMS.map((p) => `d_${p}`), 'atm_iv_short', 'atm_iv_long', 'smile_slope_short', 'term_slope', 'basis', 'funding', 'oi_change', ...this.windows.map((w) => `rv_${w}`), 'surface_age_h'];
    this.latest = new Int32Array(market.timesMs.length).fill(-1);
  }

  async prepare(ctx: JobContext): Promise<void> {
    const m = this.market;
    const n = m.timesMs.length;
    const rows: number[] = [];
    const partial: Omit<SurfaceSummary, 'params' | 'timeMs'>[] = [];
    for (let s = 0; s < n; s++) {
      if (s % 2048 === 2047) await yieldToCancel(ctx);
      if (!m.hasSurface[s]) continue;
      const sum = summariseSurface(m, s);
      if (!sum) continue;
      rows.push(s);
      partial.push(sum);
    }
    const out = await inverseParamsBatch(this.opts.inverse, m.btcIvSurface, m.btcIvMask, rows, m, `${m.name}: btc_iv_surface`, ctx);
    if (out.outOfDistribution > 0) this.notes.push(`${out.outOfDistribution} of ${rows.length} surfaces lie outside the inverse network’s training data (> 4 training std at some grid point): their parameters are extrapolations`);
    if (rows.length < m.hasSurface.reduce((a, b) => a + b, 0)) this.notes.push(`${m.hasSurface.reduce((a, b) => a + b, 0) - rows.length} surfaces had no readable ATM or short-end slope and were skipped (the previous one carried forward)`);
    this.summaries = rows.map((s, i) => ({ ...partial[i]!, params: out.params.slice(i * 5, i * 5 + 5), timeMs: surfaceTimeAt(m, s) }));
    let j = -1;
    let next = 0;
    for (let s = 0; s < n; s++) {
      if (next < rows.length && rows[next] === s) j = next++;
      this.latest[s] = j;
    }
  }

  contextAt(t: number): BtcHestonContext {
    const m = this.market;
    const cur = this.latest[t]!;
    const prev = t > 0 ? this.latest[t - 1]! : -1;
    return {
      spot: windowAt(m.btcPrices, t, this.lookback),
      fut: m.btcFutPrices[t]!,
      funding: m.btcFunding[t]!,
      oi: m.btcOi[t]!,
      oiPrev: t > 0 ? m.btcOi[t - 1]! : NaN,
      timeMs: m.timesMs[t]!,
      dtYears: m.dtYears,
      surface: cur >= 0 ? this.summaries[cur]! : null,
      previous: prev >= 0 ? this.summaries[prev]! : null,
    };
  }

  computeFeatures(c: BtcHestonContext): Record<string, number> {
    const f: Record<string, number> = {};
    const s = c.surface;
    PARAMS.forEach((p, i) => {
      f[p] = s ? s.params[i]! : NaN;
      f[`d_${p}`] = s && c.previous ? s.params[i]! - c.previous.params[i]! : NaN;
    });
    f.atm_iv_short = s ? s.atmShort : NaN;
    f.atm_iv_long = s ? s.atmLong : NaN;
    f.smile_slope_short = s ? s.smileSlopeShort : NaN;
    f.term_slope = s ? s.termSlope : NaN;
    f.basis = Math.log(c.fut / c.spot[c.spot.length - 1]!);
    f.funding = c.funding;
    f.oi_change = c.oi > 0 && c.oiPrev > 0 ? Math.log(c.oi / c.oiPrev) : 0;
    for (const w of this.windows) f[`rv_${w}`] = realisedVol(c.spot, w, c.dtYears);
    f.surface_age_h = s ? (c.timeMs - s.timeMs) / 3_600_000 : NaN;
    return f;
  }
}
