import { describe, expect, it } from 'vitest';
import { TradingEnv, type StepInfo } from '../../../src/core/rl/tradingEnv.ts';
import { StateBuilder } from '../../../src/core/features/stateBuilder.ts';
import { RewardEngine, perYearRewardConfig } from '../../../src/core/rl/rewardEngine.ts';
import { parseEnvConfig } from '../../../src/core/rl/envConfig.ts';
import { InputError } from '../../../src/core/errors.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { gbmMarket, handMarket, priceFeatures } from './envFixtures.ts';

// Relative tolerance for accounting re-derived in the test: each quantity is a handful of float64
// operations on numbers ~1e4, so agreement is ~1e-15 relative; 1e-12 leaves room and still
// catches any wrong price index (a 1-step price change is ≥ 1e-3 relative here).
function close(a: number, b: number, rel = 1e-12): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));
}

describe('TradingEnv: a hand-computed episode', () => {
  it('matches the accounting worked out by hand (fee 0.001, leverage 1, actions 1, −0.5, 0.5, 0)', () => {
    // prices 100, 110, 99, 105, 100; initial capital 10 000; fee 0.001 of traded notional.
    // t=0 p=100: target 1·10000/100 = 100 units; cost 0.001·100·100 = 10; cash 10000 − 10000 − 10 = −10
    //            → t=1 p=110: equity −10 + 100·110 = 10990; reward (10990 − 10000)/10000 = 0.099
    //            exposure 11000/10990 = 1.000909918…
    // t=1 p=110: target −0.5·10990/110 = −49.954545… units; traded 149.954545…·110 = 16495; cost 16.495
    //            cash −10 + 16495 − 16.495 = 16468.505 → t=2 p=99: equity 16468.505 − 4945.5 = 11523.005
    //            reward 533.005/10000 = 0.0533005; exposure −4945.5/11523.005 = −0.429184…
    // t=2 p=99:  target 0.5·11523.005/99 = 58.196995 units; traded (58.196995 + 49.954545)·99 = 10707.0025
    //            cost 10.7070025; cash 16468.505 − 10707.0025 − 10.7070025 = 5750.7954975
    //            → t=3 p=105: equity 5750.7954975 + 58.196995·105 = 11861.479967…; reward 0.033847497
    // t=3 p=105: target 0; proceeds 6110.684470; cost 6.110684470; cash = equity = 11855.369283
    //            → t=4 p=100 is the last step: truncated; reward −6.110684/10000 = −0.000611068
    const env = new TradingEnv(handMarket([100, 110, 99, 105, 100]), priceFeatures(handMarket([100, 110, 99, 105, 100]), 1), { transactionCost: 0.001, window: 2 });
    const { obs, info } = env.reset({ options: { start: 0 } });
    expect(obs.length).toBe(2 * 1 + 1);
    expect(info).toMatchObject({ equity: 10_000, units: 0, cash: 10_000, cost: 0, exposure: 0, t: 0 });
    const expected = [
      { units: 100, cost: 10, cash: -10, equity: 10990, reward: 0.099, exposure: 1.0009099181073704 },
      { units: -49.95454545454545, cost: 16.495, cash: 16468.505, equity: 11523.005, reward: 0.0533005, exposure: -0.42918492181509943 },
      { units: 58.19699494949495, cost: 10.7070025, cash: 5750.7954975, equity: 11861.47996719697, reward: 0.03384749671969694, exposure: 0.5151704919281678 },
      { units: 0, cost: 6.11068446969697, cash: 11855.369282727273, equity: 11855.369282727273, reward: -0.0006110684469696934, exposure: 0 },
    ];
    const actions = [1, -0.5, 0.5, 0];
    actions.forEach((a, k) => {
      const r = env.step(a);
      const e = expected[k]!;
      close(r.info.units, e.units);
      close(r.info.cost, e.cost);
      close(r.info.cash, e.cash);
      close(r.info.equity, e.equity);
      close(r.reward, e.reward, 1e-10);
      close(r.info.exposure, e.exposure);
      expect(r.info.t).toBe(k + 1);
      expect(r.obs[r.obs.length - 1]).toBeCloseTo(e.exposure, 6);
      expect(r.terminated).toBe(false);
      expect(r.truncated).toBe(k === 3);
    });
    // Drawdown after the last step: peak 11861.479967, equity 11855.369283.
    close(env.drawdown, 11855.369282727273 / 11861.47996719697 - 1, 1e-9);
    expect(() => env.step(0)).toThrow(/reset/);
  });
});

describe('TradingEnv: accounting identities on a random episode', () => {
  it('equity = cash + units·price, cost = fee·|Δunits|·price, units′ = a·L·equity/p at every step (funding and slippage on)', () => {
    const market = gbmMarket(400, 3);
    const env = new TradingEnv(market, priceFeatures(market), { funding: true, slippageBps: 2, maxLeverage: 2.5, transactionCost: 0.0004 }, { seed: 7 });
    const rng = new Rng(11);
    let { info: prev } = env.reset({ options: { start: 5 } });
    let steps = 0;
    let sawFunding = false;
    for (;;) {
      const a = rng.range(-1.3, 1.3); // outside [-1, 1] on purpose: it must be clipped
      const r = env.step(a);
      const i = r.info;
      const pPrev = market.btcPrices[prev.t]!;
      const p = market.btcPrices[i.t]!;
      const clipped = Math.max(-1, Math.min(1, a));
      expect(i.t).toBe(prev.t + 1);
      close(i.units, (clipped * 2.5 * prev.equity) / pPrev);
      close(i.cost, (0.0004 + 2e-4) * Math.abs(i.units - prev.units) * pPrev);
      const f = market.btcFunding[i.t]!;
      close(i.funding, i.units * p * f);
      if (f !== 0 && i.units !== 0) sawFunding = true;
      close(i.cash, prev.cash - (i.units - prev.units) * pPrev - i.cost - i.funding, 1e-11);
      close(i.equity, i.cash + i.units * p, 1e-11);
      close(i.exposure, (i.units * p) / i.equity);
      close(r.reward, (i.equity - prev.equity) / 10_000, 1e-10);
      steps++;
      prev = i;
      if (r.terminated || r.truncated) {
        expect(r.truncated).toBe(true);
        expect(i.t).toBe(399);
        break;
      }
    }
    expect(steps).toBe(399 - 5);
    expect(sawFunding).toBe(true);
  });

  it('funding off: the funding column is ignored', () => {
    const market = handMarket([100, 100, 100], [0, 0.01, 0]);
    const env = new TradingEnv(market, priceFeatures(market, 1), { transactionCost: 0 });
    env.reset({ options: { start: 0 } });
    expect(env.step(1).info.equity).toBe(10_000);
    const on = new TradingEnv(market, priceFeatures(market, 1), { transactionCost: 0, funding: true });
    on.reset({ options: { start: 0 } });
    // Long 100 units at 100, funding 1 % on step 1: pays 100·100·0.01 = 100.
    expect(on.step(1).info.equity).toBeCloseTo(9_900, 9);
  });
});

describe('TradingEnv: termination and truncation', () => {
  it('terminates at ruin (equity ≤ ruinFraction·initialCapital) and not before', () => {
    // Long at full exposure while the price falls 50 % per step: equity 10000 → 5000 → 2500 → 1250 → 625.
    const market = handMarket([100, 50, 25, 12.5, 6.25, 6.25]);
    const env = new TradingEnv(market, priceFeatures(market, 1), { transactionCost: 0, ruinFraction: 0.1 });
    env.reset({ options: { start: 0 } });
    const flags = [1, 2, 3, 4].map(() => {
      const r = env.step(1);
      return [r.info.equity, r.terminated, r.truncated];
    });
    expect(flags).toEqual([
      [5000, false, false],
      [2500, false, false],
      [1250, false, false],
      [625, true, false],
    ]);
  });

  it('a leveraged wipe-out past zero equity terminates with finite numbers everywhere', () => {
    // 3× long at 100 (300 units), price halves: equity 10000 − 300·50 = −5000.
    const market = handMarket([100, 50, 50]);
    for (const reward of ['simple', 'risk'] as const) {
      const env = new TradingEnv(market, priceFeatures(market, 1), { transactionCost: 0, maxLeverage: 3, reward });
      env.reset({ options: { start: 0 } });
      const r = env.step(1);
      expect(r.info.equity).toBe(-5000);
      expect(r.terminated).toBe(true);
      expect(Number.isFinite(r.reward)).toBe(true);
      expect(Array.from(r.obs).every(Number.isFinite)).toBe(true);
    }
  });

  it('truncates after maxEpisodeSteps, and at the span end', () => {
    const market = gbmMarket(60, 4);
    const env = new TradingEnv(market, priceFeatures(market), { maxEpisodeSteps: 3 });
    env.reset({ options: { start: 10 } });
    expect([env.step(0.2).truncated, env.step(0.2).truncated, env.step(0.2).truncated]).toEqual([false, false, true]);
    const spanned = new TradingEnv(market, priceFeatures(market), {}, { span: { start: 20, end: 25 } });
    spanned.reset({ options: { start: 22 } });
    expect(spanned.step(0).truncated).toBe(false);
    const r = spanned.step(0);
    expect(r.truncated).toBe(true);
    expect(r.info.t).toBe(24);
    expect(() => spanned.reset({ options: { start: 24 } })).toThrow(InputError);
    expect(() => spanned.reset({ options: { start: 19 } })).toThrow(/options\.start/);
  });
});

describe('TradingEnv: starts, seeds, warmup, observations', () => {
  it('same seed → same episode starts; reset without a seed continues the stream', () => {
    const market = gbmMarket(500, 5);
    const starts = (seed: number) => {
      const env = new TradingEnv(market, priceFeatures(market, 3, 30));
      const s = [env.reset({ seed }).info.t];
      for (let k = 0; k < 9; k++) s.push(env.reset().info.t);
      return s;
    };
    const a = starts(1);
    expect(starts(1)).toEqual(a);
    expect(starts(2)).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(5);
    // Episodes begin at the warmup or later and leave at least one step.
    for (const s of [...a, ...starts(3)]) {
      expect(s).toBeGreaterThanOrEqual(30);
      expect(s).toBeLessThanOrEqual(498);
    }
  });

  it('same seed and actions → bit-identical observations and rewards', () => {
    const market = gbmMarket(300, 6);
    const run = () => {
      const env = new TradingEnv(market, priceFeatures(market), { reward: 'risk' });
      const rng = new Rng(9);
      const out: number[] = [...env.reset({ seed: 4 }).obs];
      for (let k = 0; k < 50; k++) {
        const r = env.step(rng.range(-1, 1));
        out.push(r.reward, ...r.obs);
        if (r.truncated || r.terminated) break;
      }
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('obs = the StateBuilder window of normalised rows (oldest → newest) + exposure; spaces declare it', () => {
    const market = gbmMarket(100, 7);
    const features = priceFeatures(market, 3, 10);
    const env = new TradingEnv(market, features, { window: 4 });
    expect(env.obsDim).toBe(4 * 3 + 1);
    expect(env.observationSpace.shape).toEqual([13]);
    expect(env.observationSpace.low[0]).toBe(-5);
    expect(env.observationSpace.high[12]).toBe(Infinity);
    expect(env.actionSpace.shape).toEqual([1]);
    expect([env.actionSpace.low[0], env.actionSpace.high[0]]).toEqual([-1, 1]);
    const ref = new StateBuilder(3, { window: 4 });
    let { obs } = env.reset({ options: { start: 10 } });
    let state = ref.buildState(features.values.subarray(30, 33));
    expect(Array.from(obs.subarray(0, 12))).toEqual(Array.from(state));
    expect(Array.from(obs.subarray(0, 9))).toEqual(new Array(9).fill(0));
    for (let t = 11; t < 20; t++) {
      const r = env.step(0.7);
      obs = r.obs;
      state = ref.buildState(features.values.subarray(t * 3, t * 3 + 3));
      expect(Array.from(obs.subarray(0, 12))).toEqual(Array.from(state));
      expect(obs[12]).toBeCloseTo(r.info.exposure, 6);
      expect(env.observationSpace.contains(obs)).toBe(true);
    }
  });

  it('no look-ahead: changing prices and features after step t leaves every obs and step up to t unchanged', () => {
    const base = gbmMarket(120, 12);
    const run = (market: typeof base, features: ReturnType<typeof priceFeatures>) => {
      const env = new TradingEnv(market, features, { reward: 'risk', funding: true });
      const rng = new Rng(2);
      const obs = [Array.from(env.reset({ options: { start: 20 } }).obs)];
      const steps: number[][] = [];
      for (let k = 0; k < 60; k++) {
        const r = env.step(rng.range(-1, 1));
        obs.push(Array.from(r.obs));
        steps.push([r.reward, r.info.equity, r.info.cash, r.info.units, r.info.cost]);
      }
      return { obs, steps };
    };
    const features = priceFeatures(base);
    const a = run(base, features);
    const cut = 50; // change everything after step 50
    const prices = base.btcPrices.slice();
    const funding = base.btcFunding.slice();
    const values = features.values.slice();
    for (let t = cut + 1; t < 120; t++) {
      prices[t] = prices[t]! * 1.7;
      funding[t] = 0.003;
      for (let j = 0; j < features.d; j++) values[t * features.d + j] = -values[t * features.d + j]! + 3;
    }
    const b = run({ ...base, btcPrices: prices, btcFunding: funding }, { ...features, values });
    // obs[k] belongs to step 20 + k; step k is the action taken at 20 + k, settled at 20 + k + 1.
    for (let k = 0; k <= cut - 20; k++) expect(b.obs[k]).toEqual(a.obs[k]);
    for (let k = 0; k < cut - 20; k++) expect(b.steps[k]).toEqual(a.steps[k]);
    // …and the change does show after it (the test can fail).
    expect(b.obs[cut - 20 + 1]).not.toEqual(a.obs[cut - 20 + 1]);
  });

  it('a frozen StateBuilder keeps its statistics through an episode (evaluation)', () => {
    const market = gbmMarket(100, 8);
    const features = priceFeatures(market);
    const sb = new StateBuilder(3);
    for (let t = 0; t < 50; t++) sb.normalizer.normalize(features.values.subarray(t * 3, t * 3 + 3));
    sb.freeze();
    const before = JSON.stringify(sb);
    const env = new TradingEnv(market, features, {}, { stateBuilder: sb, span: { start: 50, end: 100 } });
    env.reset({ seed: 1 });
    while (!env.step(0.5).truncated);
    expect(JSON.stringify(sb)).toBe(before);
  });

  it('risk reward: the RewardEngine on the step’s equities, units and prices', () => {
    const market = gbmMarket(80, 9);
    const env = new TradingEnv(market, priceFeatures(market), { reward: 'risk' });
    const engine = new RewardEngine({}, 10_000);
    let prev: StepInfo = env.reset({ options: { start: 3 } }).info;
    for (const a of [1, 0.5, -1, -1, 0, 0.3]) {
      const r = env.step(a);
      const want = engine.computeReward(prev.equity, r.info.equity, prev.units, r.info.units, market.btcPrices[prev.t]!, market.btcPrices[r.info.t]!);
      expect(r.reward).toBe(want);
      expect(env.rewardTerms!.leverage).toBeCloseTo(Math.abs(r.info.exposure), 12);
      prev = r.info;
    }
  });

  it('perYear preset: the RewardEngine runs the per-step numbers converted with the market’s dtYears', () => {
    const market = gbmMarket(80, 13);
    const env = new TradingEnv(market, priceFeatures(market), parseEnvConfig({ reward: 'risk', rewardPreset: 'perYear' }, 'env.json'));
    expect(env.rewardConfig).toEqual(perYearRewardConfig(1 / 8760));
    const engine = new RewardEngine(perYearRewardConfig(1 / 8760), 10_000);
    const prev = env.reset({ options: { start: 3 } }).info;
    const r = env.step(1);
    expect(r.reward).toBe(engine.computeReward(prev.equity, r.info.equity, 0, r.info.units, market.btcPrices[3]!, market.btcPrices[4]!));
  });

  it('refuses bad inputs with errors naming what is wrong', () => {
    const market = gbmMarket(50, 10);
    const features = priceFeatures(market, 2, 5);
    features.values[20 * 2 + 1] = NaN;
    expect(() => new TradingEnv(market, features)).toThrow(/step 20 .*test\.f1 is NaN/);
    expect(() => new TradingEnv(market, priceFeatures(gbmMarket(40, 1)))).toThrow(/40 rows but the market has 50/);
    expect(() => new TradingEnv(market, priceFeatures(market), { rewardConfig: { volWindow: 1 } })).toThrow(/volWindow/);
    expect(() => new TradingEnv(market, priceFeatures(market), { bogus: 1 } as never)).toThrow(/unknown key "bogus"/);
    expect(() => new TradingEnv(market, priceFeatures(market, 2, 49))).toThrow(/span/);
    const env = new TradingEnv(market, priceFeatures(market));
    env.reset();
    expect(() => env.step(NaN)).toThrow(/action/);
  });
});
