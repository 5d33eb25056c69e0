/**
 * Inverse page state (issue 15 item 7) in Chromium: the smallest training set is one that leaves
 * a validation split; a duration estimate before the run; a progress bar that ends full and says
 * finished; an evaluation that names its checkpoint and data and is cleared when another
 * checkpoint is selected; R² in κ θ σ ρ v0 order with three decimals everywhere; and the
 * explicit "Resample onto the model's grid" action for a surface on another grid.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

describe('Inverse page state', () => {
  it('finishes, describes and clears its evaluation, and resamples on request', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/inverse`);
      await page.getByTestId('inv-n').waitFor({ timeout: 60_000 });
      await page.getByTestId('inv-kind').selectOption('proxy');
      await page.getByTestId('inv-n').fill('499');
      await expect.poll(() => page.getByTestId('inv-train-problem').textContent()).toMatch(/at least 500 surfaces/);
      // 500 proxy surfaces × 2 epochs: seconds on wasm, enough for a checkpoint to evaluate.
      await page.getByTestId('inv-n').fill('500');
      await page.getByTestId('inv-epochs').fill('2');
      await expect.poll(() => page.getByTestId('inv-estimate').textContent()).toMatch(/Estimated duration: /);
      await page.getByTestId('inv-train').click();
      const bar = page.getByTestId('inv-progress');
      await expect.poll(() => bar.getAttribute('data-phase'), { timeout: 120_000 }).toBe('finished');
      expect(await bar.evaluate((el: HTMLProgressElement) => el.value === el.max && el.max > 0)).toBe(true);
      expect(await page.getByTestId('inv-progress-text').textContent()).toMatch(/✓\s*finished: 2 epochs/);
      // After a run the estimate uses that run's rate.
      await expect.poll(() => page.getByTestId('inv-estimate').textContent()).toMatch(/samples\/s/);

      // The evaluation says which checkpoint and which data; R² with three decimals, κ θ σ ρ v0.
      const what = page.getByTestId('inv-eval-what');
      await expect.poll(() => what.textContent(), { timeout: 30_000 }).toMatch(/inverse-synthetic-seed1-e2 [0-9a-f]{12} on the validation split of its training data \(50 proxy surfaces, data seed 1/);
      expect(await page.locator('[data-testid=inv-r2-table] thead th').allTextContents()).toEqual(['', 'κ', 'θ', 'σ', 'ρ', 'v0']);
      for (const p of ['kappa', 'theta', 'sigma', 'rho', 'v0']) expect(await page.getByTestId(`inv-r2-${p}`).textContent()).toMatch(/^-?\d+\.\d{3}$/);
      expect(await page.locator('[data-testid=inv-ckpt-table] thead').textContent()).toContain('R² κ / θ / σ / ρ / v0');
      await screenshot(page, 'inverse-finished');

      // Another checkpoint selected: the evaluation of the first is gone.
      await page.getByTestId('inv-load-bundled').click();
      await expect.poll(() => page.locator('[data-testid=inv-ckpt-table] tbody tr').count(), { timeout: 30_000 }).toBe(2);
      await expect.poll(() => what.count()).toBe(0);
      expect(await page.getByTestId('inv-eval-empty').textContent()).toMatch(/No evaluation of “.*bundled.*” yet/);

      // A 9×7 library surface on the 5×6 model: without resampling the page offers the action.
      await page.getByTestId('inv-resample').uncheck();
      const crypto = await page.locator('[data-testid=inv-apply-surface] option', { hasText: 'Stylised crypto' }).getAttribute('value');
      await page.getByTestId('inv-apply-surface').selectOption(crypto!);
      await expect.poll(() => page.getByTestId('inv-apply-offgrid').textContent()).toMatch(/9×7 grid, the model on 5×6/);
      await page.getByTestId('inv-apply-resample').click();
      await expect.poll(() => page.locator('[data-testid^=inv-param-]').count(), { timeout: 30_000 }).toBe(5);
      expect(await page.getByTestId('inv-resample').isChecked()).toBe(true);
      await page.getByTestId('inv-overlay').waitFor();
      await screenshot(page, 'inverse-apply-resampled');
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
