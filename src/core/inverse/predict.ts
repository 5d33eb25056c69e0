/**
 * Running a trained InverseHestonModel: batched inference on encoded inputs, and "apply a
 * checkpoint to a surface" — parameters in natural units, the reconstructed surface and the
 * latent embedding.
 */
import * as tf from '@tensorflow/tfjs';
import { paramProblems, type HestonParams } from '../heston/params.ts';
import { InputError } from '../errors.ts';
import type { Surface } from '../surface/types.ts';
import type { InverseCheckpoint } from './checkpoint.ts';
import { InverseHestonModel } from './model.ts';
import { decodeParams, decodeSurface, encodeSurfaceInto, hasBoundedOutputs } from './normalisation.ts';
import { encodeSurfaces } from './datasets.ts';

export interface EncodedPredictions {
  /** z-scored params [n × 5]. */
  params: Float32Array;
  /** Normalised reconstruction [n × cells]. */
  recon: Float32Array;
  /** Latent [n × hiddenDim]. */
  latent: Float32Array;
}

/** Inference in batches of `batch` (bounded memory on any backend; reads back with await). */
export async function predictEncoded(model: InverseHestonModel, x: Float32Array, n: number, batch = 1024): Promise<EncodedPredictions> {
  const { nk, nt, hiddenDim } = model.topology;
  const cells = nk * nt;
  const params = new Float32Array(n * 5);
  const recon = new Float32Array(n * cells);
  const latent = new Float32Array(n * hiddenDim);
  for (let from = 0; from < n; from += batch) {
    const len = Math.min(batch, n - from);
    const [p, r, z] = tf.tidy(() => {
      const xb = tf.tensor4d(x.subarray(from * cells * 2, (from + len) * cells * 2), [len, nk, nt, 2]);
      const out = model.forward(xb);
      return [out.params, out.recon, out.latent];
    });
    params.set(await p!.data(), from * 5);
    recon.set(await r!.data(), from * cells);
    latent.set(await z!.data(), from * hiddenDim);
    tf.dispose([p!, r!, z!]);
  }
  return { params, recon, latent };
}

export interface InversePrediction {
  params: HestonParams;
  /**
   * Reconstructed IV, decimals, row-major [nk × nt]; positive by construction (schema 2), NaN
   * where the surface is masked: the network's fill-in there rests on no data and is not drawn.
   */
  reconstruction: Float64Array;
  /** The regime embedding z. */
  latent: number[];
  /** How far the surface lies from the training data (trainingDataDistance). */
  distance: TrainingDistance;
  /** Set when the surface lies outside what the network was trained on (its answer is an extrapolation): show it BEFORE the numbers. */
  warning?: string;
}

/** Beyond this many training-set standard deviations at some grid point, a prediction is flagged. */
export const OOD_Z = 4;
/** …or beyond this RMS z over the whole surface (a surface shifted by 2.5 std everywhere is no more typical than one 4 std off at a point). */
export const OOD_RMS_Z = 2.5;
/**
 * …or when more than this share of its usable points lie outside the training range of their cell
 * (schema 2 keeps each cell's smallest and largest training vol) by more than OOD_RANGE_MARGIN
 * (relative): a few points just past the range are normal at the prior's corners.
 */
export const OOD_OUTSIDE_SHARE = 0.2;
export const OOD_RANGE_MARGIN = 0.05;

export interface TrainingDistance {
  /** Largest |z| (per-cell z-score of the network's input) over the usable points of cells the training data saw, and where. */
  maxZ: number;
  at: { k: number; t: number } | null;
  /** RMS z over the same points. */
  rmsZ: number;
  /** Usable (unmasked, finite, positive) points, and masked ones. */
  usable: number;
  masked: number;
  /** Usable points outside their cell's training vol range by more than OOD_RANGE_MARGIN (schema 2; 0 for schema 1). */
  outsideRange: number;
  /** Usable points at cells the training data never had unmasked. */
  unseenCells: number;
  /** True when any test below fires; `reasons` says which, in words. */
  outside: boolean;
  reasons: string[];
}

/**
 * How far a surface (on the checkpoint's grid) lies from the network's training data, from the
 * checkpoint's own statistics: the per-cell z-scores of its input (largest and RMS), its vols
 * against each cell's training range, and cells the training set never saw. A network answers
 * something for any input — this is what says whether the answer is an interpolation.
 */
export function trainingDataDistance(iv: ArrayLike<number>, mask: ArrayLike<number> | undefined, ck: Pick<InverseCheckpoint, 'grid' | 'normalisation'>, offset = 0): TrainingDistance {
  const { kGrid, tGrid } = ck.grid;
  const norm = ck.normalisation;
  const nt = tGrid.length;
  const cells = kGrid.length * nt;
  const x = new Float32Array(cells * 2);
  encodeSurfaceInto(iv, mask, offset, norm, x, 0);
  let maxZ = 0;
  let at: TrainingDistance['at'] = null;
  let sq = 0;
  let usable = 0;
  let outsideRange = 0;
  let unseenCells = 0;
  let scored = 0;
  for (let c = 0; c < cells; c++) {
    if (x[2 * c + 1] === 1) continue;
    usable++;
    // A cell the training data never had unmasked has no statistics (its mean 0 and std 1 are
    // placeholders), so its "z" would be |ln iv|: it counts as unseen, not as a distance.
    if (norm.maskedShare && norm.maskedShare[c]! >= 1) {
      unseenCells++;
      continue;
    }
    scored++;
    const z = Math.abs(x[2 * c]!);
    sq += z * z;
    if (z > maxZ) {
      maxZ = z;
      at = { k: kGrid[Math.floor(c / nt)]!, t: tGrid[c % nt]! };
    }
    if (norm.ivMin && norm.ivMax) {
      const v = iv[offset + c]!;
      if (v < norm.ivMin[c]! * (1 - OOD_RANGE_MARGIN) || v > norm.ivMax[c]! * (1 + OOD_RANGE_MARGIN)) outsideRange++;
    }
  }
  const rmsZ = scored > 0 ? Math.sqrt(sq / scored) : 0;
  const reasons: string[] = [];
  const fmtT = (t: number) => (t < 1 ? `${Math.round(t * 365)} d` : `${t.toFixed(1)} y`);
  if (usable === 0) reasons.push('every point is masked: the network sees no data at all');
  if (maxZ > OOD_Z && at) reasons.push(`${maxZ.toFixed(1)} standard deviations from the training mean at k = ${at.k}, T = ${fmtT(at.t)} (limit ${OOD_Z})`);
  if (rmsZ > OOD_RMS_Z) reasons.push(`${rmsZ.toFixed(1)} standard deviations from the training mean on average (limit ${OOD_RMS_Z})`);
  if (usable > 0 && outsideRange / usable > OOD_OUTSIDE_SHARE) reasons.push(`${outsideRange} of ${usable} points lie outside the vol range the network was trained on`);
  if (unseenCells > 0) reasons.push(`${unseenCells} ${unseenCells === 1 ? 'point sits' : 'points sit'} where the training data never had a quote`);
  return { maxZ, at, rmsZ, usable, masked: cells - usable, outsideRange, unseenCells, outside: reasons.length > 0, reasons };
}

/** The warning a page or the CLI shows before the numbers, or undefined when the surface is within the training data. */
export function distanceWarning(d: TrainingDistance): string | undefined {
  if (!d.outside) return undefined;
  return `this surface lies outside the network's training data (${d.reasons.join('; ')}): the parameters are an extrapolation — check them against the Heston overlay or refine with LM`;
}

/**
 * Schema-1 checkpoints (unbounded heads) can answer outside the model's domain; nothing is shown
 * as a result then: the error names the parameter and says how to get a bounded model.
 */
function checkLegacyOutput(ck: InverseCheckpoint, p: InversePrediction, where: string): void {
  const problems = paramProblems(p.params);
  const negative = p.reconstruction.findIndex((v) => Number.isFinite(v) && !(v > 0));
  if (negative >= 0) problems.push(`reconstructed vol ${p.reconstruction[negative]!.toFixed(4)} at cell ${negative} is not positive`);
  if (problems.length) {
    throw new InputError(
      `checkpoint "${ck.name}" predates bounded outputs (schema 1) and answered outside the model's domain on ${where}: ${problems.join('; ')}. Retrain or fine-tune it with this lab (schema 2 maps every output into the domain by construction).`,
      'checkpoint',
    );
  }
}

/** Applies a checkpoint to surfaces on its grid (a different grid is an InputError naming it). */
export async function predictSurfaces(ck: InverseCheckpoint, surfaces: readonly Surface[], model?: InverseHestonModel): Promise<InversePrediction[]> {
  const x = encodeSurfaces(surfaces, ck.grid, ck.normalisation);
  const own = model ?? new InverseHestonModel(ck.topology, ck.weights);
  const bounded = hasBoundedOutputs(ck.normalisation);
  try {
    const out = await predictEncoded(own, x, surfaces.length);
    const cells = ck.grid.kGrid.length * ck.grid.tGrid.length;
    const h = ck.topology.hiddenDim;
    return surfaces.map((s, i) => {
      const distance = trainingDataDistance(s.iv, s.mask, ck);
      const p: InversePrediction = {
        params: decodeParams(out.params, ck.normalisation, i * 5),
        reconstruction: decodeSurface(out.recon, ck.normalisation, i * cells).map((v, c) => (x[(i * cells + c) * 2 + 1] === 1 ? NaN : v)),
        latent: Array.from(out.latent.subarray(i * h, (i + 1) * h)),
        distance,
      };
      const warning = distanceWarning(distance);
      if (warning) p.warning = warning;
      if (!bounded) checkLegacyOutput(ck, p, s.name ?? s.source ?? `surface ${i}`);
      return p;
    });
  } finally {
    if (!model) own.dispose();
  }
}
