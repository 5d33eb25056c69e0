/**
 * The calibration settings a user chooses (CLI `calibrate` flags, the Pricer page's form),
 * declared once as a ConfigSpec: defaults, validation, flags and help derive from it. The
 * numerical tolerances (gtol, xtol, ftol, resTol, initialDamping) stay in CalibrationOptions:
 * they are for callers such as the inverse network's warm start, not for a form.
 */
import { defaultsOf, type ConfigSpec } from '../config.ts';

export interface CalibrationSettings {
  target: 'iv' | 'price';
  multiStart: number;
  seed: number;
  fellerPenalty: number;
  maxIterations: number;
}

export const CALIBRATION_SETTINGS_SPEC: ConfigSpec<CalibrationSettings> = {
  target: { default: 'iv', choices: ['iv', 'price'], doc: 'residuals in implied vol, or in OTM price / spot' },
  multiStart: { default: 1, integer: true, min: 1, max: 50, doc: 'starts: the data-derived start plus draws from the original design’s prior' },
  seed: { default: 1, integer: true, doc: 'seed of the multi-start draws' },
  fellerPenalty: { default: 0, min: 0, doc: 'λ of the Feller penalty residual λ·max(0, σ² − 2κθ); 0 = off' },
  maxIterations: { default: 100, integer: true, min: 1, doc: 'Levenberg–Marquardt iterations per start' },
};

export const DEFAULT_CALIBRATION_SETTINGS: CalibrationSettings = defaultsOf(CALIBRATION_SETTINGS_SPEC);
