/**
 * Inverse page in Chromium: train a small network in the worker (loss curves, R² table), apply
 * it, download the checkpoint, load that file in a FRESH browser profile and get identical
 * predictions; a tampered file is refused with a clear message. Small on purpose: SwiftShader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab, screenshot, stopServer } from './harness.ts';
import { softwareRendererName } from '../../src/core/backend/backends.ts';

afterAll(async () => {
  await stopServer();
});

async function params(page: import('playwright-core').Page): Promise<string[]> {
  const cells = page.locator('[data-testid^=inv-param-]');
  const error = page.locator('[data-testid=inv-apply-error]');
  await expect.poll(async () => ((await error.count()) ? `error: ${await error.textContent()}` : await cells.count()), { timeout: 30_000 }).toBe(5);
  return cells.allTextContents();
}

describe('Inverse page', () => {
  it('trains, saves, downloads, and reloads the file in a fresh profile with identical predictions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inv-e2e-'));
    const file = join(dir, 'model.hlckpt');
    let first: string[];
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/inverse`);
      // On a software GPU (SwiftShader here, without a GPU) the page says training is faster on wasm.
      await expect.poll(() => page.getByTestId('backend-detail').getAttribute('title'), { timeout: 60_000 }).toBeTruthy();
      const software = softwareRendererName((await page.getByTestId('backend-detail').getAttribute('title')) ?? '') !== undefined;
      expect(await page.getByTestId('inv-software-gpu').isVisible()).toBe(software);
      await page.selectOption('[data-testid=inv-kind]', 'proxy');
      // 1 000 proxy surfaces × 6 epochs: small enough for a software GPU (~30 s at its ~230
      // samples/s), large enough to learn: the same run in Node (wasm, same seeds) reaches held-out
      // R² ρ 0.95, θ 0.90, v0 0.77; a network that learnt nothing sits at R² ≤ 0.
      await page.fill('[data-testid=inv-n]', '1000');
      await page.fill('[data-testid=inv-epochs]', '6');
      await page.click('[data-testid=inv-train]');
      await page.locator('[data-testid=inv-trained]').waitFor({ timeout: 120_000 });
      await page.locator('[data-testid=inv-loss-chart]').waitFor();
      await page.locator('[data-testid=inv-r2-table]').waitFor();
      // Other backends round float32 differently (WebGL, WebGPU): allow ~0.15 below Node's figures.
      expect(Number(await page.locator('[data-testid=inv-r2-rho]').textContent())).toBeGreaterThan(0.8);
      expect(Number(await page.locator('[data-testid=inv-r2-theta]').textContent())).toBeGreaterThan(0.7);
      expect(await page.locator('[data-testid=inv-ckpt-table] tbody tr').count()).toBe(1);

      await page.click('[data-testid=inv-apply]');
      first = await params(page);
      // The Heston surface at the network's parameters comes with its IV RMSE against the applied surface.
      expect(Number(await page.getByTestId('inv-network-rmse').textContent())).toBeGreaterThan(0);
      expect(first.every((t) => Number.isFinite(Number(t)))).toBe(true);
      await screenshot(page, 'inverse-trained');

      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=inv-download]')]);
      await dl.saveAs(file);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }

    const fresh = await openLab();
    try {
      const { page } = fresh;
      await page.goto(`${fresh.url}#/inverse`);
      await page.locator('text=No checkpoints yet').waitFor({ timeout: 30_000 });
      // A tampered copy is refused and names the problem.
      const bytes = readFileSync(file);
      bytes[bytes.length - 200] ^= 1;
      const bad = join(dir, 'tampered.hlckpt');
      writeFileSync(bad, bytes);
      await page.setInputFiles('[data-testid=inv-ckpt-file]', bad);
      await expect.poll(() => page.locator('[data-testid=inv-ckpt-error]').textContent(), { timeout: 30_000 }).toMatch(/tampered\.hlckpt: content hash mismatch/);

      await page.setInputFiles('[data-testid=inv-ckpt-file]', file);
      await page.locator('[data-testid=inv-ckpt-note]').waitFor({ timeout: 30_000 });
      await page.click('[data-testid=inv-apply]');
      expect(await params(page)).toEqual(first);
      await screenshot(page, 'inverse-reloaded');
      expect(fresh.errors).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('loads the bundled checkpoint from ?ckpt=URL and it recovers true-Heston parameters', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}?ckpt=checkpoints/seed-grid-heston.hlckpt#/inverse`);
      await expect.poll(() => page.locator('[data-testid=inv-ckpt-note]').textContent(), { timeout: 60_000 }).toMatch(/loaded .* from (bundled|url:)/);
      await page.fill('[data-testid=inv-eval-n]', '200');
      await page.fill('[data-testid=inv-eval-lm]', '0'); // no LM comparison (slow on this machine)
      await page.click('[data-testid=inv-evaluate]');
      const theta = page.locator('[data-testid=inv-r2-theta]');
      await theta.waitFor({ timeout: 120_000 });
      // The bundled model reaches R² ≈ 0.99 on θ (README); 0.9 leaves room for a 200-surface sample.
      expect(Number(await theta.textContent())).toBeGreaterThan(0.9);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
