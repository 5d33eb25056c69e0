/**
 * Pricer & Calibration page in Chromium with WebGPU (SwiftShader): the live model surface reacts
 * to a parameter edit, LM calibration to the bundled synthetic sample shows the fit, residuals,
 * parameters and iterations, and the float32 batched tfjs pricer agrees with the Float64 pricer
 * on the WebGPU backend. Small on purpose: SwiftShader is slow.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

describe('Pricer & Calibration page', () => {
  it('prices live, calibrates to the sample and passes the WebGPU parity check', async () => {
    const lab = await openLab({ webgpu: true });
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/pricer`);
      const atm = page.locator('[data-testid=atm-1y]');
      await atm.waitFor({ timeout: 60_000 });
      await page.locator('[data-testid=model-surface]').waitFor();
      await page.locator('[data-testid=term-structure]').waitFor();
      const before = await atm.textContent();
      // Raising v0 and theta must raise the 1-year ATM vol.
      await page.fill('[data-testid=param-v0]', '0.09');
      await page.fill('[data-testid=param-theta]', '0.09');
      await expect.poll(async () => atm.textContent(), { timeout: 30_000 }).not.toBe(before);
      const vol = (t: string | null) => Number(/([\d.]+)%/.exec(t ?? '')?.[1]);
      expect(vol(await atm.textContent())).toBeGreaterThan(vol(before));
      await expect.poll(async () => page.locator('[data-testid=feller]').textContent()).toMatch(/Feller ratio/);

      // Crypto-sized parameters are in range (θ and v0 to 1.5, σ to 5: the calibrator's bound) and
      // price: √v0 ≈ 118 %, and σ = 4.5 pulls the 1-year ATM vol down to ~80 % (measured 79.98).
      await page.fill('[data-testid=param-theta]', '1.2');
      await page.fill('[data-testid=param-v0]', '1.4');
      await page.fill('[data-testid=param-sigma]', '4.5');
      await expect.poll(async () => vol(await atm.textContent()), { timeout: 30_000 }).toBeGreaterThan(70);
      for (const [name, max] of [['theta', 1.5], ['v0', 1.5], ['sigma', 5]] as const) {
        expect(Number(await page.locator(`input[aria-label="${name} slider"]`).getAttribute('max'))).toBeCloseTo(Math.log10(max), 12); // log-scale slider
      }
      // An out-of-range or empty box is flagged and nothing is repriced until it is fixed.
      const priced = await atm.textContent();
      await page.fill('[data-testid=param-kappa]', '80');
      await expect.poll(() => page.getByTestId('param-error').textContent()).toMatch(/kappa = 80 is outside \[0\.0001, 50\]/);
      expect(await page.getByTestId('param-kappa').getAttribute('aria-invalid')).toBe('true');
      await page.fill('[data-testid=param-sigma]', '');
      await expect.poll(() => page.getByTestId('param-error').textContent()).toMatch(/sigma is empty/);
      await page.waitForTimeout(500);
      expect(await atm.textContent()).toBe(priced);
      await page.fill('[data-testid=param-kappa]', '2');
      await page.fill('[data-testid=param-sigma]', '0.6');
      await page.fill('[data-testid=param-theta]', '0.09');
      await page.fill('[data-testid=param-v0]', '0.09');
      await expect.poll(() => page.getByTestId('param-error').count()).toBe(0);
      await expect.poll(async () => atm.textContent(), { timeout: 30_000 }).not.toBe(priced);

      await page.click('[data-testid=calibrate]');
      await page.locator('[data-testid=fit-result]').waitFor({ timeout: 60_000 });
      // The sample carries 0.3 vol points of noise: a correct fit lands near that, not at 0.
      const rmse = Number((await page.locator('[data-testid=fit-rmse]').textContent())!.split(' ')[0]);
      expect(rmse).toBeGreaterThan(0.1);
      expect(rmse).toBeLessThan(0.6);
      expect(Number(await page.locator('[data-testid=fit-iterations]').textContent())).toBeGreaterThan(0);
      await expect.poll(async () => page.locator('[data-testid=fit-reason]').textContent()).toMatch(/Converged/);
      await page.locator('[data-testid=residuals]').waitFor();
      await page.locator('[data-testid=fit-smiles]').waitFor();
      await page.click('[data-testid=use-fit]');
      await expect.poll(async () => Number(await page.inputValue('[data-testid=param-rho]'))).toBeLessThan(-0.3);

      // Auto trains on wasm over a software adapter (issue 15): choose webgpu to check its parity.
      await page.getByTestId('backend-choice').selectOption('webgpu');
      await expect.poll(() => page.getByTestId('backend-active').textContent(), { timeout: 60_000 }).toBe('webgpu');
      // Parameters that end on a bound are highlighted: a flat 250 % surface needs v0 = θ = 6.25,
      // beyond the calibrator's bound of 4 (a 200 % vol).
      const flat = ['# iv=percent; spot=100; timestamp=2024-03-01T08:00:00Z', 'k\\T,0.1,0.5,1', '-0.2,250,250,250', '0,250,250,250', '0.2,250,250,250'].join('\n');
      const dt = await page.evaluateHandle((text) => {
        const d = new DataTransfer();
        d.items.add(new File([text], 'flat250.csv', { type: 'text/csv' }));
        return d;
      }, flat);
      for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('main', type, { dataTransfer: dt });
      await expect.poll(() => page.locator('.drop-result[data-file="flat250.csv"]').getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
      expect(await page.locator('.drop-result[data-file="flat250.csv"] [data-testid=import-assumptions]').textContent()).toMatch(/percent \(stated in the file\).*spot 100/);
      const flatId = await page.locator('[data-testid=calibrate-source] option', { hasText: 'flat250' }).getAttribute('value', { timeout: 30_000 });
      await page.selectOption('[data-testid=calibrate-source]', flatId!);
      await page.click('[data-testid=calibrate]');
      await expect.poll(() => page.getByTestId('fit-at-bounds').textContent(), { timeout: 60_000 }).toMatch(/v0 ended on its upper bound 4/);
      expect(await page.getByTestId('fit-v0').getAttribute('class')).toMatch(/at-bound/);
      await screenshot(page, 'pricer-at-bounds');
      await page.selectOption('[data-testid=calibrate-source]', '');

      await page.click('[data-testid=parity]');
      await page.locator('[data-testid=parity-result]').waitFor({ timeout: 120_000 });
      const text = (await page.locator('[data-testid=parity-result]').textContent())!;
      expect(text).toMatch(/backend webgpu/);
      // Tolerance 6e-5 of spot (measured 2.0e-5 here; the Node cpu backend reaches 1.2e-6):
      // on WebGPU the transcendental functions run in float32 (WGSL sin/cos/exp/atan2), and the
      // phase Im ln φ reaches tens of radians at the far nodes, where a float32 argument carries
      // ~1e-6 absolute phase error that the ~500-node sum accumulates. Still 50× below the 0.12
      // price error (1e-3 of spot) of the seed's float64 trapezoid.
      expect(Number(await page.locator('[data-testid=parity-error]').textContent())).toBeLessThan(6e-5);
      await screenshot(page, 'pricer');
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
