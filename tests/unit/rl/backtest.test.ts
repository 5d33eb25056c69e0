import { beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../../src/core/rl/backtest.ts';
import { trainOnMarket } from '../../../src/core/rl/ppo.ts';
import type { AgentCheckpoint } from '../../../src/core/rl/agentCheckpoint.ts';
import { initBackend } from '../../../src/core/backend/backends.ts';
import { InputError } from '../../../src/core/errors.ts';
import { regimeMarket } from './ppoFixtures.ts';

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
});

const tiny = { rolloutLen: 128, numEnvs: 4, minibatchSize: 64, epochs: 1, totalSteps: 128, seed: 4 };

async function tinyAgent(n = 1000): Promise<{ ckpt: AgentCheckpoint; data: ReturnType<typeof regimeMarket> }> {
  const data = regimeMarket(n, 7);
  const r = await trainOnMarket({ ...data, featureConfig: {}, envConfig: { window: 4 }, ppo: tiny, trainFraction: 0.6 });
  r.agent.dispose();
  return { ckpt: r.checkpoint, data };
}

describe('runBacktest', () => {
  it('baselines by hand: buy-and-hold pays the fee once then holds; flat is flat', async () => {
    const { ckpt, data } = await tinyAgent();
    const b = runBacktest(ckpt, data.market, data.features, { resamples: 200 });
    const p = data.market.btcPrices;
    const first = b.span.start;
    expect(first).toBe(600); // floor(0.6 · 1000), past the warmup (1)
    expect(b.n_steps).toBe(999 - 600); // one action per step until the last bar
    expect(b.series.equityAgent).toHaveLength(b.n_steps + 1);
    const fee = 0.0005;
    const u = 10_000 / (p[first]! * (1 + fee));
    // Equity after the last step: u·p_last (cash 0 after paying the fee on the purchase).
    expect(b.series.equityBuyAndHold.at(-1)).toBeCloseTo(u * p[999]!, 6);
    expect(b.buy_and_hold.pnl).toBeCloseTo(u * p[999]! - 10_000, 6);
    expect(b.buy_and_hold.turnover!).toBeCloseTo(1 / (1 + fee) / b.n_steps, 9);
    expect(b.buy_and_hold.exposure!).toBeGreaterThan(0.9);
    expect(b.flat.pnl).toBe(0);
    expect(b.flat.sharpe).toBeNull();
    expect(b.flat.exposure).toBe(0);
    expect(b.periods_per_year).toBe(8760);
    expect(b.sharpe_ci![0]).toBeLessThanOrEqual(b.agent.sharpe!);
    expect(b.sharpe_ci![1]).toBeGreaterThanOrEqual(b.agent.sharpe!);
    expect(b.psr).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify({ ...b, series: undefined })).not.toMatch(/NaN/);
  });

  it('no training data in the test span', async () => {
    const { ckpt, data } = await tinyAgent();
    const b = runBacktest(ckpt, data.market, data.features, { resamples: 100 });
    expect(b.span.start).toBeGreaterThanOrEqual(ckpt.market.trainSpan.end);
    expect(Math.min(...b.series.steps)).toBeGreaterThanOrEqual(ckpt.market.trainSpan.end);
    // Rewrite every price and feature of the training span: the backtest must not change, because
    // its window starts empty at the first test step and its statistics are the frozen checkpoint's.
    const p = data.market.btcPrices.slice();
    const v = data.features.values.slice();
    for (let t = 0; t < ckpt.market.trainSpan.end; t++) {
      p[t] = p[t]! * (1 + 0.3 * Math.sin(t));
      v[t * 2] = 0.1 * Math.cos(t);
      v[t * 2 + 1] = -v[t * 2 + 1]!;
    }
    const b2 = runBacktest(ckpt, { ...data.market, btcPrices: p }, { ...data.features, values: v }, { resamples: 100 });
    expect(b2.agent).toEqual(b.agent);
    expect(b2.series.actions).toEqual(b.series.actions);
    // A test span reaching into the training steps is refused.
    expect(() => runBacktest(ckpt, data.market, data.features, { fromFraction: 0.5 })).toThrow(/inside the agent's training span \[0, 600\)/);
  });

  it('refuses a market whose grid or features differ, naming the difference', async () => {
    const { ckpt, data } = await tinyAgent(400);
    const other = regimeMarket(400, 7, { kGrid: [-0.1, 0, 0.1] });
    expect(() => runBacktest(ckpt, other.market, data.features)).toThrow(/surface k grid differs .*\[0\].*\[-0.1,0,0.1\]/);
    expect(() => runBacktest(ckpt, { ...data.market, dtYears: 1 / 365 }, data.features)).toThrow(/bar interval/);
    const renamed = { ...data.features, names: ['generic.ret_1', 'regime.other'] };
    expect(() => runBacktest(ckpt, data.market, renamed)).toThrow(InputError);
    expect(() => runBacktest(ckpt, data.market, renamed)).toThrow(/feature 1 differs.*"regime.sign".*"regime.other"/);
  });

  it('a trained agent beats buy-and-hold out of sample on the regime market', async () => {
    const data = regimeMarket(4000, 11);
    const r = await trainOnMarket(
      { ...data, featureConfig: {}, envConfig: { window: 2, maxEpisodeSteps: 256 }, ppo: { rolloutLen: 512, numEnvs: 8, epochs: 4, minibatchSize: 128, totalSteps: 512 * 20, lr: 1e-3, seed: 1, rewardScale: 100 }, trainFraction: 0.7 },
    );
    const b = runBacktest(r.checkpoint, data.market, data.features, { resamples: 500 });
    r.agent.dispose();
    // Optimal: annual Sharpe ≈ 0.003/0.006·√8760 ≈ 47 before flips and costs; hold ≈ 0 ± 2.7 over 1200 steps.
    expect(b.agent.sharpe!).toBeGreaterThan(15);
    expect(b.agent.sharpe!).toBeGreaterThan(b.buy_and_hold.sharpe! + 10);
    expect(b.sharpe_ci![0]).toBeGreaterThan(b.buy_and_hold.sharpe!);
    expect(b.psr!).toBeGreaterThan(0.99);
  }, 60_000);
});
