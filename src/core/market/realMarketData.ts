/**
 * The seed's RealMarketData (chapter VIII.3), assembled from a stored Binance series and a set of
 * stored Deribit snapshots. Each step looks up its own surface: the latest snapshot at or before
 * the step's time within `tolerance` (feeds/alignment). The seed's prototype pasted one surface
 * over the whole series, which lets an agent see tomorrow's vol today; here a step with no
 * snapshot close enough is flagged (hasSurface 0, its iv NaN and fully masked) or dropped.
 */
import { InputError } from '../errors.ts';
import { alignBinanceDeribit } from '../feeds/alignment.ts';
import type { SeriesTable } from '../feeds/series.ts';
import type { Store } from '../store/store.ts';
import type { Surface } from '../surface/types.ts';
import { writeNpz } from '../io/npz.ts';
import { f64 } from '../io/npy.ts';
import { YEAR_MS } from '../surface/types.ts';
import { marketArrays, type MarketData } from './marketData.ts';

export const REAL_MARKET_DATA_VERSION = 1;

export interface RealMarketData {
  version: number;
  name: string;
  symbol: string;
  interval: string;
  /** Step times (ms UTC, candle close). */
  times: number[];
  btcPrices: Float64Array;
  btcFutPrices: Float64Array;
  btcFunding: Float64Array;
  btcOi: Float64Array;
  /** Spot volume per step (absent in data built before it was kept). */
  btcVolumes?: Float64Array;
  kGrid: number[];
  tGrid: number[];
  /** [nSteps, nk, nt] row-major, decimals; NaN where masked or where the step has no surface. */
  btcIvSurface: Float64Array;
  /** [nSteps, nk, nt], 1 = masked (no information). */
  btcIvMask: Uint8Array;
  /**
   * [nSteps, nt]: ln(F/S) per maturity of the step's snapshot (its basis, from Deribit's forwards),
   * NaN where the step has no surface; 0 for a snapshot without forwards (zero carry). The kGrid
   * is ln(K/F): without the basis a user of a step's surface would put strikes at ln(K/S), off by
   * the carry (BTC's basis is often 5–15 % a year). Absent in data built before it existed.
   */
  btcLogBasis?: Float64Array;
  /** Per step: index into surfaceIds, or -1. */
  surfaceIndex: Int32Array;
  /** Per step: 1 when a snapshot lay within tolerance. */
  hasSurface: Uint8Array;
  /** Per step: age of its snapshot at the step (ms), NaN when none. */
  surfaceAgeMs: Float64Array;
  surfaceIds: string[];
  surfaceTimestamps: number[];
  toleranceMs: number;
  /** The seed's "shitcoin" series, when one was given (aligned to the same steps). */
  shitSymbol?: string;
  shitPrices?: Float64Array;
  shitVolumes?: Float64Array;
  shitFunding?: Float64Array;
}

export interface StoredSurface {
  id: string;
  surface: Surface;
}

export interface BuildRealMarketDataArgs {
  name: string;
  series: SeriesTable;
  surfaces: StoredSurface[];
  toleranceMs: number;
  shitcoin?: SeriesTable;
  /** Drop steps without a surface instead of flagging them. */
  dropUnaligned?: boolean;
}

export function buildRealMarketData(args: BuildRealMarketDataArgs): RealMarketData {
  const { series, surfaces, toleranceMs } = args;
  if (series.time.length === 0) throw new InputError('the series has no rows', 'series');
  if (surfaces.length === 0) throw new InputError('no surface snapshots to align with (take or import some first)', 'surfaces');
  const { kGrid, tGrid } = surfaces[0]!.surface;
  for (const { id, surface } of surfaces) {
    if (!sameGrid(surface.kGrid, kGrid) || !sameGrid(surface.tGrid, tGrid)) {
      throw new InputError(`grid differs from the first snapshot's (k ${JSON.stringify(surface.kGrid)}, T ${JSON.stringify(surface.tGrid)} vs k ${JSON.stringify(kGrid)}, T ${JSON.stringify(tGrid)}); resample the snapshots to one grid first`, `surface ${id}`);
    }
  }
  const align = alignBinanceDeribit(series.time, surfaces.map((s) => ({ id: s.id, timestamp: s.surface.timestamp })), toleranceMs);
  let steps = series.time.map((_, i) => i);
  if (args.dropUnaligned) steps = steps.filter((i) => align.surfaceIndex[i]! >= 0);
  if (steps.length === 0) {
    throw new InputError(`no step has a snapshot within ${toleranceMs / 60_000} min (series ${iso(series.time[0]!)} – ${iso(series.time.at(-1)!)}, snapshots ${iso(Math.min(...surfaces.map((s) => s.surface.timestamp)))} – ${iso(Math.max(...surfaces.map((s) => s.surface.timestamp)))})`, 'tolerance');
  }
  const n = steps.length;
  const cells = kGrid.length * tGrid.length;
  const iv = new Float64Array(n * cells).fill(NaN);
  const mask = new Uint8Array(n * cells).fill(1);
  const surfaceIndex = new Int32Array(n);
  const hasSurface = new Uint8Array(n);
  const age = new Float64Array(n);
  const nt = tGrid.length;
  const basis = new Float64Array(n * nt).fill(NaN);
  steps.forEach((row, s) => {
    const j = align.surfaceIndex[row]!;
    surfaceIndex[s] = j;
    age[s] = align.ageMs[row]!;
    if (j < 0) return;
    hasSurface[s] = 1;
    const src = surfaces[j]!.surface;
    for (let t = 0; t < nt; t++) basis[s * nt + t] = src.forward ? Math.log(src.forward[t]! / src.spot) : 0;
    for (let c = 0; c < cells; c++) {
      const m = src.mask?.[c] === 1 || !Number.isFinite(src.iv[c]!);
      mask[s * cells + c] = m ? 1 : 0;
      iv[s * cells + c] = m ? NaN : src.iv[c]!;
    }
  });
  const pick = (xs: number[]) => Float64Array.from(steps, (i) => xs[i]!);
  const out: RealMarketData = {
    version: REAL_MARKET_DATA_VERSION,
    name: args.name,
    symbol: series.symbol,
    interval: series.interval,
    times: steps.map((i) => series.time[i]!),
    btcPrices: pick(series.closeSpot),
    btcFutPrices: pick(series.closeFut),
    btcFunding: pick(series.fundingRate),
    btcOi: pick(series.openInterest),
    btcVolumes: pick(series.volumeSpot),
    kGrid: [...kGrid],
    tGrid: [...tGrid],
    btcIvSurface: iv,
    btcIvMask: mask,
    btcLogBasis: basis,
    surfaceIndex,
    hasSurface,
    surfaceAgeMs: age,
    surfaceIds: surfaces.map((s) => s.id),
    surfaceTimestamps: surfaces.map((s) => s.surface.timestamp),
    toleranceMs,
  };
  if (args.shitcoin) {
    const sc = args.shitcoin;
    // Same interval, same candle close times: an exact join; a missing candle reads NaN.
    const byTime = new Map(sc.time.map((t, i) => [t, i]));
    const at = (xs: number[]) => Float64Array.from(out.times, (t) => (byTime.has(t) ? xs[byTime.get(t)!]! : NaN));
    out.shitSymbol = sc.symbol;
    out.shitPrices = at(sc.closeSpot);
    out.shitVolumes = at(sc.volumeSpot);
    out.shitFunding = at(sc.fundingRate);
  }
  return out;
}

function sameGrid(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < 1e-12);
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 16) + 'Z';
}

/**
 * Step `step`'s surface as a Surface, or null when the step has none. Its spot is the step's
 * price and its forwards that spot carried by the snapshot's basis, so k = ln(K/F) maps to the
 * strikes the snapshot meant.
 */
export function surfaceAtStep(d: RealMarketData, step: number): Surface | null {
  if (!d.hasSurface[step]) return null;
  const cells = d.kGrid.length * d.tGrid.length;
  const nt = d.tGrid.length;
  const spot = d.btcPrices[step]!;
  const out: Surface = {
    kGrid: d.kGrid,
    tGrid: d.tGrid,
    iv: d.btcIvSurface.slice(step * cells, (step + 1) * cells),
    mask: d.btcIvMask.slice(step * cells, (step + 1) * cells),
    spot,
    timestamp: d.surfaceTimestamps[d.surfaceIndex[step]!]!,
    source: `realMarketData:${d.name}`,
  };
  if (d.btcLogBasis) out.forward = Array.from(d.btcLogBasis.subarray(step * nt, (step + 1) * nt), (b) => spot * Math.exp(b));
  return out;
}

const KEY_PREFIX = 'realMarketData/';

export async function saveRealMarketData(store: Store, data: RealMarketData): Promise<void> {
  if (!data.name.trim()) throw new InputError('a name is needed to store market data', 'name');
  await store.set(KEY_PREFIX + data.name, data);
}

export async function listRealMarketData(store: Store): Promise<string[]> {
  return (await store.keys(KEY_PREFIX)).map((k) => k.slice(KEY_PREFIX.length));
}

/** Loads and checks a stored RealMarketData (shapes agree, version known). */
export async function loadRealMarketData(store: Store, name: string): Promise<RealMarketData> {
  const d = await store.get<RealMarketData>(KEY_PREFIX + name);
  const where = `realMarketData/${name}`;
  if (!d) throw new InputError('not found', where);
  if (d.version !== REAL_MARKET_DATA_VERSION) throw new InputError(`unknown version ${d.version}`, where);
  const n = d.times.length;
  const cells = d.kGrid.length * d.tGrid.length;
  for (const [key, len] of [['btcPrices', n], ['btcFutPrices', n], ['btcFunding', n], ['btcOi', n], ['surfaceIndex', n], ['hasSurface', n], ['btcIvSurface', n * cells], ['btcIvMask', n * cells]] as const) {
    if (d[key]?.length !== len) throw new InputError(`${key} has ${d[key]?.length} values, expected ${len}`, where);
  }
  if (d.btcLogBasis && d.btcLogBasis.length !== n * d.tGrid.length) throw new InputError(`btcLogBasis has ${d.btcLogBasis.length} values, expected ${n * d.tGrid.length}`, where);
  return d;
}

/** Binance pays USD-M funding every 8 hours, at 00:00, 08:00 and 16:00 UTC. */
export const FUNDING_PERIOD_MS = 8 * 3_600_000;

/**
 * The MarketData form (src/core/market/marketData.ts) of a RealMarketData, which is what the
 * FeatureEngine and the TradingEnv read. Three things change meaning on the way:
 *  - btcFunding: the series holds the rate IN FORCE at every row; MarketData holds the rate PAID on
 *    the step whose bar (t_{s−1}, t_s] contains a funding time (a multiple of 8 h UTC), 0 on the
 *    other steps (a step with an unknown rate pays 0);
 *  - btcSurfaceTimesMs: each step's snapshot time, so a feature can say how old its surface is;
 *  - shit_*: a missing shitcoin candle repeats the last close (volume 0, funding 0) — never a later
 *    one; rows before the coin's first candle hold that first close (flat, no return), because
 *    MarketData refuses NaN prices.
 */
export function toMarketData(d: RealMarketData): MarketData {
  const n = d.times.length;
  const timesMs = Float64Array.from(d.times);
  const paid = new Uint8Array(n);
  for (let s = 0; s < n; s++) {
    const t = timesMs[s]!;
    // Bar s covers (t_{s−1}, t_s]; the first bar is taken to cover only its close.
    const prev = s > 0 ? timesMs[s - 1]! : t - 1;
    paid[s] = Math.floor(t / FUNDING_PERIOD_MS) > Math.floor(prev / FUNDING_PERIOD_MS) ? 1 : 0;
  }
  const paidRate = (rates: ArrayLike<number> | undefined, s: number) => {
    const r = rates?.[s];
    return paid[s] && r !== undefined && Number.isFinite(r) ? r : 0;
  };
  const funding = Float64Array.from({ length: n }, (_, s) => paidRate(d.btcFunding, s));
  const surfaceTimes = Float64Array.from(d.surfaceIndex, (j) => (j >= 0 ? d.surfaceTimestamps[j]! : NaN));
  const diffs = Array.from({ length: n - 1 }, (_, i) => timesMs[i + 1]! - timesMs[i]!).sort((a, b) => a - b);
  const m: MarketData = {
    name: d.name,
    timesMs,
    dtYears: (diffs.length ? diffs[Math.floor(diffs.length / 2)]! : 3_600_000) / YEAR_MS,
    btcPrices: Float64Array.from(d.btcPrices),
    btcFutPrices: Float64Array.from(d.btcFutPrices),
    btcFunding: funding,
    btcOi: Float64Array.from(d.btcOi),
    kGrid: Float64Array.from(d.kGrid),
    tGrid: Float64Array.from(d.tGrid),
    btcIvSurface: d.btcIvSurface,
    btcIvMask: d.btcIvMask,
    hasSurface: d.hasSurface,
    btcSurfaceTimesMs: surfaceTimes,
  };
  if (d.btcLogBasis) m.btcLogBasis = d.btcLogBasis;
  if (d.btcVolumes) m.btcVolumes = Float64Array.from(d.btcVolumes, (v) => (Number.isFinite(v) ? v : 0));
  if (d.shitPrices) {
    const first = d.shitPrices.findIndex((p) => Number.isFinite(p) && p > 0);
    if (first < 0) throw new InputError('the shitcoin series has no price on any step', `realMarketData/${d.name}: shitPrices`);
    const prices = new Float64Array(n);
    const vols = new Float64Array(n);
    const fund = new Float64Array(n);
    let last = d.shitPrices[first]!;
    for (let s = 0; s < n; s++) {
      const p = d.shitPrices[s]!;
      const fresh = Number.isFinite(p) && p > 0;
      if (fresh) last = p;
      prices[s] = last;
      const v = d.shitVolumes?.[s];
      vols[s] = fresh && v !== undefined && Number.isFinite(v) ? v : 0;
      fund[s] = paidRate(d.shitFunding, s);
    }
    m.shitPrices = prices;
    m.shitVolumes = vols;
    m.shitFunding = fund;
  }
  return m;
}

/**
 * The .npz form: the MarketData keys (src/core/market/marketData.ts — the seed's btc_prices,
 * btc_fut_prices, btc_funding (paid on the step), btc_oi, btc_iv_surface [n_steps, NK, NT], k_grid,
 * t_grid, btc_iv_mask, has_surface, times_ms, btc_log_basis [n_steps, NT], shit_*) plus what makes
 * each step's surface traceable: surface_index, surface_timestamps_ms, and btc_funding_rate (the
 * rate in force at each row, as the series holds it).
 */
export function realMarketDataToNpz(d: RealMarketData): Uint8Array {
  const n = d.times.length;
  return writeNpz({
    ...marketArrays(toMarketData(d)),
    btc_funding_rate: f64(d.btcFunding),
    surface_index: { dtype: 'int32', shape: [n], data: Int32Array.from(d.surfaceIndex) },
    surface_timestamps_ms: f64(d.surfaceTimestamps),
  });
}
