/**
 * Backend self-test timings in Node: for cpu (the baseline) and wasm, the median of 7 timed runs
 * of each self-test check — a 128² and a 512² matMul, and one Adam step of the self-test conv net
 * on a [8, 5, 6, 1] batch — plus the first (cold) run, with wasm's speed-up over cpu.
 * Run: npx tsx bench/selftest.bench.ts — prints one JSON object.
 */
import { runSelftest, type SelftestReport } from '../src/core/backend/selftest.ts';
import { initBackend } from '../src/core/backend/backends.ts';

const REPS = 7;
const round = (x: number, d = 2) => +x.toFixed(d);

function checkMs(r: SelftestReport, backend: string, check: string) {
  const c = r.results.find((x) => x.backend === backend)!.checks.find((x) => x.name === check)!;
  if (!c.ok) throw new Error(`self-test ${check} failed on ${backend}: ${c.message}`);
  return { ms: c.ms, firstMs: c.firstMs };
}

const out: Record<string, unknown> = { benchmark: 'selftest', environment: 'node', node: process.versions.node, reps: REPS };
const init = { cpu: await initBackend('cpu'), wasm: await initBackend('wasm') };
out.init_ms = { cpu: round(init.cpu.ms), wasm: round(init.wasm.ms) };
for (const size of [128, 512]) {
  const r = await runSelftest({ backends: ['cpu', 'wasm'], size, reps: REPS });
  if (!r.ok) throw new Error(`self-test failed at size ${size}: ${JSON.stringify(r.results.filter((x) => !x.ok))}`);
  const cpuMm = checkMs(r, 'cpu', 'matmul');
  const wasmMm = checkMs(r, 'wasm', 'matmul');
  out[`matmul_${size}_median_ms`] = { cpu: round(cpuMm.ms), wasm: round(wasmMm.ms) };
  out[`matmul_${size}_first_ms`] = { cpu: round(cpuMm.firstMs), wasm: round(wasmMm.firstMs) };
  out[`matmul_${size}_wasm_speedup_vs_cpu`] = round(cpuMm.ms / wasmMm.ms, 1);
  if (size === 128) {
    const cpuTr = checkMs(r, 'cpu', 'train');
    const wasmTr = checkMs(r, 'wasm', 'train');
    out.train_step_median_ms = { cpu: round(cpuTr.ms), wasm: round(wasmTr.ms) };
    out.train_step_first_ms = { cpu: round(cpuTr.firstMs), wasm: round(wasmTr.firstMs) };
    out.train_step_wasm_speedup_vs_cpu = round(cpuTr.ms / wasmTr.ms, 1);
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
