/**
 * What the inverse network sees and predicts, in normalised units, and the way back.
 *
 * Input: log implied vol, z-scored PER GRID CELL (mean and std of each (k, T) point over the
 * training set), masked cells set to 0 with the mask as a second channel. Why per cell rather than
 * the seed's total variance w = σ²T with one global mean/std: on the seed grid w spans 40× between
 * T = 0.05 and T = 2, so one global z-score squeezes the short maturities — exactly where v0 and
 * the skew (rho, sigma) show — into a sliver near the mean while the long end dominates the
 * reconstruction loss. Per-cell z-scores give every grid point unit variance. Why log IV (schema 2;
 * schema-1 checkpoints used IV itself): the SurfaceHead reconstructs this same channel, and
 * exp(·) of anything is a positive vol, so the reconstruction is a valid vol surface by
 * construction (a schema-1 network reconstructed −0.13 on a surface far from its training data).
 *
 * Output: parameters mapped through a BOUNDED transform and z-scored with the training set's
 * statistics (the seed's "params_scaled"). For rho, u = logit((ρ − lo)/(hi − lo)); for the positive
 * parameters, u = logit((ln p − ln lo)/(ln hi − ln lo)) (their priors are log-uniform), with
 * [lo, hi] the model's domain (PARAM_BOUNDS, the calibrator's box). The way back is a sigmoid, so
 * whatever the heads output — even on a surface unlike anything in training — the decoded
 * parameters lie inside the domain: |ρ| < 0.999, never the −1.376 a schema-1 network (identity
 * transform on ρ) returned. On the seed prior the transform is gentle (κ, θ, σ, v0 sit in
 * 0.6–0.9 of their log range, where the logit is close to linear); only ρ near −0.95 is stretched.
 * 'log' and 'identity' remain readable for schema-1 checkpoints (predictions from those are
 * checked against the domain in predict.ts instead).
 */
import { PARAM_BOUNDS, PARAM_NAMES, type HestonParams, paramsFromArray } from '../heston/params.ts';

/** 'logLogit' and 'logit' are bounded (schema 2); 'log' and 'identity' are schema 1's. */
export type ParamTransform = 'log' | 'identity' | 'logLogit' | 'logit';
/** 'logIv' (schema 2) or 'iv' (schema 1). */
export type InputRepresentation = 'iv' | 'logIv';

export interface InverseNormalisation {
  input: InputRepresentation;
  /** Per-cell mean and std of the unmasked inputs (log IV or IV), row-major [nk × nt]. */
  ivMean: number[];
  ivStd: number[];
  /**
   * Per-cell smallest and largest unmasked IV (decimals) of the training split (schema 2): what
   * the out-of-distribution check compares a surface's levels with. Absent in schema-1 files.
   */
  ivMin?: number[];
  ivMax?: number[];
  /** Share of training cells that were masked, per cell (schema 2). */
  maskedShare?: number[];
  /** PARAM_NAMES order. */
  paramTransform: ParamTransform[];
  /** [lo, hi] per parameter in natural units, for the bounded transforms (schema 2). */
  paramBounds?: [number, number][];
  paramMean: number[];
  paramStd: number[];
}

export const PARAM_TRANSFORMS: ParamTransform[] = PARAM_NAMES.map((p) => (p === 'rho' ? 'logit' : 'logLogit'));
/** The bounded transforms' [lo, hi]: the model's domain, so no prediction can leave it. */
export const TRANSFORM_BOUNDS: [number, number][] = PARAM_NAMES.map((p) => [PARAM_BOUNDS[p].lo, PARAM_BOUNDS[p].hi]);

export function isBounded(t: ParamTransform): boolean {
  return t === 'logit' || t === 'logLogit';
}

/** Stds below this are replaced by 1: a cell or parameter that never varies carries no scale. */
const MIN_STD = 1e-8;

/** A point the network may read: not masked, finite and a positive vol (log IV needs one). */
function usable(iv: number, masked: number | undefined): boolean {
  return masked !== 1 && Number.isFinite(iv) && iv > 0;
}

function toInput(iv: number, input: InputRepresentation): number {
  return input === 'logIv' ? Math.log(iv) : iv;
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
  const input: InputRepresentation = 'logIv';
  const sum = new Float64Array(cells);
  const sq = new Float64Array(cells);
  const cnt = new Float64Array(cells);
  const lo = new Float64Array(cells).fill(Infinity);
  const hi = new Float64Array(cells).fill(-Infinity);
  for (let ii = 0; ii < indices.length; ii++) {
    const off = indices[ii]! * cells;
    for (let c = 0; c < cells; c++) {
      const raw = iv[off + c]!;
      if (!usable(raw, mask?.[off + c])) continue;
      const v = toInput(raw, input);
      sum[c]! += v;
      sq[c]! += v * v;
      cnt[c]! += 1;
      if (raw < lo[c]!) lo[c] = raw;
      if (raw > hi[c]!) hi[c] = raw;
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
  // A cell never seen unmasked has no range: [0, 0] says "any value here is outside".
  const ivMin = Array.from(lo, (v) => (Number.isFinite(v) ? v : 0));
  const ivMax = Array.from(hi, (v) => (Number.isFinite(v) ? v : 0));
  const maskedShare = Array.from(cnt, (n) => (indices.length > 0 ? 1 - n / indices.length : 1));
  let paramMean: number[];
  let paramStd: number[];
  const paramTransform = paramStatsFrom ? [...paramStatsFrom.paramTransform] : [...PARAM_TRANSFORMS];
  const paramBounds = paramStatsFrom ? paramStatsFrom.paramBounds?.map((b) => [...b] as [number, number]) : TRANSFORM_BOUNDS.map((b) => [...b] as [number, number]);
  if (params) {
    paramMean = [];
    paramStd = [];
    for (let p = 0; p < PARAM_NAMES.length; p++) {
      let s = 0;
      let s2 = 0;
      for (let ii = 0; ii < indices.length; ii++) {
        const v = forward(params[indices[ii]! * 5 + p]!, paramTransform[p]!, paramBounds?.[p]);
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
  const out: InverseNormalisation = { input, ivMean, ivStd, ivMin, ivMax, maskedShare, paramTransform, paramMean, paramStd };
  if (paramBounds) out.paramBounds = paramBounds;
  return out;
}

function logit(s: number): number {
  return Math.log(s / (1 - s));
}

function sigmoid(u: number): number {
  return u >= 0 ? 1 / (1 + Math.exp(-u)) : Math.exp(u) / (1 + Math.exp(u));
}

/** Where a bounded transform maps lo and hi: the unit interval's ends, in the transform's own coordinate. */
function unitPosition(x: number, t: ParamTransform, b: [number, number]): number {
  return t === 'logLogit' ? (Math.log(x) - Math.log(b[0])) / (Math.log(b[1]) - Math.log(b[0])) : (x - b[0]) / (b[1] - b[0]);
}

/**
 * Natural units → the network's target coordinate. A value on or beyond a bound (possible only
 * for data outside the model's domain, which the readers refuse) is held a hair inside it so the
 * logit stays finite.
 */
export function forward(x: number, t: ParamTransform, b?: [number, number]): number {
  if (t === 'log') return Math.log(x);
  if (t === 'identity') return x;
  if (!b) throw new Error(`transform ${t} needs bounds`);
  const s = Math.min(Math.max(unitPosition(x, t, b), 1e-12), 1 - 1e-12);
  return logit(s);
}

/** The network's coordinate → natural units; the bounded transforms land inside [lo, hi] for every finite u. */
export function inverse(u: number, t: ParamTransform, b?: [number, number]): number {
  if (t === 'log') return Math.exp(u);
  if (t === 'identity') return u;
  if (!b) throw new Error(`transform ${t} needs bounds`);
  const s = sigmoid(u);
  const x = t === 'logLogit' ? Math.exp(Math.log(b[0]) + s * (Math.log(b[1]) - Math.log(b[0]))) : b[0] + s * (b[1] - b[0]);
  // The sigmoid lands in (0, 1); exp(ln hi) can still round one ulp past hi (50.000000000000014),
  // so the last step keeps float rounding inside the closed box. It moves nothing by more than an ulp.
  return Math.min(b[1], Math.max(b[0], x));
}

/**
 * Network input for one surface, written at `out[outOffset …]` as [nk, nt, 2] (NHWC): channel 0
 * the z-scored (log) IV (0 where masked, not finite or not positive), channel 1 the mask.
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
    out[outOffset + 2 * c] = ok ? (toInput(v, norm.input) - norm.ivMean[c]!) / norm.ivStd[c]! : 0;
    out[outOffset + 2 * c + 1] = ok ? 0 : 1;
  }
}

/** Transformed, z-scored parameters of sample i, written at out[outOffset …]. */
export function encodeParamsInto(params: ArrayLike<number>, i: number, norm: InverseNormalisation, out: Float32Array, outOffset: number): void {
  for (let p = 0; p < 5; p++) {
    out[outOffset + p] = (forward(params[i * 5 + p]!, norm.paramTransform[p]!, norm.paramBounds?.[p]) - norm.paramMean[p]!) / norm.paramStd[p]!;
  }
}

/** Network output (z-scored, transformed) → Heston parameters in natural units. */
export function decodeParams(z: ArrayLike<number>, norm: InverseNormalisation, offset = 0): HestonParams {
  const a: number[] = [];
  for (let p = 0; p < 5; p++) a.push(inverse(z[offset + p]! * norm.paramStd[p]! + norm.paramMean[p]!, norm.paramTransform[p]!, norm.paramBounds?.[p]));
  return paramsFromArray(a);
}

/** Reconstruction (normalised) → IV decimals, row-major [nk × nt]; positive by construction for 'logIv'. */
export function decodeSurface(recon: ArrayLike<number>, norm: InverseNormalisation, offset = 0): Float64Array {
  const cells = norm.ivMean.length;
  const out = new Float64Array(cells);
  for (let c = 0; c < cells; c++) {
    const v = recon[offset + c]! * norm.ivStd[c]! + norm.ivMean[c]!;
    out[c] = norm.input === 'logIv' ? Math.exp(v) : v;
  }
  return out;
}

/** True when every parameter goes through a bounded transform and the input is log IV (schema 2). */
export function hasBoundedOutputs(norm: InverseNormalisation): boolean {
  return norm.input === 'logIv' && norm.paramTransform.every(isBounded) && norm.paramBounds !== undefined;
}
