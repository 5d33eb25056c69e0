/**
 * The shell in a real browser: the lab picks a working compute backend (webgpu with the flag,
 * webgl or wasm without), the Diagnostics self-test passes on it, the user's override survives a
 * reload, worker errors arrive readable, IndexedDB behaves, and the production build works from a
 * sub-path and offline after the first visit. Also screenshots every page under test-results/.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openLab, screenshot, stopServer, type Lab } from './harness.ts';

afterAll(() => stopServer());

async function activeBackend(page: Page): Promise<string> {
  const el = page.getByTestId('backend-active');
  await el.waitFor({ timeout: 60_000 });
  return (await el.textContent())!.trim();
}

interface SelftestJson {
  ok: boolean;
  results: { backend: string; ok: boolean; error?: string; checks: { name: string; ok: boolean; ms: number }[] }[];
}

/** Runs the Diagnostics self-test on `which` ('available' or one backend) and returns its report. */
async function runSelftest(page: Page, which: string): Promise<SelftestJson> {
  await page.goto(new URL('#/diagnostics', page.url()).href);
  await page.getByTestId('selftest-which').selectOption(which);
  await page.getByTestId('selftest-run').click();
  await page.getByTestId('selftest-verdict').or(page.getByTestId('selftest-error')).waitFor({ timeout: 180_000 });
  const err = page.getByTestId('selftest-error');
  if (await err.isVisible()) throw new Error(`self-test job failed: ${await err.textContent()}`);
  return JSON.parse((await page.getByTestId('selftest-json').textContent())!) as SelftestJson;
}

function failures(r: SelftestJson): string[] {
  return r.results.flatMap((b) => (b.ok ? [] : [`${b.backend}: ${b.error ?? b.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}`]));
}

describe('shell (production build, headless Chromium)', () => {
  it('without WebGPU: loads clean, falls back to webgl or wasm, says how to get WebGPU, self-test passes; every page renders', async () => {
    const lab: Lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/diagnostics`);
      const active = await activeBackend(page);
      expect(['webgl', 'wasm']).toContain(active);
      await expect.poll(() => page.getByTestId('webgpu-help').isVisible(), { timeout: 60_000 }).toBe(true);
      expect(await page.getByTestId('webgpu-help').textContent()).toContain('chrome://flags/#enable-unsafe-webgpu');
      const probe = page.locator('[data-testid=probe-table] tr[data-backend=webgpu]');
      expect(await probe.textContent()).toMatch(/no.*WebGPU/);
      const report = await runSelftest(page, active);
      expect(failures(report), JSON.stringify(report.results)).toEqual([]);
      expect(report.results.map((r) => r.backend)).toEqual([active]);
      expect(lab.errors, 'console errors').toEqual([]);

      // Every page in the navigation renders without console errors; keep a screenshot of each.
      const links = page.locator('header nav a');
      const n = await links.count();
      expect(n).toBeGreaterThan(0);
      for (let i = 0; i < n; i++) {
        const link = links.nth(i);
        const href = (await link.getAttribute('href'))!;
        await link.click();
        await expect.poll(() => page.url()).toContain(href);
        await page.locator('main > *').first().waitFor();
        await page.waitForTimeout(1500);
        await screenshot(page, `page-${href.replace(/^#\//, '')}`);
        expect(lab.errors, `console errors on ${href}`).toEqual([]);
      }
    } finally {
      await lab.close();
    }
  });

  it('the backend override persists across a reload; an impossible choice falls back and says why', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(lab.url);
      await activeBackend(page);
      await page.getByTestId('backend-choice').selectOption('wasm');
      await expect.poll(() => activeBackend(page), { timeout: 60_000 }).toBe('wasm');
      await page.reload();
      expect(await activeBackend(page)).toBe('wasm');
      expect(await page.getByTestId('backend-choice').inputValue()).toBe('wasm');
      // Workers follow the page's choice: the Diagnostics worker's self-test restores wasm.
      const report = await runSelftest(page, 'cpu');
      expect(failures(report), JSON.stringify(report.results)).toEqual([]);
      expect(await page.getByTestId('diag-active').textContent()).toBe('wasm');

      await page.getByTestId('backend-choice').selectOption('webgpu');
      await page.getByTestId('backend-fallback').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('backend-fallback').textContent()).toMatch(/webgpu could not start \(.*WebGPU.*\); using (webgl|wasm) instead/);
      await page.reload();
      expect(await page.getByTestId('backend-choice').inputValue()).toBe('webgpu');
      await page.getByTestId('backend-fallback').waitFor({ timeout: 60_000 });
      await page.getByTestId('backend-choice').selectOption('auto');
      await expect.poll(() => page.getByTestId('backend-fallback').count()).toBe(0);
      expect(lab.errors, 'console errors').toEqual([]);
    } finally {
      await lab.close();
    }
  });

  it('with --enable-unsafe-webgpu: auto trains on wasm over the SwiftShader adapter and says so, webgpu works when chosen, and the self-test passes on every backend; worker errors, cancel and storage behave', async () => {
    const lab = await openLab({ webgpu: true });
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/diagnostics`);
      // Issue 15: a software WebGPU adapter trains 30–50× slower than wasm, so auto picks wasm
      // and the header names the software renderer.
      expect(await activeBackend(page)).toBe('wasm');
      expect(await page.getByTestId('backend-software-gpu').textContent()).toMatch(/software GPU \(SwiftShader\): training on wasm/);
      // Chosen explicitly, webgpu runs on that adapter (and the header still says it is software).
      await page.getByTestId('backend-choice').selectOption('webgpu');
      await expect.poll(() => activeBackend(page), { timeout: 60_000 }).toBe('webgpu');
      expect((await page.getByTestId('backend').textContent())!.toLowerCase()).toContain('swiftshader');
      expect(await page.getByTestId('backend-software-gpu').textContent()).toMatch(/software GPU \(SwiftShader\)/);
      await page.locator('[data-testid=probe-table] tr[data-backend=cpu]').waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('webgpu-help').count()).toBe(0);

      const report = await runSelftest(page, 'available');
      expect(report.results.map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
      expect(failures(report), JSON.stringify(report.results)).toEqual([]);

      // An exception in the worker arrives readable, and the worker keeps working.
      await page.getByTestId('plumb-throw').click();
      await page.getByTestId('plumb-after').waitFor();
      expect(await page.getByTestId('plumb-error').textContent()).toBe('LabError: probeFailure: deliberate failure raised inside the worker');
      expect(await page.getByTestId('plumb-after').textContent()).toContain('counted to 3');

      // Progress arrives and Cancel stops the job early.
      await page.getByTestId('plumb-count').click();
      await page.locator('[data-testid=plumbing-panel] progress').waitFor();
      await page.getByTestId('plumb-cancel').click();
      await page.getByTestId('plumb-count-result').waitFor();
      const cancelled = (await page.getByTestId('plumb-count-result').textContent())!;
      expect(cancelled).toMatch(/^CancelledError: cancelled at step (\d+)$/);
      expect(Number(cancelled.match(/step (\d+)/)![1])).toBeLessThan(50);

      // IndexedDB: round-trip, atomic setMany, a (simulated) quota failure that changes nothing.
      await page.getByTestId('store-run').click();
      await page.getByTestId('store-steps').waitFor();
      const steps = await page.locator('[data-testid=store-steps] li').allTextContents();
      expect(steps.length).toBe(4);
      for (const s of steps) expect(s).toMatch(/^✓/);
      await screenshot(page, 'diagnostics-webgpu');
      expect(lab.errors, 'console errors').toEqual([]);
    } finally {
      await lab.close();
    }
  });

  it('works from a sub-path, loads the wasm binaries there, and works offline after the first visit', async () => {
    await stopServer();
    const lab = await openLab({ prefix: '/some/sub/path/' });
    try {
      const { page } = lab;
      expect(lab.url).toMatch(/\/some\/sub\/path\/$/);
      await page.goto(lab.url);
      await activeBackend(page);
      await page.getByTestId('backend-choice').selectOption('wasm');
      await expect.poll(() => activeBackend(page), { timeout: 60_000 }).toBe('wasm');
      // Wait until the service worker has cached the build and controls the page.
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        for (let i = 0; i < 200 && !navigator.serviceWorker.controller; i++) await new Promise((r) => setTimeout(r, 50));
      });
      expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

      // Offline for real: the network is cut AND the server is gone.
      await lab.context.setOffline(true);
      await stopServer();
      await page.reload();
      expect(await activeBackend(page)).toBe('wasm');
      const report = await runSelftest(page, 'wasm');
      expect(failures(report), JSON.stringify(report.results)).toEqual([]);
      expect(lab.errors, 'console errors').toEqual([]);
    } finally {
      await lab.close();
      await stopServer();
    }
  });
});
