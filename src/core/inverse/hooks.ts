/**
 * The Float64 Heston functions the evaluation plugs in: the surface at given parameters (for the
 * surface-space error and the overlays) and the Levenberg–Marquardt calibrator (warm start,
 * "refine with LM"). Kept in one place so the evaluation module itself stays pricer-agnostic.
 */
import type { EvaluateHooks } from './evaluate.ts';

export function evaluationHooks(): EvaluateHooks {
  return {};
}
