/**
 * The Float64 Heston functions the evaluation plugs in: the surface at given parameters (for the
 * surface-space error and the overlays) and the Levenberg–Marquardt calibrator (warm start,
 * "refine with LM"). Kept in one place so the evaluation module itself stays pricer-agnostic.
 */
import { hestonIvSurface } from '../heston/surface.ts';
import { calibrateSurface } from '../heston/calibrate.ts';
import type { EvaluateHooks } from './evaluate.ts';

/**
 * LM stops once the RMS IV residual is ≤ 1e-8 (1e-6 vol points), ~3× the Float64 pricer's
 * rounding floor on the seed grid (RMS 2–4e-9): below it, iterations only move the parameters by
 * ~1e-9. Same rule for every start, so the warm/default comparison stays fair; on noisy (real)
 * surfaces the residual never gets there and the calibrator's own tests decide.
 */
export const LM_RES_TOL = 1e-8;
/** μ0 for a start from the network (close by construction); the calibrator's default is 1e-3. */
export const WARM_START_DAMPING = 1e-6;

export function evaluationHooks(): EvaluateHooks {
  return {
    hestonSurface: (p, kGrid, tGrid) => hestonIvSurface(p, kGrid, tGrid),
    calibrate: async (surface, start, ctx) => {
      const r = await calibrateSurface(surface, start ? { start, resTol: LM_RES_TOL, initialDamping: WARM_START_DAMPING, signal: ctx?.signal } : { resTol: LM_RES_TOL, signal: ctx?.signal });
      return { params: r.params, rmseVol: r.rmseVol, iterations: r.iterations, ms: r.ms, converged: r.converged };
    },
  };
}
