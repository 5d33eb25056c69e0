/**
 * MarketData: the one shape every market source produces — RealMarketData (Binance + Deribit,
 * seed VIII.3), the seed's GBM simulator (simulateMarket, seed VI) and the Heston market
 * (hestonMarket.ts) — and what the FeatureEngine and the TradingEnv read. Its file form is the
 * RealMarketData .npz with the seed's keys, so a market written by numpy loads here and a market
 * written here loads in numpy:
 *
 *   times_ms [n]           strictly increasing, ms UTC (bar close)
 *   btc_prices [n]         spot (finite, > 0)
 *   btc_fut_prices [n]     futures / perpetual (finite, > 0)
 *   btc_funding [n]        funding rate paid ON that step (0 elsewhere), a fraction
 *   btc_oi [n]             open interest (NaN = unknown; Binance keeps only ~30 days of it)
 *   btc_iv_surface [n, nk, nt]  implied vols, decimals, ln(K/F) × years; NaN where masked
 *   btc_iv_mask [n, nk, nt]     1 = masked (no information); every unmasked vol finite, 0 < σ ≤ 5
 *   k_grid [nk], t_grid [nt]
 *   has_surface [n]        1 where the step has a surface (a step without one is fully masked)
 *   optional: btc_log_basis [n, nt] or [n] (ln F/S per maturity of the step's snapshot),
 *             btc_surface_times_ms [n] (when the step's surface was observed; default: the step),
 *             btc_volumes [n], shit_prices [n], shit_volumes [n], shit_funding [n],
 *             dt_years (0-d; default: the median bar interval / 365 days), name (0-d string),
 *   simulated ground truth: btc_variance [n] (the variance each row's surface is priced at),
 *             heston_params [5] or [n, 5] (κ, θ, σ, ρ, v0; per step under regime switching),
 *             regime [n] (int, the regime in force at each step).
 *
 * Reading is strict: a missing key, a wrong shape, unsorted times, a non-finite or non-positive
 * price, a mask that calls a NaN vol valid — each is an InputError naming the file and the key.
 */
import { InputError } from '../errors.ts';
import { readNpz, writeNpz } from '../io/npz.ts';
import { f64, scalarF64, scalarString, toNumbers, toStrings, type NdArray } from '../io/npy.ts';
import { YEAR_MS } from '../surface/types.ts';
import { checkMaskedVols, gridProblems, MAX_IV } from '../surface/validate.ts';

export interface MarketTruth {
  /** [n] the variance v_t each row's surface is priced at. */
  btcVariance: Float64Array;
  /** [5] or [n × 5], PARAM_NAMES order (κ, θ, σ, ρ, v0). */
  hestonParams: Float64Array;
  /** true when hestonParams is [n × 5] (regime switching). */
  hestonParamsPerStep: boolean;
  /** [n] regime index in force at each step, when the simulator switched regimes. */
  regime?: Int32Array;
}

export interface MarketData {
  name: string;
  /** [n] strictly increasing, ms UTC (bar close). */
  timesMs: Float64Array;
  /** Bar interval in years (365-day year): hourly = 1/8760. */
  dtYears: number;
  btcPrices: Float64Array;
  btcFutPrices: Float64Array;
  /** [n] funding rate paid ON that step, 0 elsewhere. */
  btcFunding: Float64Array;
  /** [n] open interest; NaN where unknown. */
  btcOi: Float64Array;
  kGrid: Float64Array;
  tGrid: Float64Array;
  /** [n, nk, nt] row-major, decimals, NaN where masked. */
  btcIvSurface: Float32Array | Float64Array;
  /** [n, nk, nt] 1 = masked. */
  btcIvMask: Uint8Array;
  /** [n] 1 where the step has a surface. */
  hasSurface: Uint8Array;
  /** [n, nt] ln(F/S) per maturity of the step's snapshot (NaN without a surface). */
  btcLogBasis?: Float64Array;
  /** [n] when the step's surface was observed (ms UTC; NaN without a surface). Absent: the step's own time. */
  btcSurfaceTimesMs?: Float64Array;
  btcVolumes?: Float64Array;
  shitPrices?: Float64Array;
  shitVolumes?: Float64Array;
  shitFunding?: Float64Array;
  truth?: MarketTruth;
}

export function marketSteps(m: MarketData): number {
  return m.timesMs.length;
}

/** Cells per surface (nk · nt). */
export function surfaceCells(m: MarketData): number {
  return m.kGrid.length * m.tGrid.length;
}

const REQUIRED_SERIES = ['times_ms', 'btc_prices', 'btc_fut_prices', 'btc_funding', 'btc_oi', 'has_surface'] as const;
const OPTIONAL_SERIES = ['btc_surface_times_ms', 'btc_volumes', 'shit_prices', 'shit_volumes', 'shit_funding', 'btc_variance', 'regime'] as const;

function shapeText(s: readonly number[]): string {
  return `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;
}

function numeric(a: NdArray, where: string): Float64Array {
  if (a.dtype === 'unicode') throw new InputError('expected a numeric array, got strings', where);
  return toNumbers(a);
}

/**
 * Every check a MarketData must pass, whether it came from a file or from code (simulators call it
 * on their own output in tests). `file` prefixes every message; keys are the .npz names.
 */
export function checkMarketData(m: MarketData, file: string): void {
  const at = (key: string) => `${file}: ${key}`;
  const n = m.timesMs.length;
  if (n < 2) throw new InputError(`needs at least 2 steps, has ${n}`, at('times_ms'));
  for (let i = 0; i < n; i++) {
    const t = m.timesMs[i]!;
    if (!Number.isFinite(t)) throw new InputError(`row ${i}: time is not finite (${t})`, at('times_ms'));
    if (i > 0 && !(t > m.timesMs[i - 1]!)) throw new InputError(`times are not strictly increasing: row ${i} (${t}) ≤ row ${i - 1} (${m.timesMs[i - 1]})`, at('times_ms'));
  }
  if (!(m.dtYears > 0 && Number.isFinite(m.dtYears))) throw new InputError(`must be a positive number of years, got ${m.dtYears}`, at('dt_years'));
  const len = (key: string, a: ArrayLike<number> | undefined, want: number) => {
    if (a && a.length !== want) throw new InputError(`has ${a.length} values, expected ${want}`, at(key));
  };
  const positive = (key: string, a: Float64Array | undefined) => {
    if (!a) return;
    len(key, a, n);
    for (let i = 0; i < n; i++) if (!(a[i]! > 0 && Number.isFinite(a[i]!))) throw new InputError(`row ${i}: price must be finite and > 0, got ${a[i]}`, at(key));
  };
  const finite = (key: string, a: Float64Array | undefined) => {
    if (!a) return;
    len(key, a, n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(a[i]!)) throw new InputError(`row ${i}: value is not finite (${a[i]})`, at(key));
  };
  positive('btc_prices', m.btcPrices);
  positive('btc_fut_prices', m.btcFutPrices);
  positive('shit_prices', m.shitPrices);
  finite('btc_funding', m.btcFunding);
  finite('shit_funding', m.shitFunding);
  len('btc_oi', m.btcOi, n);
  for (const [key, a] of [['btc_volumes', m.btcVolumes], ['shit_volumes', m.shitVolumes]] as const) {
    if (!a) continue;
    len(key, a, n);
    for (let i = 0; i < n; i++) if (!(a[i]! >= 0)) throw new InputError(`row ${i}: volume must be finite and ≥ 0, got ${a[i]}`, at(key));
  }
  if ((m.shitVolumes || m.shitFunding) && !m.shitPrices) throw new InputError('shit_volumes / shit_funding given without shit_prices', at('shit_prices'));
  const kp = gridProblems(Array.from(m.kGrid), 'k_grid');
  if (kp.length) throw new InputError(kp[0]!, at('k_grid'));
  const tp = gridProblems(Array.from(m.tGrid), 't_grid', true);
  if (tp.length) throw new InputError(tp[0]!, at('t_grid'));
  const nk = m.kGrid.length;
  const nt = m.tGrid.length;
  const cells = nk * nt;
  len('has_surface', m.hasSurface, n);
  len('btc_iv_surface', m.btcIvSurface, n * cells);
  len('btc_iv_mask', m.btcIvMask, n * cells);
  // The shared reader check first: it states numpy.ma's convention (1 = masked) and says when the
  // whole mask looks inverted (1 = valid), which one bad cell's message cannot.
  checkMaskedVols({ iv: m.btcIvSurface, mask: m.btcIvMask, kGrid: Array.from(m.kGrid), tGrid: Array.from(m.tGrid), ivName: 'btc_iv_surface', maskName: 'btc_iv_mask', itemName: 'step' }, file);
  for (let s = 0; s < n; s++) {
    const has = m.hasSurface[s]!;
    if (has !== 0 && has !== 1) throw new InputError(`row ${s}: must be 0 or 1, got ${has}`, at('has_surface'));
    for (let c = 0; c < cells; c++) {
      const idx = s * cells + c;
      const mk = m.btcIvMask[idx]!;
      if (mk !== 0 && mk !== 1) throw new InputError(`row ${s}: mask must be 0 or 1, got ${mk}`, at('btc_iv_mask'));
      if (mk === 1) continue;
      const where = `row ${s}, k=${m.kGrid[Math.floor(c / nt)]}, T=${m.tGrid[c % nt]}`;
      if (!has) throw new InputError(`${where}: the step has no surface (has_surface 0) but the mask calls this vol valid`, at('btc_iv_mask'));
      const v = m.btcIvSurface[idx]!;
      if (!Number.isFinite(v)) throw new InputError(`${where}: vol is ${v} but the mask calls it valid (mask 0); mask it (1) or give a vol`, at('btc_iv_mask'));
      if (!(v > 0) || v > MAX_IV) throw new InputError(`${where}: vol ${v} is outside (0, ${MAX_IV}] (vols are decimals: 0.55, not 55)`, at('btc_iv_surface'));
    }
  }
  if (m.btcLogBasis) {
    len('btc_log_basis', m.btcLogBasis, n * nt);
    for (let s = 0; s < n; s++) {
      if (!m.hasSurface[s]) continue;
      for (let j = 0; j < nt; j++) if (!Number.isFinite(m.btcLogBasis[s * nt + j]!)) throw new InputError(`row ${s}: basis is not finite on a step with a surface`, at('btc_log_basis'));
    }
  }
  if (m.btcSurfaceTimesMs) {
    len('btc_surface_times_ms', m.btcSurfaceTimesMs, n);
    for (let s = 0; s < n; s++) {
      if (!m.hasSurface[s]) continue;
      const t = m.btcSurfaceTimesMs[s]!;
      // A surface observed after its step would be look-ahead.
      if (!(t <= m.timesMs[s]!)) throw new InputError(`row ${s}: surface time ${t} is not at or before the step's time ${m.timesMs[s]}`, at('btc_surface_times_ms'));
    }
  }
  if (m.truth) {
    const tr = m.truth;
    len('btc_variance', tr.btcVariance, n);
    for (let i = 0; i < n; i++) if (!(tr.btcVariance[i]! >= 0)) throw new InputError(`row ${i}: variance must be finite and ≥ 0, got ${tr.btcVariance[i]}`, at('btc_variance'));
    len('heston_params', tr.hestonParams, tr.hestonParamsPerStep ? n * 5 : 5);
    for (let i = 0; i < tr.hestonParams.length; i++) if (!Number.isFinite(tr.hestonParams[i]!)) throw new InputError(`value ${i} is not finite`, at('heston_params'));
    if (tr.regime) len('regime', tr.regime, n);
  }
}

/** Reads a market .npz (numpy's or ours), strictly; errors name `file` and the key. */
export function readMarketNpz(bytes: Uint8Array, file: string): MarketData {
  const arrays = readNpz(bytes, file);
  const at = (key: string) => `${file}: ${key}`;
  const need = (key: string) => {
    const a = arrays[key];
    if (!a) throw new InputError(`missing key '${key}' (a market .npz needs ${[...REQUIRED_SERIES, 'btc_iv_surface', 'btc_iv_mask', 'k_grid', 't_grid'].join(', ')})`, file);
    return a;
  };
  const vector = (key: string, a: NdArray, len?: number) => {
    if (a.shape.length !== 1 || (len !== undefined && a.shape[0] !== len)) {
      throw new InputError(`shape ${shapeText(a.shape)}, expected (${len ?? 'n'},)`, at(key));
    }
    return numeric(a, at(key));
  };
  const times = vector('times_ms', need('times_ms'));
  const n = times.length;
  const series: Record<string, Float64Array> = {};
  for (const key of REQUIRED_SERIES) series[key] = vector(key, need(key), n);
  for (const key of OPTIONAL_SERIES) if (arrays[key]) series[key] = vector(key, arrays[key]!, n);
  const kGrid = vector('k_grid', need('k_grid'));
  const tGrid = vector('t_grid', need('t_grid'));
  const nk = kGrid.length;
  const nt = tGrid.length;
  const cube = (key: string) => {
    const a = need(key);
    if (a.shape.length !== 3 || a.shape[0] !== n || a.shape[1] !== nk || a.shape[2] !== nt) {
      throw new InputError(`shape ${shapeText(a.shape)}, expected (${n}, ${nk}, ${nt}) = (len(times_ms), len(k_grid), len(t_grid))`, at(key));
    }
    return a;
  };
  const ivArr = cube('btc_iv_surface');
  if (ivArr.dtype === 'unicode') throw new InputError('expected a numeric array, got strings', at('btc_iv_surface'));
  const iv = ivArr.dtype === 'float32' ? (ivArr.data as Float32Array) : ivArr.dtype === 'float64' ? (ivArr.data as Float64Array) : toNumbers(ivArr);
  const maskArr = cube('btc_iv_mask');
  const mask = Uint8Array.from(numeric(maskArr, at('btc_iv_mask')));
  const hasF = series.has_surface!;
  const hasSurface = Uint8Array.from(hasF);
  for (let i = 0; i < n; i++) if (hasSurface[i] !== hasF[i]) throw new InputError(`row ${i}: must be 0 or 1, got ${hasF[i]}`, at('has_surface'));
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0 && mask[i] !== 1) throw new InputError(`element ${i}: mask must be 0 or 1`, at('btc_iv_mask'));

  let dtYears: number;
  if (arrays.dt_years) {
    const d = numeric(arrays.dt_years, at('dt_years'));
    if (d.length !== 1) throw new InputError(`shape ${shapeText(arrays.dt_years.shape)}, expected a scalar`, at('dt_years'));
    dtYears = d[0]!;
  } else {
    const diffs = Array.from({ length: Math.max(n - 1, 0) }, (_, i) => times[i + 1]! - times[i]!).sort((a, b) => a - b);
    dtYears = diffs.length ? diffs[Math.floor(diffs.length / 2)]! / YEAR_MS : NaN;
  }
  let name = 'market';
  if (arrays.name) {
    if (arrays.name.dtype !== 'unicode') throw new InputError('expected a string', at('name'));
    name = toStrings(arrays.name)[0] ?? 'market';
  }
  const m: MarketData = {
    name,
    timesMs: times,
    dtYears,
    btcPrices: series.btc_prices!,
    btcFutPrices: series.btc_fut_prices!,
    btcFunding: series.btc_funding!,
    btcOi: series.btc_oi!,
    kGrid,
    tGrid,
    btcIvSurface: iv,
    btcIvMask: mask,
    hasSurface,
  };
  if (arrays.btc_log_basis) {
    const b = arrays.btc_log_basis;
    const v = numeric(b, at('btc_log_basis'));
    if (b.shape.length === 2 && b.shape[0] === n && b.shape[1] === nt) m.btcLogBasis = v;
    else if (b.shape.length === 1 && b.shape[0] === n) m.btcLogBasis = Float64Array.from({ length: n * nt }, (_, i) => v[Math.floor(i / nt)]!);
    else throw new InputError(`shape ${shapeText(b.shape)}, expected (${n}, ${nt}) or (${n},)`, at('btc_log_basis'));
  }
  if (series.btc_surface_times_ms) m.btcSurfaceTimesMs = series.btc_surface_times_ms;
  if (series.btc_volumes) m.btcVolumes = series.btc_volumes;
  if (series.shit_prices) m.shitPrices = series.shit_prices;
  if (series.shit_volumes) m.shitVolumes = series.shit_volumes;
  if (series.shit_funding) m.shitFunding = series.shit_funding;
  const hp = arrays.heston_params;
  if (series.btc_variance || hp) {
    if (!series.btc_variance) throw new InputError("missing key 'btc_variance' (heston_params is given; the ground truth needs both)", file);
    if (!hp) throw new InputError("missing key 'heston_params' (btc_variance is given; the ground truth needs both)", file);
    let perStep: boolean;
    if (hp.shape.length === 1 && hp.shape[0] === 5) perStep = false;
    else if (hp.shape.length === 2 && hp.shape[0] === n && hp.shape[1] === 5) perStep = true;
    else throw new InputError(`shape ${shapeText(hp.shape)}, expected (5,) or (${n}, 5) in the order κ, θ, σ, ρ, v0`, at('heston_params'));
    m.truth = { btcVariance: series.btc_variance, hestonParams: numeric(hp, at('heston_params')), hestonParamsPerStep: perStep };
    if (series.regime) m.truth.regime = Int32Array.from(series.regime);
  }
  checkMarketData(m, file);
  return m;
}

/** The .npz form (uncompressed, deterministic bytes), readable by numpy.load. */
export function writeMarketNpz(m: MarketData): Uint8Array {
  return writeNpz(marketArrays(m));
}

/** The arrays of the .npz form (checked first), for writers that add keys of their own. */
export function marketArrays(m: MarketData): Record<string, NdArray> {
  checkMarketData(m, m.name || 'market');
  const n = m.timesMs.length;
  const nk = m.kGrid.length;
  const nt = m.tGrid.length;
  const arrays: Record<string, NdArray> = {
    name: scalarString(m.name),
    times_ms: f64(m.timesMs),
    dt_years: scalarF64(m.dtYears),
    btc_prices: f64(m.btcPrices),
    btc_fut_prices: f64(m.btcFutPrices),
    btc_funding: f64(m.btcFunding),
    btc_oi: f64(m.btcOi),
    btc_iv_surface: m.btcIvSurface instanceof Float32Array ? { dtype: 'float32', shape: [n, nk, nt], data: Float32Array.from(m.btcIvSurface) } : f64(m.btcIvSurface, [n, nk, nt]),
    btc_iv_mask: { dtype: 'bool', shape: [n, nk, nt], data: Uint8Array.from(m.btcIvMask) },
    k_grid: f64(m.kGrid),
    t_grid: f64(m.tGrid),
    has_surface: { dtype: 'bool', shape: [n], data: Uint8Array.from(m.hasSurface) },
  };
  if (m.btcLogBasis) arrays.btc_log_basis = f64(m.btcLogBasis, [n, nt]);
  if (m.btcSurfaceTimesMs) arrays.btc_surface_times_ms = f64(m.btcSurfaceTimesMs);
  if (m.btcVolumes) arrays.btc_volumes = f64(m.btcVolumes);
  if (m.shitPrices) arrays.shit_prices = f64(m.shitPrices);
  if (m.shitVolumes) arrays.shit_volumes = f64(m.shitVolumes);
  if (m.shitFunding) arrays.shit_funding = f64(m.shitFunding);
  if (m.truth) {
    arrays.btc_variance = f64(m.truth.btcVariance);
    arrays.heston_params = f64(m.truth.hestonParams, m.truth.hestonParamsPerStep ? [n, 5] : [5]);
    if (m.truth.regime) arrays.regime = { dtype: 'int32', shape: [n], data: Int32Array.from(m.truth.regime) };
  }
  return arrays;
}

/** When step s's surface was observed: btcSurfaceTimesMs, or the step's own time. NaN without one. */
export function surfaceTimeAt(m: MarketData, s: number): number {
  if (!m.hasSurface[s]) return NaN;
  return m.btcSurfaceTimesMs ? m.btcSurfaceTimesMs[s]! : m.timesMs[s]!;
}
