/**
 * Diagnostics page settings: which backends the self-test runs on and the matMul size (its
 * default from the self-test's SELFTEST_SETTINGS_SPEC, the same the `selftest` CLI uses).
 */
import type { ConfigSpec } from '../../core/config.ts';
import { BACKEND_ORDER, type BackendName } from '../../core/backend/names.ts';
import { SELFTEST_SETTINGS_SPEC } from '../../core/backend/selftestConfig.ts';

export interface DiagnosticsState {
  /** 'available': every backend that initialises here; or one backend. */
  backends: 'available' | BackendName;
  size: number;
}

/** matMul sizes offered: 64² is dominated by dispatch overhead, 512² takes ~1–2 s on cpu. */
export const SELFTEST_SIZES = [64, 128, 256, 512] as const;

export const DIAGNOSTICS_STATE_SPEC: ConfigSpec<DiagnosticsState> = {
  backends: { default: 'available', choices: ['available', ...BACKEND_ORDER], doc: 'backends the self-test runs on' },
  size: { ...SELFTEST_SETTINGS_SPEC.size, min: SELFTEST_SIZES[0], max: SELFTEST_SIZES[SELFTEST_SIZES.length - 1] },
};
