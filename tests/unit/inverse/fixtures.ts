/**
 * Test fixtures for the inverse network's mechanics. `toySurfaces` is NOT a Heston generator: it
 * is a smooth, deterministic map from parameters to a 5 × 6 "surface" (level from v0/theta/kappa,
 * slope from rho, curvature from sigma) — enough structure for a network to learn quickly, so the
 * tests can check that training, pausing, resuming and checkpoints behave, in a second or two.
 * Accuracy on true Heston surfaces is measured by the evaluation (README, `inverse eval`).
 */
import { initBackend } from '../../../src/core/backend/backends.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import type { LabelledSurfaces } from '../../../src/core/inverse/datasets.ts';

export const K_GRID = [-0.4, -0.2, 0, 0.2, 0.4];
export const T_GRID = [0.05, 0.1, 0.25, 0.5, 1, 2];

export async function useWasm(): Promise<void> {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(`wasm backend unavailable: ${a.error}`);
}

export function toySurfaces(n: number, seed: number, kGrid = K_GRID, tGrid = T_GRID): LabelledSurfaces {
  const rng = new Rng(seed);
  const nk = kGrid.length;
  const nt = tGrid.length;
  const params = new Float64Array(n * 5);
  const iv = new Float64Array(n * nk * nt);
  const mask = new Uint8Array(n * nk * nt);
  for (let i = 0; i < n; i++) {
    const [kappa, theta, sigma, rho, v0] = [rng.logUniform(0.5, 8), rng.logUniform(0.01, 0.08), rng.logUniform(0.1, 1), rng.range(-0.95, 0.2), rng.logUniform(0.01, 0.08)];
    params.set([kappa, theta, sigma, rho, v0], i * 5);
    for (let a = 0; a < nk; a++) {
      for (let b = 0; b < nt; b++) {
        const T = tGrid[b]!;
        const k = kGrid[a]!;
        const v = theta + ((v0 - theta) * (1 - Math.exp(-kappa * T))) / (kappa * T);
        iv[i * nk * nt + a * nt + b] = Math.sqrt(v) + (0.3 * rho * k) / Math.sqrt(1 + T) + 0.3 * sigma * k * k;
      }
    }
    // Deep wings at the shortest maturity masked, as a real generator masks uninformative points.
    mask[i * nk * nt + 0] = 1;
    mask[i * nk * nt + (nk - 1) * nt] = 1;
  }
  return { n, kGrid, tGrid, params, iv, mask };
}
