/**
 * The Float64 Heston functions the evaluation plugs in: the surface at given parameters (for the
 * surface-space error and the overlays) and the Levenberg–Marquardt calibrator (warm start,
 * "refine with LM"). Kept in one place so the evaluation module itself stays pricer-agnostic.
 */
import { hestonIvSurface } from '../heston/surface.ts';
import { calibrateSurface } from '../heston/calibrate.ts';
import type { EvaluateHooks } from './evaluate.ts';

export function evaluationHooks(): EvaluateHooks {
  return {
    hestonSurface: (p, kGrid, tGrid) => hestonIvSurface(p, kGrid, tGrid),
    calibrate: (surface, start) => {
      const r = calibrateSurface(surface, start ? { start } : {});
      return { params: r.params, rmseVol: r.rmseVol, iterations: r.iterations, ms: r.ms, converged: r.converged };
    },
  };
}
