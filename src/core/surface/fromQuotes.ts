/**
 * Option quotes → a Surface on a chosen (k, T) grid.
 *
 * Method, per expiry (quotes grouped by tYears):
 *  - k = ln(K/F) with that expiry's forward (or underlying price);
 *  - one vol per strike: the out-of-the-money side (calls for K ≥ F, puts for K < F), because
 *    OTM quotes are the liquid ones and ITM vols are noisy copies of them through put–call
 *    parity; an ITM quote is used only at a strike that has no OTM quote;
 *  - total variance w = σ²T is interpolated linearly in k onto kGrid between the quoted strikes.
 *    A grid point outside the quoted k range, or farther than maxGapK from the nearest quote,
 *    is masked (no information there, so nothing is invented).
 * Across expiries, at each grid k, w is interpolated linearly in T between the nearest expiries
 * either side that have a value there; σ = sqrt(w/T). Grid maturities before the first or after
 * the last expiry are masked unless `extrapolate` (then σ is held flat in T).
 */
import { InputError } from '../errors.ts';
import type { Surface } from './types.ts';
import { interpAcrossT, interpForward } from './resample.ts';
import { gridProblems, validateSurface } from './validate.ts';

export interface OptionQuote {
  tYears: number;
  strike: number;
  isCall: boolean;
  /** Decimal (0.55, not 55). */
  iv: number;
  /** Forward (or underlying price) for that expiry. */
  forward: number;
}

/**
 * Default largest gap in k = ln(K/F) between a grid point and its expiry's nearest quote before
 * the point is masked (a wing with no quotes near it is not invented). Declared once for the CLI's
 * `deribit snapshot --max-gap-k`, the Data page and this function, which each used to write 0.15.
 */
export const DEFAULT_MAX_GAP_K = 0.15;

export interface QuotesToSurfaceOptions {
  kGrid: number[];
  tGrid: number[];
  spot: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  source: string;
  name?: string;
  /** A grid point farther than this (in k) from the nearest quote of its expiry is masked. Default DEFAULT_MAX_GAP_K. */
  maxGapK?: number;
  /** Hold vols flat in T before the first / after the last expiry instead of masking. Default false. */
  extrapolate?: boolean;
}

/** One expiry's smile after OTM selection: k increasing, w = σ²T. */
export interface ExpirySmile {
  tYears: number;
  forward: number;
  k: number[];
  w: number[];
}

export function smilesFromQuotes(quotes: readonly OptionQuote[], where = 'quotes'): ExpirySmile[] {
  const byT = new Map<number, OptionQuote[]>();
  quotes.forEach((q, n) => {
    const bad =
      !(q.tYears > 0) ? 'tYears must be > 0' : !(q.strike > 0) ? 'strike must be > 0' : !(q.forward > 0) ? 'forward must be > 0' : !(q.iv > 0 && Number.isFinite(q.iv)) ? 'iv must be a positive decimal' : undefined;
    if (bad) throw new InputError(`${bad} (got ${JSON.stringify(q)})`, `${where}[${n}]`);
    const list = byT.get(q.tYears);
    if (list) list.push(q);
    else byT.set(q.tYears, [q]);
  });
  const smiles: ExpirySmile[] = [];
  for (const T of [...byT.keys()].sort((a, b) => a - b)) {
    const qs = byT.get(T)!;
    // One forward per expiry: the median of what the rows say (they normally all agree).
    const fs = qs.map((q) => q.forward).sort((a, b) => a - b);
    const F = fs[Math.floor(fs.length / 2)]!;
    const perStrike = new Map<number, { otm: number[]; itm: number[] }>();
    for (const q of qs) {
      const otm = q.isCall ? q.strike >= F : q.strike < F;
      let e = perStrike.get(q.strike);
      if (!e) perStrike.set(q.strike, (e = { otm: [], itm: [] }));
      (otm ? e.otm : e.itm).push(q.iv);
    }
    const strikes = [...perStrike.keys()].sort((a, b) => a - b);
    const k: number[] = [];
    const w: number[] = [];
    for (const K of strikes) {
      const e = perStrike.get(K)!;
      const vs = e.otm.length ? e.otm : e.itm;
      const iv = vs.reduce((a, b) => a + b, 0) / vs.length;
      k.push(Math.log(K / F));
      w.push(iv * iv * T);
    }
    smiles.push({ tYears: T, forward: F, k, w });
  }
  return smiles;
}

/** Total variance of one smile at k: NaN when k is outside the quotes or too far from any. */
export function smileW(sm: ExpirySmile, k: number, maxGapK: number): number {
  const ks = sm.k;
  const n = ks.length;
  if (n === 0 || k < ks[0]! - 1e-12 || k > ks[n - 1]! + 1e-12) return NaN;
  const kc = Math.min(Math.max(k, ks[0]!), ks[n - 1]!);
  let hi = 0;
  while (ks[hi]! < kc) hi++;
  const lo = ks[hi] === kc ? hi : hi - 1;
  const nearest = Math.min(Math.abs(kc - ks[lo]!), Math.abs(ks[hi]! - kc));
  if (nearest > maxGapK) return NaN;
  if (lo === hi || ks[hi] === ks[lo]) return sm.w[lo]!;
  const a = (kc - ks[lo]!) / (ks[hi]! - ks[lo]!);
  return sm.w[lo]! + a * (sm.w[hi]! - sm.w[lo]!);
}

export function quotesToSurface(quotes: readonly OptionQuote[], opts: QuotesToSurfaceOptions): Surface {
  const where = opts.source || 'quotes';
  const gp = [...gridProblems(opts.kGrid, 'k grid'), ...gridProblems(opts.tGrid, 'T grid', true)];
  if (gp.length) throw new InputError(gp.join('; '), where);
  if (quotes.length === 0) throw new InputError('no option quotes to build a surface from', where);
  const smiles = smilesFromQuotes(quotes, where);
  const maxGapK = opts.maxGapK ?? DEFAULT_MAX_GAP_K;
  const nk = opts.kGrid.length;
  const nt = opts.tGrid.length;
  const iv = new Float64Array(nk * nt);
  const mask = new Uint8Array(nk * nt);
  const tSrc = smiles.map((s) => s.tYears);
  const wAtK = new Float64Array(smiles.length);
  for (let i = 0; i < nk; i++) {
    for (let e = 0; e < smiles.length; e++) wAtK[e] = smileW(smiles[e]!, opts.kGrid[i]!, maxGapK);
    for (let j = 0; j < nt; j++) {
      const w = interpAcrossT(tSrc, wAtK, opts.tGrid[j]!, opts.extrapolate ?? false);
      const idx = i * nt + j;
      if (Number.isFinite(w) && w > 0) iv[idx] = Math.sqrt(w / opts.tGrid[j]!);
      else {
        iv[idx] = NaN;
        mask[idx] = 1;
      }
    }
  }
  if (mask.every((m) => m === 1)) {
    throw new InputError(`no quote lies near the grid (quoted expiries ${tSrc.map((t) => t.toFixed(3)).join(', ')} years; k range per expiry ${smiles.map((s) => `[${s.k[0]!.toFixed(2)}, ${s.k[s.k.length - 1]!.toFixed(2)}]`).join(', ')})`, where);
  }
  const surface: Surface = {
    kGrid: [...opts.kGrid],
    tGrid: [...opts.tGrid],
    iv,
    mask,
    spot: opts.spot,
    forward: opts.tGrid.map((t) => interpForward(tSrc, smiles.map((s) => s.forward), opts.spot, t)),
    timestamp: opts.timestamp,
    source: opts.source,
  };
  if (opts.name !== undefined) surface.name = opts.name;
  validateSurface(surface, where);
  return surface;
}
