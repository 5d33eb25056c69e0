/**
 * Backend self-test timings in headless Chromium (Debian's /usr/bin/chromium): the Diagnostics
 * page's self-test on every backend that initialises with --enable-unsafe-webgpu (webgpu and webgl
 * on SwiftShader, i.e. software — a real GPU is far faster — plus wasm and cpu), each check the
 * median of 3 runs after a first, cold one; and which backend the lab picks without the flag.
 * Builds the lab into a temporary folder first (or uses LAB_DIST when set).
 * Run: npx tsx bench/browser-selftest.bench.ts — prints one JSON object (takes ~1–2 minutes).
 */
import { useLabBuild } from './labBuild.ts';
import { openLab, stopServer } from '../tests/e2e/harness.ts';

interface Report {
  ok: boolean;
  size: number;
  reps: number;
  results: { backend: string; ok: boolean; error?: string; initMs?: number; checks: { name: string; ok: boolean; ms: number; firstMs: number }[] }[];
}

const round = (x: number, d = 1) => +x.toFixed(d);
const removeBuild = useLabBuild();

async function session(webgpu: boolean, run: boolean) {
  const lab = await openLab({ webgpu });
  try {
    const { page } = lab;
    await page.goto(lab.url + '#/diagnostics');
    const active = (await page.getByTestId('backend-active').textContent({ timeout: 60_000 }))!.trim();
    const summary = (await page.getByTestId('backend-detail').textContent())!.trim();
    const version = lab.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));
    if (!run) return { active, summary, version };
    await page.getByTestId('selftest-which').selectOption('available');
    await page.getByTestId('selftest-run').click();
    await page.getByTestId('selftest-verdict').or(page.getByTestId('selftest-error')).waitFor({ timeout: 300_000 });
    if (await page.getByTestId('selftest-error').isVisible()) throw new Error(`self-test failed: ${await page.getByTestId('selftest-error').textContent()}`);
    const report = JSON.parse((await page.getByTestId('selftest-json').textContent())!) as Report;
    return { active, summary, version, report };
  } finally {
    await lab.close();
  }
}

try {
  const withFlag = await session(true, true);
  const withoutFlag = await session(false, false);
  const report = withFlag.report!;
  const cpu = report.results.find((r) => r.backend === 'cpu');
  const cpuMs = (check: string) => cpu?.checks.find((c) => c.name === check)?.ms;
  const backends: Record<string, unknown> = {};
  for (const r of report.results) {
    const mm = r.checks.find((c) => c.name === 'matmul');
    const tr = r.checks.find((c) => c.name === 'train');
    backends[r.backend] = {
      ok: r.ok,
      ...(r.error ? { error: r.error } : {}),
      init_ms: r.initMs === undefined ? undefined : round(r.initMs),
      matmul_median_ms: mm && round(mm.ms, 2),
      matmul_first_ms: mm && round(mm.firstMs),
      train_step_median_ms: tr && round(tr.ms, 2),
      train_step_first_ms: tr && round(tr.firstMs),
      matmul_speedup_vs_cpu: mm && cpuMs('matmul') ? round(cpuMs('matmul')! / mm.ms, 2) : undefined,
      train_speedup_vs_cpu: tr && cpuMs('train') ? round(cpuMs('train')! / tr.ms, 2) : undefined,
    };
  }
  const out = {
    benchmark: 'browser-selftest',
    environment: 'headless chromium (SwiftShader: software webgpu/webgl)',
    chromium: withFlag.version,
    matmul_size: report.size,
    train_batch: [8, 5, 6, 1],
    reps: report.reps,
    all_passed: report.ok,
    active_with_webgpu_flag: withFlag.active,
    adapter_with_webgpu_flag: withFlag.summary,
    active_without_flag: withoutFlag.active,
    backends,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  if (!report.ok) {
    process.stderr.write(`self-test failed: ${JSON.stringify(report.results.filter((r) => !r.ok))}\n`);
    process.exitCode = 1;
  }
} finally {
  await stopServer();
  removeBuild();
}
