/**
 * The self-test's user-facing settings (CLI `selftest` flags, the Diagnostics page's form),
 * declared once as a ConfigSpec. runSelftest takes them as options; its own fallbacks for size
 * and seed read these defaults (a bare call times each check once: reps 1).
 */
import { defaultsOf, type ConfigSpec } from '../config.ts';

export interface SelftestSettings {
  size: number;
  reps: number;
  seed: number;
}

export const SELFTEST_SETTINGS_SPEC: ConfigSpec<SelftestSettings> = {
  size: { default: 128, integer: true, min: 1, max: 4096, doc: 'matMul size n for the n×n product' },
  reps: { default: 3, integer: true, min: 1, max: 1000, doc: 'timed repetitions per check; the median is reported' },
  seed: { default: 20240607, integer: true, doc: 'seed for the matrices, the batch and the weights' },
};

export const DEFAULT_SELFTEST_SETTINGS: SelftestSettings = defaultsOf(SELFTEST_SETTINGS_SPEC);
