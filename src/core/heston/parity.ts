/**
 * Parity of the batched float32 tfjs pricer against the Float64 reference on the active tfjs
 * backend — the check the browser tests and the Pricer page run on WebGPU / WebGL / WASM.
 */
import * as tf from '@tensorflow/tfjs';
import { priceBatchTf } from './batchedPricer.ts';
import type { HestonParams } from './params.ts';
import { priceGrid } from './pricer.ts';

export interface ParityReport {
  /** Largest |float32 − Float64| call price over the batch and grid, in units of spot. */
  maxAbsError: number;
  points: number;
  ms: number;
}

/** Prices params × (strikes e^k, maturities) with spot 1 on both paths and compares. */
export async function batchParity(params: HestonParams[], kGrid: number[], tGrid: number[]): Promise<ParityReport> {
  const t0 = performance.now();
  const strikes = kGrid.map((k) => Math.exp(k));
  const x = tf.tensor2d(params.map((p) => [p.kappa, p.theta, p.sigma, p.rho, p.v0]));
  const out = priceBatchTf(x, strikes, tGrid, 1);
  const got = await out.data();
  tf.dispose([x, out]);
  const n = kGrid.length * tGrid.length;
  let worst = 0;
  params.forEach((p, b) => {
    const ref = priceGrid(p, 1, strikes, tGrid);
    for (let a = 0; a < n; a++) worst = Math.max(worst, Math.abs(got[b * n + a]! - ref.calls[a]!));
  });
  return { maxAbsError: worst, points: params.length * n, ms: performance.now() - t0 };
}
