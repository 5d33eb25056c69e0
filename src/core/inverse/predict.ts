/**
 * Running a trained InverseHestonModel: batched inference on encoded inputs, and "apply a
 * checkpoint to a surface" — parameters in natural units, the reconstructed surface and the
 * latent embedding.
 */
import * as tf from '@tensorflow/tfjs';
import type { HestonParams } from '../heston/params.ts';
import type { Surface } from '../surface/types.ts';
import type { InverseCheckpoint } from './checkpoint.ts';
import { InverseHestonModel } from './model.ts';
import { decodeParams, decodeSurface, type InverseNormalisation } from './normalisation.ts';
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
  /** Reconstructed IV, decimals, row-major [nk × nt]. */
  reconstruction: Float64Array;
  /** The regime embedding z. */
  latent: number[];
  /** Set when the surface lies outside what the network was trained on (its answer is an extrapolation). */
  warning?: string;
}

/** Beyond this many training-set standard deviations at some grid point, a prediction is flagged. */
export const OOD_Z = 4;

function oodWarning(x: Float32Array, offset: number, grid: { kGrid: number[]; tGrid: number[] }): string | undefined {
  const nt = grid.tGrid.length;
  let worst = 0;
  let at = 0;
  for (let c = 0; c < grid.kGrid.length * nt; c++) {
    const z = Math.abs(x[offset + 2 * c]!);
    if (z > worst) {
      worst = z;
      at = c;
    }
  }
  if (worst <= OOD_Z) return undefined;
  const k = grid.kGrid[Math.floor(at / nt)]!;
  const t = grid.tGrid[at % nt]!;
  return `this surface lies outside the network's training data (${worst.toFixed(1)} standard deviations from the training mean at k=${k}, T=${t}): the parameters are an extrapolation — check them against the Heston overlay or refine with LM`;
}

/** Applies a checkpoint to surfaces on its grid (a different grid is an InputError naming it). */
export async function predictSurfaces(ck: InverseCheckpoint, surfaces: readonly Surface[], model?: InverseHestonModel): Promise<InversePrediction[]> {
  const x = encodeSurfaces(surfaces, ck.grid, ck.normalisation);
  const own = model ?? new InverseHestonModel(ck.topology, ck.weights);
  try {
    const out = await predictEncoded(own, x, surfaces.length);
    const cells = ck.grid.kGrid.length * ck.grid.tGrid.length;
    const h = ck.topology.hiddenDim;
    return surfaces.map((_, i) => {
      const p: InversePrediction = {
        params: decodeParams(out.params, ck.normalisation, i * 5),
        reconstruction: decodeSurface(out.recon, ck.normalisation, i * cells),
        latent: Array.from(out.latent.subarray(i * h, (i + 1) * h)),
      };
      const warning = oodWarning(x, i * cells * 2, ck.grid);
      if (warning) p.warning = warning;
      return p;
    });
  } finally {
    if (!model) own.dispose();
  }
}
