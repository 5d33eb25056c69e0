/**
 * Smile page in Chromium: import the bundled (synthetic) quotes into IndexedDB, train a small GRU
 * in the worker with live loss curves, see its test figures beside persistence, predict a smile
 * against the realised next quotes, and find the run in the tracker (the page's results table and
 * the Runs page). Small on purpose: 3 epochs of windows of 10 on a 16-unit GRU. Then: recording
 * chosen contracts subscribes their tickers on the (local replay) WebSocket, and a retention
 * limit set on the page drops the oldest days and shows the store's new size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer } from './harness.ts';
import { startReplayServer, type ReplayServer } from '../support/replayServer.ts';

let srv: ReplayServer;
beforeAll(async () => {
  srv = await startReplayServer();
});
afterAll(async () => {
  await srv.close();
  await stopServer();
});

describe('Smile page', () => {
  it('imports the bundled quotes, trains a GRU in a worker, predicts a smile and shows the run', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/smile`);
      await page.click('[data-testid=smile-load-sample]');
      await expect.poll(() => page.getByTestId('smile-store-count').textContent(), { timeout: 60_000 }).toBe('5056');
      expect(await page.getByTestId('smile-import-note').textContent()).toMatch(/SYNTHETIC/);
      const set = async (field: string, value: string) => {
        const input = page.locator(`[data-testid=smile-config] [data-field=${field}]`);
        if ((await input.evaluate((el) => el.tagName)) === 'SELECT') {
          await input.selectOption(value);
        } else {
          await input.fill(value);
          await input.dispatchEvent('change');
        }
      };
      await set('model', 'gru');
      await set('epochs', '3');
      await set('seqLength', '10');
      await set('hidden', '16');
      await set('batchSize', '128');
      await set('lr', '0.003');
      await page.click('[data-testid=smile-train]');
      await page.locator('[data-testid=smile-result]').or(page.getByTestId('smile-train-error')).waitFor({ timeout: 180_000 });
      expect(await page.getByTestId('smile-train-error').count()).toBe(0);
      await page.getByTestId('smile-loss-chart').waitFor();
      // A number, never NaN: skill against persistence on the test period (its sign depends on 3 epochs).
      expect(Number.isFinite(Number(await page.getByTestId('smile-skill').textContent()))).toBe(true);
      await page.getByTestId('smile-run-link').waitFor();
      await expect.poll(() => page.locator('[data-testid=smile-runs] tbody tr').count(), { timeout: 20_000 }).toBe(1);
      expect(await page.locator('[data-testid=smile-runs] tbody tr td').nth(1).textContent()).toBe('gru');

      await page.fill('[data-testid=smile-at]', '2026-01-08T18:00');
      await page.click('[data-testid=smile-predict]');
      await page.locator('[data-testid=smile-predict-table]').or(page.getByTestId('smile-predict-error')).waitFor({ timeout: 60_000 });
      expect(await page.getByTestId('smile-predict-error').count()).toBe(0);
      expect(await page.locator('[data-testid=smile-predict-table] tbody tr').count()).toBe(8);
      await page.getByTestId('smile-predict-chart').waitFor();
      await screenshot(page, 'smile-trained');

      // Record chosen contracts: the worker subscribes one ticker per contract (and the index).
      await page.getByTestId('smile-record-source').selectOption('contracts');
      expect(await page.getByTestId('smile-record').isDisabled()).toBe(true); // no contract yet
      await page.getByTestId('smile-record-contracts').fill('BTC-27DEC24-100000-C, BTC-27DEC24-90000-P');
      await page.getByTestId('smile-record-url').fill(srv.wsUrl);
      await page.getByTestId('smile-record').click();
      const subscribed = () => srv.wsReceived.filter((m) => m.method === 'public/subscribe').map((m) => (m.params as { channels: string[] }).channels);
      await expect.poll(subscribed, { timeout: 30_000 }).toEqual([['ticker.BTC-27DEC24-100000-C.100ms', 'ticker.BTC-27DEC24-90000-P.100ms', 'deribit_price_index.btc_usd']]);
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByTestId('smile-record').waitFor({ timeout: 30_000 });

      // Retention: 0.1 MB keeps the newest of the four 82 kB days (the store's size says so).
      expect(await page.getByTestId('smile-store-size').textContent()).toBe('0.33 MB'); // 5056 quotes x 65 bytes
      await page.getByTestId('smile-max-mb').fill('0.1');
      await page.getByTestId('smile-max-mb').press('Enter');
      await expect.poll(() => page.getByTestId('smile-store-count').textContent(), { timeout: 30_000 }).toBe('1264');
      expect(await page.getByTestId('smile-store-size').textContent()).toBe('0.08 MB');
      expect(await page.getByTestId('smile-store-limit').textContent()).toBe('0.1 MB');
      expect(await page.getByTestId('smile-retention-note').textContent()).toMatch(/dropped 3792 quotes/);

      // The same run on the Runs page.
      await page.goto(`${lab.url}#/runs`);
      await expect.poll(() => page.locator('[data-testid=runs-table] tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      expect(await page.getByTestId('runs-table').textContent()).toMatch(/smile-gru/);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
