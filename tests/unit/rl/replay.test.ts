import { describe, expect, it } from 'vitest';
import { parseReplayInput, replayActions } from '../../../src/core/rl/replay.ts';
import { InputError } from '../../../src/core/errors.ts';
import { handMarket, priceFeatures } from './envFixtures.ts';

const prices = [100, 110, 99, 105, 100, 100, 100];
const market = handMarket(prices);
const features = priceFeatures(market, 1, 1);

describe('replayActions', () => {
  it('takes action k at step start + k and reports the accounting after it', () => {
    // Same numbers as the hand-computed episode in env.test.ts, shifted to start at step 1 (warmup 1):
    // long 1 at p=110 → 100·… : units 10000/110, cost 0.001·10000 = 10, equity at 99: −10 + 90.909…·99.
    const r = replayActions(market, features, { transactionCost: 0.001 }, { start: 1, actions: [1, 0] });
    expect(r.steps.map((s) => s.t)).toEqual([1, 2]);
    const s0 = r.steps[0]!;
    expect(s0.units).toBeCloseTo(10_000 / 110, 12);
    expect(s0.cost).toBeCloseTo(10, 12);
    expect(s0.cash).toBeCloseTo(-10, 9);
    expect(s0.equity).toBeCloseTo(-10 + (10_000 / 110) * 99, 9);
    expect(s0.reward).toBeCloseTo((s0.equity - 10_000) / 10_000, 14);
    expect(r.steps[1]!.units).toBe(0);
    expect(r.steps[1]!.exposure).toBe(0);
    expect(r.finalObs.length).toBe(16 + 1);
  });

  it('stops at truncation (time limit) and at ruin', () => {
    const r = replayActions(market, features, { maxEpisodeSteps: 2 }, { start: 1, actions: [0.5, 0.5, 0.5, 0.5] });
    expect(r.steps.length).toBe(2);
    expect(r.steps[1]!.truncated).toBe(true);
    const crash = handMarket([100, 100, 40, 10, 10]);
    const c = replayActions(crash, priceFeatures(crash, 1), { transactionCost: 0 }, { start: 1, actions: [1, 1, 0] });
    expect(c.steps.map((s) => [s.equity, s.terminated])).toEqual([
      [4000, false],
      [1000, true],
    ]);
  });

  it('refuses actions past the data’s end, a start before the warmup, and malformed input', () => {
    expect(() => replayActions(market, features, {}, { start: 3, actions: [0, 0, 0, 0] })).toThrow(/actions: 4 actions from step 3 run past the data's end.*at most 3/);
    expect(replayActions(market, features, {}, { start: 3, actions: [0, 0, 0] }).steps.length).toBe(3);
    const n = market.btcPrices.length;
    expect(() => replayActions(market, features, {}, { start: n + 200, actions: [0] })).toThrow(new RegExp(`actions: start: ${n + 200} leaves no step to trade: the market has ${n} steps .*the last start is ${n - 2}`));
    expect(() => replayActions(market, features, {}, { start: 0, actions: [0] })).toThrow(/before the feature warmup \(1\)/);
    expect(() => parseReplayInput({ start: 1, actions: [0, 'x'] }, 'a.json')).toThrow(/a\.json: actions\[1\]/);
    expect(() => parseReplayInput({ start: 1.5, actions: [0] }, 'a.json')).toThrow(/a\.json: start/);
    expect(() => parseReplayInput({ start: 1, actions: [0], policy: 'x' }, 'a.json')).toThrow(/unknown key "policy"/);
    expect(() => parseReplayInput([1], 'a.json')).toThrow(InputError);
    expect(parseReplayInput({ start: 2, actions: [1, -2] }, 'a.json')).toEqual({ start: 2, actions: [1, -2] });
  });
});
