/**
 * Paper trading on the RL page in Chromium against the local replay server: a tiny agent trained
 * here in Node is loaded as a checkpoint file, the Binance URLs point at the replay server, the
 * panel warms up from REST, trades the kline stream's closed bars (which the server pushes every
 * 40 ms instead of every hour), survives dropped sockets, shows the decision log and equity
 * against buy-and-hold, and stops. Nothing here could send an order: there is no order code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLab, screenshot, stopServer } from './harness.ts';
import { startReplayServer, type ReplayServer } from '../support/replayServer.ts';
import { initBackend } from '../../src/core/backend/backends.ts';
import { simulateMarket } from '../../src/core/market/simulator.ts';
import type { MarketData } from '../../src/core/market/marketData.ts';
import { buildFeatureMatrix } from '../../src/core/features/featureMatrix.ts';
import { trainOnMarket } from '../../src/core/rl/ppo.ts';
import { encodeAgentCheckpoint } from '../../src/core/rl/agentCheckpoint.ts';

let srv: ReplayServer;
let agent: Uint8Array;
const H = 3_600_000;

beforeAll(async () => {
  srv = await startReplayServer();
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
  // Generic features with short windows: 60 bars of history warm them up.
  const FEATURES = { modules: 'generic', returnWindows: [1, 4], genericWindow: 6 };
  const market: MarketData = { ...simulateMarket({ nSteps: 300 }, 3), btcVolumes: undefined };
  const features = await buildFeatureMatrix(market, FEATURES);
  const r = await trainOnMarket({ market, features, featureConfig: FEATURES, envConfig: { window: 4 }, ppo: { rolloutLen: 64, numEnvs: 2, minibatchSize: 32, epochs: 1, totalSteps: 64, seed: 5 }, trainFraction: 0.6, name: 'paper-e2e' });
  r.agent.dispose();
  agent = await encodeAgentCheckpoint(r.checkpoint);
});
afterAll(async () => {
  await srv.close();
  await stopServer();
});

describe('Paper trading panel', () => {
  it('warms up, trades live closed bars through drops, logs decisions, stops', async () => {
    // The stream's first bar is the hour now open, right after the REST history the panel loads.
    srv.binanceWs = { pushMs: 40, startMs: Math.floor(Date.now() / H) * H, dropAfterPushes: 12 };
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/rl`);
      const t = (id: string) => page.getByTestId(id);
      await t('paper-panel').waitFor({ timeout: 60_000 });
      expect(await t('paper-ws-url').inputValue()).toBe('wss://stream.binance.com:9443/ws');
      expect(await t('paper-panel').textContent()).toContain('No order is ever sent');
      await t('paper-file').setInputFiles({ name: 'paper-e2e.hlckpt', mimeType: 'application/octet-stream', buffer: Buffer.from(agent) });
      await t('paper-ws-url').fill(srv.binanceWsUrl);
      await t('paper-rest-url').fill(srv.binanceSpotBase);
      await t('paper-history').fill('60');
      await t('paper-start').click();
      const status = async () => ((await t('paper-error').count()) ? `error: ${await t('paper-error').textContent()}` : ((await t('paper-status').count()) ? await t('paper-status').textContent() : 'none'));
      await expect.poll(status, { timeout: 60_000 }).toMatch(/([5-9]|\d\d+) decision\(s\)/);
      expect(srv.requests.some((r) => r.path === '/binance/api/v3/klines' && r.query.interval === '1h')).toBe(true);
      // The server drops every socket after 12 pushes: the stream reconnects by itself.
      await expect.poll(async () => await t('paper-connection').textContent(), { timeout: 30_000 }).toMatch(/([2-9]|\d\d+) connection\(s\)/);
      expect(await t('paper-status').textContent()).toMatch(/paper-e2e: \d+ decision\(s\) over \d+ bar\(s\)/);
      const rows = await page.locator('[data-testid=paper-log] tbody tr').count();
      expect(rows).toBeGreaterThanOrEqual(5);
      const first = await page.locator('[data-testid=paper-log] tbody tr').first().locator('td').allTextContents();
      // time, price, action, target exposure, BTC, cash, equity, cost, feature hash
      expect(first).toHaveLength(9);
      expect(Number(first[2])).toBeGreaterThanOrEqual(-1);
      expect(Number(first[2])).toBeLessThanOrEqual(1);
      expect(first[8]).toMatch(/^[0-9a-f]{8}$/);
      await t('paper-equity-chart').waitFor();
      await screenshot(page, 'paper-trading');
      await t('paper-stop').click();
      await expect.poll(async () => await t('paper-status').textContent(), { timeout: 10_000 }).toMatch(/^stopped/);
      const n = srv.binanceWsPaths.length;
      await page.waitForTimeout(500);
      expect(srv.binanceWsPaths.length).toBe(n); // no reconnect after stop
      expect(lab.errors.filter((e) => !/WebSocket connection|ERR_CONNECTION/.test(e))).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
