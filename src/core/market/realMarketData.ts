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
import { f64, type NdArray } from '../io/npy.ts';

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

/**
 * The .npz form, with the seed's field names (btc_prices, btc_fut_prices, btc_funding, btc_oi,
 * btc_iv_surface [n_steps, NK, NT], k_grid, t_grid, shit_*) plus what makes each step's surface
 * traceable: times_ms, btc_iv_mask, surface_index, has_surface, surface_timestamps_ms, and
 * btc_log_basis [n_steps, NT] (ln F/S of each step's snapshot, to place strikes).
 */
export function realMarketDataToNpz(d: RealMarketData): Uint8Array {
  const n = d.times.length;
  const nk = d.kGrid.length;
  const nt = d.tGrid.length;
  const arrays: Record<string, NdArray> = {
    times_ms: f64(d.times),
    btc_prices: f64(d.btcPrices),
    btc_fut_prices: f64(d.btcFutPrices),
    btc_funding: f64(d.btcFunding),
    btc_oi: f64(d.btcOi),
    btc_iv_surface: f64(d.btcIvSurface, [n, nk, nt]),
    btc_iv_mask: { dtype: 'bool', shape: [n, nk, nt], data: Uint8Array.from(d.btcIvMask) },
    ...(d.btcLogBasis ? { btc_log_basis: f64(d.btcLogBasis, [n, nt]) } : {}),
    k_grid: f64(d.kGrid),
    t_grid: f64(d.tGrid),
    surface_index: { dtype: 'int32', shape: [n], data: Int32Array.from(d.surfaceIndex) },
    has_surface: { dtype: 'bool', shape: [n], data: Uint8Array.from(d.hasSurface) },
    surface_timestamps_ms: f64(d.surfaceTimestamps),
  };
  if (d.shitPrices) arrays.shit_prices = f64(d.shitPrices);
  if (d.shitVolumes) arrays.shit_volumes = f64(d.shitVolumes);
  if (d.shitFunding) arrays.shit_funding = f64(d.shitFunding);
  return writeNpz(arrays);
}
