import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rlEnvCommands } from '../../../cli/commands/rlEnv.ts';
import { simulateMarket } from '../../../src/core/market/simulator.ts';
import { writeMarketNpz, type MarketData } from '../../../src/core/market/marketData.ts';
import { InputError } from '../../../src/core/errors.ts';

const cmd = rlEnvCommands.find((c) => c.name === 'rl env')!;
let dir: string;
let market: MarketData;
let marketFile: string;

interface Out {
  start: number;
  warmup: number;
  features: number;
  steps: { t: number; action: number; reward: number; equity: number; units: number; cash: number; cost: number; exposure: number; terminated: boolean; truncated: boolean }[];
}

function json(name: string, value: unknown): string {
  const f = join(dir, name);
  writeFileSync(f, JSON.stringify(value));
  return f;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rl-env-cli-'));
  market = simulateMarket({ nSteps: 300, volBtc: 0.006 }, 5);
  marketFile = join(dir, 'market.npz');
  writeFileSync(marketFile, writeMarketNpz(market));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rl env', () => {
  it('replays the actions and prints each step’s accounting (t = the step the action was taken at)', async () => {
    const actions = json('a.json', { start: 200, actions: [1, -0.5, 0.25, 0] });
    const config = json('env.json', { transactionCost: 0.001, funding: true });
    const r = (await cmd.run(['--market', marketFile, '--actions', actions, '--config', config, '--modules', 'generic,sentiment'], {})) as Out;
    expect(r.start).toBe(200);
    expect(r.warmup).toBeLessThanOrEqual(200);
    expect(r.features).toBeGreaterThan(3);
    expect(r.steps.map((s) => s.t)).toEqual([200, 201, 202, 203]);
    const p = market.btcPrices;
    let prev = { units: 0, cash: 10_000, equity: 10_000 };
    for (const s of r.steps) {
      // The identities a user checks by hand (1e-9 relative: a few float64 operations on ~1e4).
      const tol = 1e-9 * 10_000;
      expect(Math.abs(s.units - (s.action * prev.equity) / p[s.t]!)).toBeLessThan(1e-9 * Math.abs(prev.equity / p[s.t]!));
      expect(Math.abs(s.cost - 0.001 * Math.abs(s.units - prev.units) * p[s.t]!)).toBeLessThan(tol);
      const funding = s.units * p[s.t + 1]! * market.btcFunding[s.t + 1]!;
      expect(Math.abs(s.cash - (prev.cash - (s.units - prev.units) * p[s.t]! - s.cost - funding))).toBeLessThan(tol);
      expect(Math.abs(s.equity - (s.cash + s.units * p[s.t + 1]!))).toBeLessThan(tol);
      expect(s.reward).toBeCloseTo((s.equity - prev.equity) / 10_000, 12);
      prev = s;
    }
    expect(r.steps.every((s) => !s.terminated && !s.truncated)).toBe(true);
  });

  it('builds the btc features with the bundled inverse network by default', async () => {
    const actions = json('b.json', { start: 250, actions: [0.5, 0.5] });
    const r = (await cmd.run(['--market', marketFile, '--actions', actions, '--modules', 'btc'], {})) as Out;
    expect(r.steps.length).toBe(2);
    expect(r.features).toBeGreaterThan(10);
  });

  it('ends at truncation; refuses actions past the data’s end, unknown config keys and a start before the warmup', async () => {
    const many = json('c.json', { start: 200, actions: [0.1, 0.1, 0.1, 0.1] });
    const limit = json('limit.json', { maxEpisodeSteps: 2 });
    const r = (await cmd.run(['--market', marketFile, '--actions', many, '--config', limit, '--modules', 'generic'], {})) as Out;
    expect(r.steps.map((s) => s.truncated)).toEqual([false, true]);
    const past = json('d.json', { start: 297, actions: [0, 0, 0] });
    await expect(cmd.run(['--market', marketFile, '--actions', past, '--modules', 'generic'], {})).rejects.toThrow(/d\.json: actions: 3 actions from step 297 run past the data's end.*at most 2/);
    const bad = json('bad.json', { transactionCosts: 0.001 });
    await expect(cmd.run(['--market', marketFile, '--actions', many, '--config', bad, '--modules', 'generic'], {})).rejects.toThrow(/bad\.json: unknown key "transactionCosts"/);
    const early = json('e.json', { start: 0, actions: [0] });
    await expect(cmd.run(['--market', marketFile, '--actions', early, '--modules', 'generic'], {})).rejects.toThrow(/before the feature warmup/);
    await expect(cmd.run(['--market', marketFile], {})).rejects.toThrow(InputError);
    await expect(cmd.run(['--market', marketFile, '--actions', many, '--modules', 'nope'], {})).rejects.toThrow(/unknown module "nope"/);
  });
});
