/**
 * Smile forecaster training speed in headless Chromium (Debian's /usr/bin/chromium), per backend
 * and model: the Smile page imports the bundled synthetic quotes and trains 2 epochs (windows of
 * 20 of the seed features + past IV, batch 64, the reference bench's sizes) in its worker; the
 * figure is the windows/s of the last epoch the page reports (the first carries shader
 * compilation / wasm start-up). webgpu and webgl run on SwiftShader here (software: a real GPU is
 * far faster), so this measures the code path, not GPU speed.
 * SMILE_BENCH_BACKENDS / SMILE_BENCH_MODELS (comma lists) narrow the grid (default: all).
 * Builds the lab first (or uses LAB_DIST). Run: npx tsx bench/smile-browser.bench.ts (several minutes).
 */
import { benchOnBackends } from './labBuild.ts';

const backends = (process.env.SMILE_BENCH_BACKENDS ?? 'webgpu,webgl,wasm,cpu').split(',');
const models = (process.env.SMILE_BENCH_MODELS ?? 'gru,lstm,mlp,transformer').split(',');
const out: Record<string, unknown> = { benchmark: 'smile-browser', epochs: 2, batch: 64, seq_length: 20, train_windows: 2576 };
const results = await benchOnBackends('smile', backends, async (page, backend) => {
  await page.click('[data-testid=smile-load-sample]');
  await page.getByTestId('smile-import-note').waitFor({ timeout: 60_000 });
  const rates: Record<string, number | string> = {};
  for (const model of models) {
    await page.locator('[data-testid=smile-config] [data-field=model]').selectOption(model);
    const epochs = page.locator('[data-testid=smile-config] [data-field=epochs]');
    await epochs.fill('2');
    await epochs.dispatchEvent('change');
    await page.click('[data-testid=smile-train]');
    await page.getByTestId('smile-samples-per-s').waitFor({ state: 'detached', timeout: 10_000 });
    await page.getByTestId('smile-samples-per-s').or(page.getByTestId('smile-train-error')).waitFor({ timeout: 900_000 });
    rates[model] = (await page.getByTestId('smile-train-error').count()) ? `failed: ${await page.getByTestId('smile-train-error').textContent()}` : Number(await page.getByTestId('smile-samples-per-s').textContent());
    process.stderr.write(`${backend} ${model}: ${rates[model]}\n`);
  }
  return rates;
});
process.stdout.write(JSON.stringify({ ...out, ...results, ok: true }) + '\n');
