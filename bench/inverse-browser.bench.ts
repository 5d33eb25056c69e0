/**
 * Inverse-network training speed in headless Chromium (Debian's /usr/bin/chromium), per backend:
 * the Inverse page trains 2 epochs on seed-proxy surfaces (2 000; 600 on cpu, which is ~50×
 * slower; batch 256) in its worker and we read the samples/s of the last epoch (the first carries
 * shader compilation / wasm start-up). Each backend's figure is also logged on stderr as it lands.
 * webgpu and webgl run on SwiftShader here (software; a real GPU is far faster — none is lent to
 * this machine), so this measures the code path, not GPU speed.
 * Builds the lab first (or uses LAB_DIST). Run: npx tsx bench/inverse-browser.bench.ts (~5–8 min on 2 busy cores).
 */
import { benchOnBackends } from './labBuild.ts';

const SURFACES: Record<string, number> = { webgpu: 2000, webgl: 2000, wasm: 2000, cpu: 600 };
const out: Record<string, unknown> = { benchmark: 'inverse-browser', surfaces: SURFACES, epochs: 2, batch: 256 };
const results = await benchOnBackends('inverse', ['webgpu', 'webgl', 'wasm', 'cpu'], async (page, backend) => {
  await page.selectOption('[data-testid=inv-kind]', 'proxy');
  await page.fill('[data-testid=inv-n]', String(SURFACES[backend]));
  await page.fill('[data-testid=inv-epochs]', '2');
  await page.click('[data-testid=inv-train]');
  const text = (await page.locator('[data-testid=inv-trained]').textContent({ timeout: 600_000 })) ?? '';
  const m = /\((\d+) samples\/s in the last\)/.exec(text);
  return m ? Number(m[1]) : `unparsed: ${text}`;
});
for (const [backend, r] of Object.entries(results)) out[`${backend}_train_samples_per_sec`] = r;
process.stdout.write(JSON.stringify(out) + '\n');
