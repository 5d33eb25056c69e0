/**
 * `selftest`: the Diagnostics page's self-test, headless — a matMul and one Adam step of a small
 * conv net on each backend, compared with the cpu backend, with timings. Exits 1 when a check fails.
 */
import type { CommandDef } from '../io.ts';
import { parse } from '../io.ts';
import { configFlags, configFromFlags, configHelp, resolveConfig } from '../../src/core/config.ts';
import { SELFTEST_SETTINGS_SPEC } from '../../src/core/backend/selftestConfig.ts';
import { InputError, LabError } from '../../src/core/errors.ts';
import { isBackendName, type BackendName } from '../../src/core/backend/backends.ts';
import { runSelftest } from '../../src/core/backend/selftest.ts';

/** The backends that can exist in Node (webgpu / webgl need a browser). */
const NODE_BACKENDS: BackendName[] = ['cpu', 'wasm'];

export const selftest: CommandDef = {
  name: 'selftest',
  summary: 'the Diagnostics self-test on cpu / wasm: matMul + one conv-net Adam step vs cpu, with timings',
  usage: [
    'npm run --silent cli -- selftest [--backend cpu|wasm|all] [--size N] [--reps N] [--seed N]',
    '',
    '  --backend cpu|wasm|all  backend to test (default all = cpu and wasm)',
    configHelp(SELFTEST_SETTINGS_SPEC),
    '',
    'Prints the report as JSON; exits 1 when any check fails.',
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, { backend: { type: 'string' }, ...configFlags(SELFTEST_SETTINGS_SPEC) });
    const which = values.backend ?? 'all';
    if (which !== 'all' && !isBackendName(which)) throw new InputError(`must be one of cpu, wasm, webgl, webgpu, all; got "${which}"`, '--backend');
    const { size, reps, seed } = resolveConfig(SELFTEST_SETTINGS_SPEC, configFromFlags(SELFTEST_SETTINGS_SPEC, values), 'selftest');
    const backends = which === 'all' ? NODE_BACKENDS : [which as BackendName];
    const report = await runSelftest({ backends, size, reps, seed }, ctx);
    if (report.ok) return report;
    process.stdout.write(JSON.stringify(report) + '\n');
    const failed = report.results.filter((r) => !r.ok).map((r) => `${r.backend} (${r.error ?? r.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')})`);
    throw new LabError(`self-test failed on ${failed.join(', ')}`);
  },
};
