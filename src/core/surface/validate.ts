/**
 * Surface validation: every problem is named with the field and the grid point at fault, so a
 * user reads "iv_surface: row 3 (k=0.2), column 2 (T=0.25): vol is NaN", not "invalid surface".
 */
import { InputError } from '../errors.ts';
import type { Surface } from './types.ts';

/** Vols above this (500 %) are taken as a unit mistake (percent read as decimal), not data. */
export const MAX_IV = 5;
/** Plausible timestamps: 1990-01-01 … 2100-01-01 UTC, in milliseconds. */
export const MIN_TIMESTAMP_MS = Date.UTC(1990, 0, 1);
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);

/** Problems with a grid (k or T): non-finite, duplicate or non-increasing points. */
export function gridProblems(grid: readonly number[], name: string, positive = false): string[] {
  const out: string[] = [];
  if (!Array.isArray(grid) || grid.length === 0) return [`${name} is empty`];
  for (let i = 0; i < grid.length; i++) {
    const x = grid[i]!;
    if (typeof x !== 'number' || !Number.isFinite(x)) out.push(`${name}[${i}] is not a finite number (${String(x)})`);
    else if (positive && x <= 0) out.push(`${name}[${i}] = ${x} must be > 0`);
    if (i > 0 && Number.isFinite(x) && Number.isFinite(grid[i - 1]!)) {
      if (x === grid[i - 1]) out.push(`${name}[${i}] = ${x} duplicates ${name}[${i - 1}] (${positive ? 'columns' : 'rows'} ${i - 1} and ${i} are the same ${positive ? 'maturity' : 'strike'}; drop or merge one)`);
      else if (x < grid[i - 1]!) out.push(`${name} is not increasing: ${name}[${i}] = ${x} < ${name}[${i - 1}] = ${grid[i - 1]}`);
    }
  }
  return out;
}

/** The first value that repeats an earlier one, in any order: its index and the earlier index. */
export function firstDuplicate(values: readonly number[]): { index: number; earlier: number } | undefined {
  const seen = new Map<number, number>();
  for (let i = 0; i < values.length; i++) {
    const prev = seen.get(values[i]!);
    if (prev !== undefined) return { index: i, earlier: prev };
    seen.set(values[i]!, i);
  }
  return undefined;
}

/**
 * A grid typed as text ("-0.4, -0.2, 0, 0.2"), for forms and flags. An empty entry is an error,
 * not a 0: Number('') is 0, so "0.1,,0.2" would otherwise slip a grid point in at k = 0.
 */
export function parseGridText(text: string, where: string): number[] {
  const parts = text.split(',').map((x) => x.trim());
  if (parts.some((x) => x === '' || !Number.isFinite(Number(x)))) throw new InputError(`must be comma-separated numbers, got "${text}"`, where);
  return parts.map(Number);
}

export function timestampProblem(ts: number): string | undefined {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return `timestamp is not a finite number (${String(ts)})`;
  if (ts >= MIN_TIMESTAMP_MS && ts <= MAX_TIMESTAMP_MS) return undefined;
  const iso = (x: number) => (Math.abs(x) < 8.64e15 ? new Date(x).toISOString() : 'out of range');
  if (ts >= MIN_TIMESTAMP_MS / 1000 && ts <= MAX_TIMESTAMP_MS / 1000) return `timestamp ${ts} looks like seconds, not milliseconds since the epoch`;
  return `timestamp ${ts} (${iso(ts)}) is not plausible (expected milliseconds since the epoch between 1990 and 2100)`;
}

// ---- the mask convention ---------------------------------------------------------------------

/** Said in every message about a vol the mask calls valid, so a user can fix the file's mask. */
export const MASK_CONVENTION = "the lab uses numpy.ma's mask convention: 1 (True) = masked, no data; 0 (False) = a valid vol";

/** A vol the network or a calibration may use: finite and positive. */
function usableVol(v: number): boolean {
  return v > 0 && Number.isFinite(v);
}

export interface MaskStats {
  /** Unusable vols (NaN, ±∞, ≤ 0) where the mask says 0 (valid): the cells at fault. */
  badUnmasked: number;
  /** Unusable vols where the mask says 1, as it should. */
  badMasked: number;
  /** Usable vols where the mask says 1. */
  goodMasked: number;
  /** Usable vols where the mask says 0. */
  goodUnmasked: number;
  /** Flat index of the first cell at fault, -1 when none. */
  first: number;
}

/** One pass over iv and mask (absent mask = all 0). */
export function maskStats(iv: ArrayLike<number>, mask: ArrayLike<number> | undefined): MaskStats {
  const st: MaskStats = { badUnmasked: 0, badMasked: 0, goodMasked: 0, goodUnmasked: 0, first: -1 };
  for (let x = 0; x < iv.length; x++) {
    const masked = mask !== undefined && mask[x] === 1;
    const good = usableVol(iv[x]!);
    if (masked) {
      if (good) st.goodMasked++;
      else st.badMasked++;
    } else if (good) st.goodUnmasked++;
    else {
      if (st.first < 0) st.first = x;
      st.badUnmasked++;
    }
  }
  return st;
}

/**
 * A mask written the other way round (1 = valid) shows as: most unusable cells marked 0 AND most
 * usable cells marked 1. Both halves are required so a file with a few stray NaNs at mask 0 is
 * not called inverted.
 */
export function maskLooksInverted(st: MaskStats): boolean {
  const bad = st.badUnmasked + st.badMasked;
  const good = st.goodMasked + st.goodUnmasked;
  return bad > 0 && good > 0 && st.badUnmasked / bad > 0.5 && st.goodMasked / good > 0.5;
}

/** The sentence that follows a "vol the mask calls valid" problem: the convention, and the inversion when it shows. */
export function maskConventionNote(st: MaskStats, maskName = 'mask'): string {
  const pct = (a: number, b: number) => `${Math.round((100 * a) / Math.max(1, b))} %`;
  let note = `${MASK_CONVENTION}`;
  if (maskLooksInverted(st)) {
    note += `. This file's ${maskName} looks inverted: ${pct(st.badUnmasked, st.badUnmasked + st.badMasked)} of its NaN or non-positive cells have ${maskName} 0 and ${pct(st.goodMasked, st.goodMasked + st.goodUnmasked)} of its valid vols have ${maskName} 1 — write ${maskName} = np.isnan(iv) (or a masked array's .mask), not a validity flag`;
  }
  return note;
}

export interface MaskedVolsSpec {
  iv: ArrayLike<number>;
  mask: ArrayLike<number> | undefined;
  kGrid: readonly number[];
  tGrid: readonly number[];
  /** Array names as the file spells them (default 'iv' and 'mask'). */
  ivName?: string;
  maskName?: string;
  /** What the leading axis counts, for data sets and market files ('surface', 'step'); omit for one surface. */
  itemName?: string;
}

/**
 * The problem with vols the mask calls valid, or undefined when every cell with mask 0 holds a
 * finite positive vol. Names the first cell by index and grid point, counts the others, states the
 * convention and says when the mask looks inverted. For any reader of surfaces, data sets [n, nk,
 * nt] or market files (readMarketNpz can call it with itemName 'step').
 */
export function maskedVolProblem(c: MaskedVolsSpec): string | undefined {
  const st = maskStats(c.iv, c.mask);
  if (st.first < 0) return undefined;
  const nk = c.kGrid.length;
  const nt = c.tGrid.length;
  const cells = nk * nt;
  const item = Math.floor(st.first / cells);
  const i = Math.floor((st.first % cells) / nt);
  const j = st.first % nt;
  const ivName = c.ivName ?? 'iv';
  const maskName = c.maskName ?? 'mask';
  const idx = c.itemName !== undefined ? `[${item}, ${i}, ${j}]` : `[${i}, ${j}]`;
  const cell = `${c.itemName !== undefined ? `${c.itemName} ${item}, ` : ''}k=${c.kGrid[i]}, T=${c.tGrid[j]}`;
  const v = c.iv[st.first]!;
  const what = Number.isNaN(v) ? 'NaN' : !Number.isFinite(v) ? String(v) : `${v} (vols must be > 0)`;
  const others = st.badUnmasked > 1 ? ` (and ${st.badUnmasked - 1} more such cells)` : '';
  const maskSays = c.mask === undefined ? `there is no ${maskName}, so every point counts as valid` : `${maskName}${idx} = 0 calls it valid`;
  return `${ivName}${idx} (${cell}) is ${what} but ${maskSays}${others}; ${maskConventionNote(st, maskName)}`;
}

/** Throws the InputError of maskedVolProblem, prefixed by `where` (the file). */
export function checkMaskedVols(c: MaskedVolsSpec, where: string): void {
  const p = maskedVolProblem(c);
  if (p) throw new InputError(p, where);
}

/** Every problem with s, as readable lines; empty when s is valid. */
export function surfaceProblems(s: Surface): string[] {
  const out: string[] = [];
  const kp = gridProblems(s.kGrid, 'k_grid');
  const tp = gridProblems(s.tGrid, 't_grid', true);
  out.push(...kp, ...tp);
  const nk = s.kGrid?.length ?? 0;
  const nt = s.tGrid?.length ?? 0;
  if (!(s.iv instanceof Float64Array)) out.push('iv must be a Float64Array');
  else if (s.iv.length !== nk * nt) out.push(`iv_surface has ${s.iv.length} values but the grids need ${nk} × ${nt} = ${nk * nt} (shape mismatch)`);
  if (s.mask !== undefined && (!(s.mask instanceof Uint8Array) || s.mask.length !== nk * nt)) {
    out.push(`mask has ${s.mask?.length} values but the grids need ${nk} × ${nt} = ${nk * nt} (shape mismatch)`);
  }
  if (typeof s.spot !== 'number' || !Number.isFinite(s.spot) || s.spot <= 0) out.push(`spot must be a positive number (got ${String(s.spot)})`);
  if (s.forward !== undefined) {
    if (!Array.isArray(s.forward) || s.forward.length !== nt) out.push(`forward has ${s.forward?.length} values but t_grid has ${nt}`);
    else s.forward.forEach((f, j) => {
      if (!Number.isFinite(f) || f <= 0) out.push(`forward[${j}] must be a positive number (got ${f})`);
    });
  }
  const tsp = timestampProblem(s.timestamp);
  if (tsp) out.push(tsp);
  if (out.length === 0) {
    let unmasked = 0;
    for (let i = 0; i < nk; i++) {
      for (let j = 0; j < nt; j++) {
        const idx = i * nt + j;
        if (s.mask?.[idx] === 1) continue;
        unmasked++;
        const v = s.iv[idx]!;
        const at = `iv_surface: row ${i} (k=${s.kGrid[i]}), column ${j} (T=${s.tGrid[j]})`;
        if (Number.isNaN(v)) out.push(`${at}: vol is NaN (mask the point if it has no data)`);
        else if (!Number.isFinite(v)) out.push(`${at}: vol is infinite`);
        else if (v <= 0) out.push(`${at}: vol ${v} must be > 0`);
        else if (v > MAX_IV) out.push(`${at}: vol ${v} is above ${MAX_IV} (percent given as decimals?)`);
        if (out.length > 20) break;
      }
      if (out.length > 20) break;
    }
    if (unmasked === 0) out.push('every point of the surface is masked');
    // After the first vol the mask calls valid, the convention (and an inverted mask, if it is one),
    // while it is still among the first problems validateSurface shows.
    const st = maskStats(s.iv, s.mask);
    const firstVol = out.findIndex((x) => x.startsWith('iv_surface: '));
    if (st.first >= 0 && firstVol >= 0) out.splice(firstVol + 1, 0, maskConventionNote(st));
  }
  return out;
}

/** Throws an InputError listing the first problems (prefixed by `where`, e.g. the file name). */
export function validateSurface(s: Surface, where?: string): void {
  const problems = surfaceProblems(s);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 5).join('; ');
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  throw new InputError(shown + more, where);
}

/** Number of masked points. */
export function maskedCount(s: Surface): number {
  let n = 0;
  if (s.mask) for (const m of s.mask) n += m === 1 ? 1 : 0;
  return n;
}

/** Min / max vol over unmasked points (NaN when there are none). */
export function ivRange(s: Surface): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let idx = 0; idx < s.iv.length; idx++) {
    if (s.mask?.[idx] === 1) continue;
    const v = s.iv[idx]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: NaN, max: NaN };
}
