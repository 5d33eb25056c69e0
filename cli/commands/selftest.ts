/**
 * `selftest`: the Diagnostics page's self-test, headless — a matMul and one Adam step of a small
 * conv net on each backend, compared with the cpu backend, with timings. Exits 1 when a check fails.
 */
import type { CommandDef } from '../io.ts';
import { intOption, parse } from '../io.ts';
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
    '  --backend  backend to test (default all = cpu and wasm)',
    '  --size     matMul size n for the n×n product (default 128)',
    '  --reps     timed repetitions per check; the median is reported (default 3)',
    '  --seed     seed for the matrices, batch and weights (default 20240607)',
    '',
    'Prints the report as JSON; exits 1 when any check fails.',
  ].join('\n'),
  async run(argv, ctx) {
    const { values } = parse(argv, { backend: { type: 'string' }, size: { type: 'string' }, reps: { type: 'string' }, seed: { type: 'string' } });
    const which = values.backend ?? 'all';
    if (which !== 'all' && !isBackendName(which)) throw new InputError(`must be one of cpu, wasm, webgl, webgpu, all; got "${which}"`, '--backend');
    const size = intOption(values.size, '--size', 128);
    if (size < 1 || size > 4096) throw new InputError(`must be between 1 and 4096, got ${size}`, '--size');
    const reps = intOption(values.reps, '--reps', 3);
    if (reps < 1 || reps > 1000) throw new InputError(`must be between 1 and 1000, got ${reps}`, '--reps');
    const seed = intOption(values.seed, '--seed', 20240607);
    const backends = which === 'all' ? NODE_BACKENDS : [which as BackendName];
    const report = await runSelftest({ backends, size, reps, seed }, ctx);
    if (report.ok) return report;
    process.stdout.write(JSON.stringify(report) + '\n');
    const failed = report.results.filter((r) => !r.ok).map((r) => `${r.backend} (${r.error ?? r.checks.filter((c) => !c.ok).map((c) => c.message).join('; ')})`);
    throw new LabError(`self-test failed on ${failed.join(', ')}`);
  },
};
