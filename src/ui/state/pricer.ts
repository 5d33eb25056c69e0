/**
 * Pricer & Calibration page settings: the five Heston parameters the live surface is priced at,
 * which surface the calibration runs on, and the calibration settings (their defaults and bounds
 * from core's CALIBRATION_SETTINGS_SPEC, the same the `calibrate` CLI's flags use).
 */
import type { ConfigSpec } from '../../core/config.ts';
import { PARAM_BOUNDS, type HestonParams } from '../../core/heston/params.ts';
import { CALIBRATION_SETTINGS_SPEC, type CalibrationSettings } from '../../core/heston/calibrationConfig.ts';

export interface PricerState extends HestonParams, CalibrationSettings {
  /** Content hash of the library surface to calibrate ('' = the bundled sample). */
  surface: string;
}

// Page defaults for the live surface: no core config holds a "parameters to show first"; these
// give an equity-index-like skew (ρ −0.7) inside the seed prior. Links may set anything inside the
// calibrator's bounds (PARAM_BOUNDS), the same range the number boxes accept.
const param = (name: keyof HestonParams, dflt: number, doc: string) => ({ default: dflt, doc, min: PARAM_BOUNDS[name].lo, max: PARAM_BOUNDS[name].hi });

export const PRICER_STATE_SPEC: ConfigSpec<PricerState> = {
  kappa: param('kappa', 2, 'κ mean reversion'),
  theta: param('theta', 0.04, 'θ long-run variance'),
  sigma: param('sigma', 0.6, 'σ vol of vol'),
  rho: param('rho', -0.7, 'ρ correlation'),
  v0: param('v0', 0.03, 'v0 initial variance'),
  surface: { default: '', doc: 'content hash of the library surface to calibrate (empty: the bundled sample)' },
  ...CALIBRATION_SETTINGS_SPEC,
};
