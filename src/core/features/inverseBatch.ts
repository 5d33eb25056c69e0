/**
 * Running an inverse-Heston checkpoint over many surfaces at once (every surface of a market): one
 * encode, batched inference on the active tfjs backend (predictEncoded reads back with await
 * t.data(), never dataSync), one decode. Each surface's parameters depend on that surface alone,
 * so the feature modules can compute them for the whole market up front without any step seeing
 * another step's data.
 */
import { InputError } from '../errors.ts';
import type { InverseCheckpoint } from '../inverse/checkpoint.ts';
import { checkGrid } from '../inverse/datasets.ts';
import { InverseHestonModel } from '../inverse/model.ts';
import { decodeParams, encodeSurfaceInto } from '../inverse/normalisation.ts';
import { OOD_Z, predictEncoded } from '../inverse/predict.ts';
import { throwIfAborted, yieldToEventLoop, type JobContext } from '../jobs.ts';

/** A turn of the event loop, then CancelledError if the job was cancelled meanwhile. */
export async function yieldToCancel(ctx: JobContext): Promise<void> {
  await yieldToEventLoop();
  throwIfAborted(ctx.signal);
}

export interface BatchedInverse {
  /** [m × 5] κ, θ, σ, ρ, v0 per surface, in the order given. */
  params: Float64Array;
  /** How many surfaces lie beyond OOD_Z training standard deviations at some grid point. */
  outOfDistribution: number;
}

/**
 * Parameters for surfaces `rows` of a stacked [·, nk, nt] iv/mask pair on `grid` (which must be the
 * checkpoint's; `where` names the data in the error otherwise).
 */
export async function inverseParamsBatch(
  ck: InverseCheckpoint,
  iv: ArrayLike<number>,
  mask: ArrayLike<number>,
  rows: ArrayLike<number>,
  grid: { kGrid: ArrayLike<number>; tGrid: ArrayLike<number> },
  where: string,
  ctx: JobContext = {},
): Promise<BatchedInverse> {
  checkGrid(Array.from(grid.kGrid), Array.from(grid.tGrid), ck.grid, where);
  const cells = ck.grid.kGrid.length * ck.grid.tGrid.length;
  const m = rows.length;
  const x = new Float32Array(m * cells * 2);
  let ood = 0;
  for (let i = 0; i < m; i++) {
    encodeSurfaceInto(iv, mask, rows[i]! * cells, ck.normalisation, x, i * cells * 2);
    for (let c = 0; c < cells; c++) {
      if (Math.abs(x[i * cells * 2 + 2 * c]!) > OOD_Z) {
        ood++;
        break;
      }
    }
  }
  const params = new Float64Array(m * 5);
  if (m === 0) return { params, outOfDistribution: 0 };
  const model = new InverseHestonModel(ck.topology, ck.weights);
  try {
    // Batches of 256 (~30 ms each on wasm) so a cancel lands between them.
    const out = { params: new Float32Array(m * 5) };
    for (let from = 0; from < m; from += 256) {
      await yieldToCancel(ctx);
      const len = Math.min(256, m - from);
      const part = await predictEncoded(model, x.subarray(from * cells * 2, (from + len) * cells * 2), len, 256);
      out.params.set(part.params, from * 5);
    }
    for (let i = 0; i < m; i++) {
      const p = decodeParams(out.params, ck.normalisation, i * 5);
      params.set([p.kappa, p.theta, p.sigma, p.rho, p.v0], i * 5);
    }
  } finally {
    model.dispose();
  }
  for (let i = 0; i < params.length; i++) if (!Number.isFinite(params[i]!)) throw new InputError(`the network returned a non-finite parameter for surface ${rows[Math.floor(i / 5)]}`, where);
  return { params, outOfDistribution: ood };
}
