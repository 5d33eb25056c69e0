/**
 * Inverse-network training speed in headless Chromium (Debian's /usr/bin/chromium), per backend:
 * the Inverse page trains 2 epochs on seed-proxy surfaces (2 000; 600 on cpu, which is ~50×
 * slower; batch 256) in its worker and we read the samples/s of the last epoch (the first carries
 * shader compilation / wasm start-up). Each backend's figure is also logged on stderr as it lands.
 * webgpu and webgl run on SwiftShader here (software; a real GPU is far faster — none is lent to
 * this machine), so this measures the code path, not GPU speed.
 * Builds the lab first (or uses LAB_DIST). Run: npx tsx bench/inverse-browser.bench.ts (~5–8 min on 2 busy cores).
 */
import { useLabBuild } from './labBuild.ts';
import { openLab, stopServer } from '../tests/e2e/harness.ts';

const removeBuild = useLabBuild();

const SURFACES: Record<string, number> = { webgpu: 2000, webgl: 2000, wasm: 2000, cpu: 600 };
const out: Record<string, unknown> = { benchmark: 'inverse-browser', surfaces: SURFACES, epochs: 2, batch: 256 };
for (const backend of ['webgpu', 'webgl', 'wasm', 'cpu']) {
  const lab = await openLab({ webgpu: backend === 'webgpu' });
  try {
    const { page } = lab;
    await page.goto(lab.url);
    await page.evaluate((b) => localStorage.setItem('heston-lab:backend', b), backend);
    await page.goto(`${lab.url}#/inverse`);
    await page.reload();
    const active = await page.locator('[data-testid=backend-active]').textContent({ timeout: 60_000 });
    if (active !== backend) {
      out[`${backend}_train_samples_per_sec`] = `unavailable (lab fell back to ${active})`;
      continue;
    }
    await page.selectOption('[data-testid=inv-kind]', 'proxy');
    await page.fill('[data-testid=inv-n]', String(SURFACES[backend]));
    await page.fill('[data-testid=inv-epochs]', '2');
    await page.click('[data-testid=inv-train]');
    const text = (await page.locator('[data-testid=inv-trained]').textContent({ timeout: 600_000 })) ?? '';
    const m = /\((\d+) samples\/s in the last\)/.exec(text);
    out[`${backend}_train_samples_per_sec`] = m ? Number(m[1]) : `unparsed: ${text}`;
  } catch (e) {
    out[`${backend}_train_samples_per_sec`] = `failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    process.stderr.write(`${backend}: ${JSON.stringify(out[`${backend}_train_samples_per_sec`])}\n`);
    await lab.close();
  }
}
await stopServer();
removeBuild();
process.stdout.write(JSON.stringify(out) + '\n');
