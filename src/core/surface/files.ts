/**
 * Surfaces as files. The .npz form uses the seed's keys (chapter VIII.2), so numpy snapshots load
 * here and ours load in numpy:
 *   iv_surface [nk, nt] float64 (decimals), k_grid [nk] (ln(K/F)), t_grid [nt] (years),
 *   spot 0-d, timestamp 0-d — UNIX SECONDS, as the seed's ts_unix (fractional allowed);
 * optional: mask [nk, nt] bool (True = no information), forward [nt], source and name 0-d strings.
 * On read, a timestamp below 1e11 is taken as seconds and anything larger as milliseconds, so
 * files from tools that write milliseconds load too.
 * The CSV forms live in ./csv.ts (the grid layout's writer and reader are re-exported here).
 */
import { InputError } from '../errors.ts';
import { readSurfaceCsv, type CsvReadOptions } from './csv.ts';
import { readNpz, writeNpz } from '../io/npz.ts';
import { scalarF64, scalarString, toNumbers, toStrings, type NdArray } from '../io/npy.ts';
import { resampleSurface } from './resample.ts';
import type { Surface } from './types.ts';
import { validateSurface } from './validate.ts';
import { checkIvUnit, ivScale, type IvUnit, type ReaderAssumptions } from './units.ts';

export { surfaceToCsv, surfaceFromCsv } from './csv.ts';

/** Timestamps below this are seconds since the epoch (1e11 s is the year 5138; 1e11 ms is 1973). */
export const SECONDS_THRESHOLD = 1e11;

export function timestampToMs(x: number): number {
  return Math.abs(x) < SECONDS_THRESHOLD ? x * 1000 : x;
}

export function surfaceToNpz(s: Surface, opts: { compress?: boolean } = {}): Uint8Array {
  const nk = s.kGrid.length;
  const nt = s.tGrid.length;
  const arrays: Record<string, NdArray> = {
    iv_surface: { dtype: 'float64', shape: [nk, nt], data: Float64Array.from(s.iv) },
    k_grid: { dtype: 'float64', shape: [nk], data: Float64Array.from(s.kGrid) },
    t_grid: { dtype: 'float64', shape: [nt], data: Float64Array.from(s.tGrid) },
    spot: scalarF64(s.spot),
    timestamp: scalarF64(s.timestamp / 1000),
  };
  if (s.mask) arrays.mask = { dtype: 'bool', shape: [nk, nt], data: Uint8Array.from(s.mask) };
  if (s.forward) arrays.forward = { dtype: 'float64', shape: [nt], data: Float64Array.from(s.forward) };
  if (s.source) arrays.source = scalarString(s.source);
  if (s.name) arrays.name = scalarString(s.name);
  return writeNpz(arrays, opts);
}

function need(arrays: Record<string, NdArray>, key: string, where: string): NdArray {
  const a = arrays[key];
  if (!a) throw new InputError(`missing array '${key}' (a surface .npz holds iv_surface, k_grid, t_grid, spot, timestamp; found: ${Object.keys(arrays).join(', ') || 'nothing'})`, where);
  return a;
}

function scalar(a: NdArray, key: string, where: string): number {
  if (a.dtype === 'unicode' || a.data.length !== 1) throw new InputError(`'${key}' must be a single number (shape ${JSON.stringify(a.shape)})`, where);
  return toNumbers(a)[0]!;
}

function vector(a: NdArray, key: string, where: string): number[] {
  if (a.dtype === 'unicode' || a.shape.length !== 1) throw new InputError(`'${key}' must be a 1-d numeric array (shape ${JSON.stringify(a.shape)})`, where);
  return Array.from(toNumbers(a));
}

/**
 * Surface from the arrays of an .npz (already read), validated. The format's vols are decimals;
 * `ivUnit: 'percent'` (a user's explicit choice) reads them as percent instead. Either way a vol
 * above 300 % is refused with the unit named (src/core/surface/units.ts).
 */
export function surfaceFromArrays(arrays: Record<string, NdArray>, where: string, ivUnit?: IvUnit): Surface {
  const kGrid = vector(need(arrays, 'k_grid', where), 'k_grid', where);
  const tGrid = vector(need(arrays, 't_grid', where), 't_grid', where);
  const ivA = need(arrays, 'iv_surface', where);
  if (ivA.dtype === 'unicode' || ivA.shape.length !== 2 || ivA.shape[0] !== kGrid.length || ivA.shape[1] !== tGrid.length) {
    throw new InputError(`iv_surface has shape (${ivA.shape.join(', ')}) but k_grid × t_grid is (${kGrid.length}, ${tGrid.length}) (shape mismatch)`, where);
  }
  const s: Surface = {
    kGrid,
    tGrid,
    iv: toNumbers(ivA),
    spot: scalar(need(arrays, 'spot', where), 'spot', where),
    timestamp: timestampToMs(scalar(need(arrays, 'timestamp', where), 'timestamp', where)),
    source: arrays.source && arrays.source.dtype === 'unicode' ? toStrings(arrays.source)[0]! : `file:${where}`,
  };
  if (arrays.mask) {
    const m = arrays.mask;
    if (m.dtype === 'unicode' || m.data.length !== kGrid.length * tGrid.length) throw new InputError(`mask has shape (${m.shape.join(', ')}) but iv_surface is (${kGrid.length}, ${tGrid.length})`, where);
    s.mask = Uint8Array.from(toNumbers(m), (x) => (x !== 0 ? 1 : 0));
  }
  // The seed's snapshots have no mask: a point without a quote is left NaN. In a file without a
  // mask, NaN therefore means "masked"; in a file with one, a NaN outside it is an error.
  else if (s.iv.some((v) => Number.isNaN(v))) s.mask = Uint8Array.from(s.iv, (v) => (Number.isNaN(v) ? 1 : 0));
  if (arrays.forward) s.forward = vector(arrays.forward, 'forward', where);
  if (arrays.name && arrays.name.dtype === 'unicode') s.name = toStrings(arrays.name)[0]!;
  const nt = tGrid.length;
  checkIvUnit(s.iv, ivUnit ?? 'decimal', ivUnit ? 'option' : 'format', (c) => `iv_surface[${Math.floor(c / nt)}, ${c % nt}] (k=${kGrid[Math.floor(c / nt)]}, T=${tGrid[c % nt]})`, where, s.mask);
  if (ivUnit === 'percent') s.iv = s.iv.map((v) => v * ivScale('percent'));
  validateSurface(s, where);
  return s;
}

export function surfaceFromNpz(bytes: Uint8Array, fileName = 'surface.npz'): Surface {
  return surfaceFromArrays(readNpz(bytes, fileName), fileName);
}

export interface ParsedSurfaceFile {
  surface: Surface;
  /** "npz", "csv:grid", "csv:long", "csv:deribit", "csv:tardis". */
  layout: string;
  warnings: string[];
  /** The vol unit, spot and timestamp the reader used, and where each came from (show them on import). */
  assumptions: ReaderAssumptions;
}

/** Any supported surface file by name: .npz, or .csv / .tsv / .txt in one of the CSV layouts. */
export function parseSurfaceBytes(bytes: Uint8Array, fileName: string, opts: CsvReadOptions = {}): ParsedSurfaceFile {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.npz')) {
    const arrays = readNpz(bytes, fileName);
    if (arrays.params && arrays.iv && !arrays.iv_surface) {
      throw new InputError(`this is a synthetic data set (${arrays.params.shape[0]} surfaces: params, iv, mask), not one surface; use it for training`, fileName);
    }
    const surface = surfaceFromArrays(arrays, fileName, opts.ivUnit);
    const assumptions: ReaderAssumptions = {
      ivUnit: { unit: opts.ivUnit ?? 'decimal', from: opts.ivUnit ? 'option' : 'format' },
      spot: { value: surface.spot, from: 'file' },
      timestamp: { value: surface.timestamp, from: 'file' },
    };
    return { surface, layout: 'npz', warnings: [], assumptions };
  }
  if (lower.endsWith('.npy')) throw new InputError('a single .npy array is not a surface: save iv_surface, k_grid, t_grid, spot and timestamp together with np.savez', fileName);
  if (/\.(csv|tsv|txt)$/.test(lower)) {
    const r = readSurfaceCsv(new TextDecoder().decode(bytes), fileName, opts);
    return { surface: r.surface, layout: `csv:${r.layout}`, warnings: r.warnings, assumptions: r.assumptions };
  }
  if (lower.endsWith('.hlckpt')) throw new InputError('a network checkpoint, not a surface: drop it on the checkpoint panel of the Inverse page', fileName);
  throw new InputError('not a surface file (expected .npz or .csv)', fileName);
}

export interface SurfaceComparison {
  kGrid: number[];
  tGrid: number[];
  /** b − a in vol points (decimals) on a's grid; NaN where either is masked or b does not reach. */
  diff: Float64Array;
  maxAbs: number;
  rms: number;
  /** Points compared (unmasked in both). */
  points: number;
}

/** b resampled onto a's grid (total variance, no extrapolation), minus a. */
export function compareSurfaces(a: Surface, b: Surface): SurfaceComparison {
  const bOnA = resampleSurface(b, a.kGrid, a.tGrid);
  const diff = new Float64Array(a.iv.length);
  let maxAbs = 0;
  let sq = 0;
  let points = 0;
  for (let i = 0; i < diff.length; i++) {
    if (a.mask?.[i] === 1 || bOnA.mask?.[i] === 1) {
      diff[i] = NaN;
      continue;
    }
    const d = bOnA.iv[i]! - a.iv[i]!;
    diff[i] = d;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    sq += d * d;
    points++;
  }
  return { kGrid: [...a.kGrid], tGrid: [...a.tGrid], diff, maxAbs, rms: points ? Math.sqrt(sq / points) : NaN, points };
}
