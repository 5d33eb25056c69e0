/**
 * RL page in Chromium: train a few PPO iterations in the worker on a small simulated market,
 * cancel, resume the run stored in IndexedDB, then backtest the agent against the baselines.
 * Small on purpose (software GPU): 800 steps of market, 150 iterations of the default 2048 steps
 * and 10 epochs over 4 envs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

describe('RL page', () => {
  it('trains in a worker, cancels, resumes the stored run, backtests', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/rl`);
      await page.getByTestId('rl-train').waitFor({ timeout: 60_000 });
      await page.fill('[data-testid=rl-steps]', '800');
      await page.fill('[data-testid=rl-modules]', 'generic,sentiment');
      const set = async (field: string, value: string) => {
        const input = page.locator(`[data-testid=rl-ppo-form] [data-field=${field}]`);
        await input.fill(value);
        await input.dispatchEvent('change');
      };
      // 150 iterations of the default rollout and 10 epochs (~125 ms each here): the run is paused
      // before it is cancelled, in its first two thirds, so the pause lands mid-run even when a
      // click takes a second under load. Runs of 1500 × 128 steps and then 600 × 512 steps with 2
      // epochs got faster than the click (the float32 update): they finished before it landed.
      await set('totalSteps', String(2048 * 150));
      await set('numEnvs', '4');
      // The form shows the seed's defaults beside each field.
      expect(await page.locator('[data-testid=rl-ppo-form]').textContent()).toContain('(default 2048 steps)');
      await page.getByTestId('rl-checkpoint-every').fill('1'); // store every iteration
      await page.click('[data-testid=rl-train]');
      const status = async () => {
        for (const id of ['rl-form-error', 'rl-train-error']) if (await page.getByTestId(id).count()) return `${id}: ${await page.getByTestId(id).textContent()}`;
        return (await page.getByTestId('rl-progress-text').count()) ? await page.getByTestId('rl-progress-text').textContent() : 'no progress';
      };
      await expect.poll(status, { timeout: 120_000 }).toMatch(/iteration ([2-9]|[1-9]\d)\/150/);
      await page.click('[data-testid=rl-pause]');
      await expect.poll(status, { timeout: 10_000 }).toMatch(/^paused — /);
      await page.click('[data-testid=rl-cancel]');
      await page.getByTestId('rl-train-error').waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('rl-train-error').textContent()).toMatch(/cancel/i);
      // The stored run offers a resume from where it stopped.
      const resume = page.getByTestId('rl-resume-run');
      await resume.waitFor({ timeout: 10_000 });
      expect(await resume.textContent()).toMatch(/Resume stored run \(([1-9]|[1-9]\d|1[0-4]\d)\/150 iterations\)/);
      await resume.click();
      await page.getByTestId('rl-trained').waitFor({ timeout: 120_000 });
      expect(await page.getByTestId('rl-trained').textContent()).toContain('trained 150 iterations');
      expect(await page.getByTestId('rl-last-diag').textContent()).toMatch(/iteration 150\/150: policy loss -?\d/);
      await page.click('[data-testid=rl-backtest]');
      const btStatus = async () => ((await page.getByTestId('rl-backtest-error').count()) ? `error: ${await page.getByTestId('rl-backtest-error').textContent()}` : await page.getByTestId('rl-stats').count());
      await expect.poll(btStatus, { timeout: 60_000 }).toBe(1);
      const summary = await page.getByTestId('rl-bt-summary').textContent();
      // Test span: floor(0.7 · 800) = 560 … 799, after training's 0 … 559.
      expect(summary).toMatch(/239 actions on steps 560–799 \(training used 0–559\)/);
      expect(await page.locator('[data-testid=rl-stats] tbody tr').count()).toBe(14);
      await page.getByTestId('rl-equity-chart').waitFor();
      await screenshot(page, 'rl-backtest');
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  }, 300_000);

  it('with the defaults (Heston regime market, btc features from the bundled inverse network) trains and shows the regime dependence', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/rl`);
      await page.getByTestId('rl-train').waitFor({ timeout: 60_000 });
      // Only the run length is shortened: 2 iterations of the seed's rollout 2048, 10 epochs, minibatch 64.
      const total = page.locator('[data-testid=rl-ppo-form] [data-field=totalSteps]');
      await total.fill('4096');
      await total.dispatchEvent('change');
      await page.click('[data-testid=rl-train]');
      const status = async () => ((await page.getByTestId('rl-train-error').count()) ? `error: ${await page.getByTestId('rl-train-error').textContent()}` : await page.getByTestId('rl-trained').count());
      await expect.poll(status, { timeout: 240_000 }).toBe(1);
      expect(await page.getByTestId('rl-trained').textContent()).toMatch(/trained 2 iterations on sim-heston-seed1 \(steps 0–2800\)/);
      await page.click('[data-testid=rl-backtest]');
      await page.getByTestId('rl-regime-chart').waitFor({ timeout: 120_000 });
      expect(await page.getByTestId('rl-bt-summary').textContent()).toMatch(/1199 actions on steps 2800–3999/);
      await screenshot(page, 'rl-defaults');
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  }, 420_000);
});
