/**
 * What the inverse network sees and predicts, in normalised units, and the way back.
 *
 * Input: implied vol, z-scored PER GRID CELL (mean and std of each (k, T) point over the training
 * set), masked cells set to 0 with the mask as a second channel. Why IV per cell rather than the
 * seed's total variance w = σ²T with one global mean/std: on the seed grid w spans 40× between
 * T = 0.05 and T = 2, so one global z-score squeezes the short maturities — exactly where v0 and
 * the skew (rho, sigma) show — into a sliver near the mean while the long end dominates the
 * reconstruction loss. Per-cell z-scores give every grid point unit variance, and IV is nearly
 * linear in sqrt(theta), sqrt(v0) and rho, which the network then has to undo less.
 *
 * Output: parameters transformed (log for the positive ones, whose priors are log-uniform;
 * identity for rho) and z-scored with the training set's statistics, the seed's "params_scaled".
 */
import { PARAM_NAMES, type HestonParams, paramsFromArray } from '../heston/params.ts';

export type ParamTransform = 'log' | 'identity';

export interface InverseNormalisation {
  input: 'iv';
  /** Per-cell mean and std of the unmasked IVs, row-major [nk × nt]. */
  ivMean: number[];
  ivStd: number[];
  /** PARAM_NAMES order. */
  paramTransform: ParamTransform[];
  paramMean: number[];
  paramStd: number[];
}

export const PARAM_TRANSFORMS: ParamTransform[] = PARAM_NAMES.map((p) => (p === 'rho' ? 'identity' : 'log'));

/** Stds below this are replaced by 1: a cell or parameter that never varies carries no scale. */
const MIN_STD = 1e-8;

function usable(iv: number, masked: number | undefined): boolean {
  return masked !== 1 && Number.isFinite(iv);
}

/**
 * Statistics over the samples listed in `indices` (the training split only, so validation and
 * test data never leak into the scaling). `params` may be null for unlabelled (real) data, in
 * which case the parameter statistics come from `paramStatsFrom`.
 */
export function computeNormalisation(
  iv: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  params: ArrayLike<number> | null,
  cells: number,
  indices: ArrayLike<number>,
  paramStatsFrom?: InverseNormalisation,
): InverseNormalisation {
  const sum = new Float64Array(cells);
  const sq = new Float64Array(cells);
  const cnt = new Float64Array(cells);
  for (let ii = 0; ii < indices.length; ii++) {
    const off = indices[ii]! * cells;
    for (let c = 0; c < cells; c++) {
      const v = iv[off + c]!;
      if (!usable(v, mask?.[off + c])) continue;
      sum[c]! += v;
      sq[c]! += v * v;
      cnt[c]! += 1;
    }
  }
  const ivMean: number[] = [];
  const ivStd: number[] = [];
  for (let c = 0; c < cells; c++) {
    const n = cnt[c]!;
    const m = n > 0 ? sum[c]! / n : 0;
    const varc = n > 1 ? Math.max(sq[c]! / n - m * m, 0) : 0;
    ivMean.push(m);
    ivStd.push(Math.sqrt(varc) > MIN_STD ? Math.sqrt(varc) : 1);
  }
  let paramMean: number[];
  let paramStd: number[];
  if (params) {
    paramMean = [];
    paramStd = [];
    for (let p = 0; p < PARAM_NAMES.length; p++) {
      let s = 0;
      let s2 = 0;
      for (let ii = 0; ii < indices.length; ii++) {
        const v = forward(params[indices[ii]! * 5 + p]!, PARAM_TRANSFORMS[p]!);
        s += v;
        s2 += v * v;
      }
      const n = Math.max(indices.length, 1);
      const m = s / n;
      const sd = Math.sqrt(Math.max(s2 / n - m * m, 0));
      paramMean.push(m);
      paramStd.push(sd > MIN_STD ? sd : 1);
    }
  } else if (paramStatsFrom) {
    paramMean = [...paramStatsFrom.paramMean];
    paramStd = [...paramStatsFrom.paramStd];
  } else {
    throw new Error('computeNormalisation: unlabelled data needs parameter statistics from a checkpoint');
  }
  return { input: 'iv', ivMean, ivStd, paramTransform: [...PARAM_TRANSFORMS], paramMean, paramStd };
}

function forward(x: number, t: ParamTransform): number {
  return t === 'log' ? Math.log(x) : x;
}

function inverse(x: number, t: ParamTransform): number {
  return t === 'log' ? Math.exp(x) : x;
}

/**
 * Network input for one surface, written at `out[outOffset …]` as [nk, nt, 2] (NHWC): channel 0
 * the z-scored IV (0 where masked or not finite), channel 1 the mask.
 */
export function encodeSurfaceInto(
  iv: ArrayLike<number>,
  mask: ArrayLike<number> | undefined,
  inOffset: number,
  norm: InverseNormalisation,
  out: Float32Array,
  outOffset: number,
): void {
  const cells = norm.ivMean.length;
  for (let c = 0; c < cells; c++) {
    const v = iv[inOffset + c]!;
    const ok = usable(v, mask?.[inOffset + c]);
    out[outOffset + 2 * c] = ok ? (v - norm.ivMean[c]!) / norm.ivStd[c]! : 0;
    out[outOffset + 2 * c + 1] = ok ? 0 : 1;
  }
}

/** Transformed, z-scored parameters of sample i, written at out[outOffset …]. */
export function encodeParamsInto(params: ArrayLike<number>, i: number, norm: InverseNormalisation, out: Float32Array, outOffset: number): void {
  for (let p = 0; p < 5; p++) {
    out[outOffset + p] = (forward(params[i * 5 + p]!, norm.paramTransform[p]!) - norm.paramMean[p]!) / norm.paramStd[p]!;
  }
}

/** Network output (z-scored, transformed) → Heston parameters in natural units. */
export function decodeParams(z: ArrayLike<number>, norm: InverseNormalisation, offset = 0): HestonParams {
  const a: number[] = [];
  for (let p = 0; p < 5; p++) a.push(inverse(z[offset + p]! * norm.paramStd[p]! + norm.paramMean[p]!, norm.paramTransform[p]!));
  return paramsFromArray(a);
}

/** Reconstruction (normalised) → IV decimals, row-major [nk × nt]. */
export function decodeSurface(recon: ArrayLike<number>, norm: InverseNormalisation, offset = 0): Float64Array {
  const cells = norm.ivMean.length;
  const out = new Float64Array(cells);
  for (let c = 0; c < cells; c++) out[c] = recon[offset + c]! * norm.ivStd[c]! + norm.ivMean[c]!;
  return out;
}
