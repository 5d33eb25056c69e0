/**
 * PPO training speed in headless Chromium (Debian's /usr/bin/chromium), per backend (issue 11 item
 * 9: "each browser backend measured"): the RL page, opened from a link that holds the setup
 * (src/ui/state/rl.ts), trains on the original design's settings — rollout 2048 over 8 envs, 10
 * epochs, minibatch 64, 2 × 64 tanh, window 16 — on a 2 000-step GBM market with the generic
 * features, in its worker. The rollout's forward is the hand-written CPU one on every backend;
 * the update runs either on the CPU (updateOn 'cpu', the default: no tfjs kernel at all, so the
 * backend does not matter) or on the active tfjs backend (updateOn 'tfjs', ~280 kernels per
 * minibatch, 320 minibatches per iteration). The figure is the steps/s of the last iteration the
 * page reports (the first carries shader compilation / wasm start-up). webgpu and webgl run on
 * SwiftShader here (a software GPU on the shared 2-core machine), so they measure the code path,
 * not GPU speed. RL_BENCH_BACKENDS (comma list) narrows the backends; RL_BENCH_ITERATIONS (default
 * 2) sets the run length. Builds the lab first (or uses LAB_DIST).
 * Run: npx tsx bench/rl-browser.bench.ts (several minutes).
 */
import { benchOnBackends } from './labBuild.ts';
import type { Page } from '../tests/e2e/harness.ts';

const backends = (process.env.RL_BENCH_BACKENDS ?? 'webgpu,webgl,wasm,cpu').split(',');
const iterations = Number(process.env.RL_BENCH_ITERATIONS ?? 2);
const setup = { 'market-kind': 'gbm', 'market-steps': '2000', modules: 'generic', 'total-steps': String(2048 * iterations) };

async function trainOnce(page: Page, updateOn: 'cpu' | 'tfjs'): Promise<number | string> {
  const q = new URLSearchParams({ ...setup, ...(updateOn === 'tfjs' ? { 'update-on': 'tfjs' } : {}) });
  // The page reads its state from the address when it opens: a reload applies the link.
  await page.goto(page.url().replace(/#.*$/, `#/rl?${q}`));
  await page.reload();
  await page.getByTestId('rl-train').waitFor({ timeout: 60_000 });
  // The measurement is only as good as the link: check the page took it.
  const took = await page.locator('[data-testid=rl-ppo-form] [data-field=updateOn]').inputValue();
  if (took !== updateOn) return `failed: the page opened with updateOn ${took}, not ${updateOn}`;
  await page.getByTestId('rl-train').click();
  const done = page.getByTestId('rl-trained').or(page.getByTestId('rl-train-error')).or(page.getByTestId('rl-form-error'));
  await done.waitFor({ timeout: 1_800_000 });
  for (const id of ['rl-train-error', 'rl-form-error']) if (await page.getByTestId(id).count()) return `failed: ${await page.getByTestId(id).textContent()}`;
  const diag = (await page.getByTestId('rl-last-diag').textContent()) ?? '';
  const m = /(\d+) steps\/s\s*$/.exec(diag.trim());
  return m ? Number(m[1]) : `no steps/s in "${diag}"`;
}

const results = await benchOnBackends('rl', backends, async (page, backend) => {
  const r: Record<string, number | string> = {};
  // The CPU update does not touch the backend: measured once, on wasm (the page's usual choice).
  if (backend === 'wasm') r.update_cpu = await trainOnce(page, 'cpu');
  r.update_tfjs = await trainOnce(page, 'tfjs');
  return r;
});
process.stdout.write(JSON.stringify({ benchmark: 'rl-browser', rollout_len: 2048, num_envs: 8, epochs: 10, minibatch: 64, window: 16, modules: 'generic', iterations, steps_per_sec: results, ok: true }) + '\n');
