import { describe, expect, it } from 'vitest';
import { VecTradingEnv } from '../../../src/core/rl/vecEnv.ts';
import { TradingEnv } from '../../../src/core/rl/tradingEnv.ts';
import { StateBuilder } from '../../../src/core/features/stateBuilder.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { gbmMarket, handMarket, priceFeatures } from './envFixtures.ts';

const market = gbmMarket(600, 21);
const features = priceFeatures(market, 3, 20);

describe('VecTradingEnv', () => {
  it('starts its envs at different steps, seeded seed + i, reproducibly', () => {
    const vec = new VecTradingEnv(market, features, {}, { numEnvs: 8, span: { start: 0, end: 600 }, seed: 100 });
    const obs = vec.reset();
    expect(obs.length).toBe(8 * vec.obsDim);
    const starts = vec.envs.map((e) => e.t);
    expect(new Set(starts).size).toBeGreaterThan(4);
    // Env i draws its start exactly as a lone TradingEnv seeded 100 + i.
    starts.forEach((s, i) => {
      const lone = new TradingEnv(market, features);
      expect(lone.reset({ seed: 100 + i }).info.t).toBe(s);
    });
    const again = new VecTradingEnv(market, features, {}, { numEnvs: 8, span: { start: 0, end: 600 }, seed: 100 });
    expect(Array.from(again.reset())).toEqual(Array.from(obs));
  });

  it('same-step autoreset: final step’s reward and info, finalObs, and obs row already the next episode', () => {
    const vec = new VecTradingEnv(market, features, { maxEpisodeSteps: 3, transactionCost: 0.001 }, { numEnvs: 3, span: { start: 0, end: 600 }, seed: 5 });
    vec.reset();
    const rewards = [0, 0, 0];
    const dim = vec.obsDim;
    for (let k = 1; k <= 3; k++) {
      const r = vec.step(Float32Array.from([0.5, -1, 1]));
      for (let i = 0; i < 3; i++) rewards[i] += r.rewards[i]!;
      if (k < 3) {
        expect(Array.from(r.truncated)).toEqual([0, 0, 0]);
        expect(r.finalObs).toEqual([null, null, null]);
        expect(r.episodes).toEqual([]);
        continue;
      }
      expect(Array.from(r.truncated)).toEqual([1, 1, 1]);
      expect(Array.from(r.terminated)).toEqual([0, 0, 0]);
      expect(r.episodes.map((e) => [e.envIndex, e.length, e.terminated])).toEqual([
        [0, 3, false],
        [1, 3, false],
        [2, 3, false],
      ]);
      for (let i = 0; i < 3; i++) {
        const fin = r.finalObs[i]!;
        expect(fin.length).toBe(dim);
        // The final obs carries the exposure of the final step (info), the new row a flat book.
        expect(fin[dim - 1]).toBeCloseTo(r.infos[i]!.exposure, 6);
        expect(Math.abs(r.infos[i]!.exposure)).toBeGreaterThan(0.4);
        expect(r.obs[(i + 1) * dim - 1]).toBe(0);
        expect(r.episodes[i]!.return).toBeCloseTo(rewards[i]!, 14);
        expect(r.episodes[i]!.finalEquity).toBe(r.infos[i]!.equity);
        // The env itself is at the start of a new episode.
        expect(vec.envs[i]!.steps).toBe(0);
        expect(vec.envs[i]!.equity).toBe(10_000);
        // The new obs is a reset obs: a window with only its newest row filled.
        expect(Array.from(r.obs.subarray(i * dim, i * dim + (16 - 1) * 3))).toEqual(new Array(15 * 3).fill(0));
      }
    }
    // Episodes keep going after the autoreset.
    const next = vec.step(Float32Array.from([0, 0, 0]));
    expect(Array.from(next.truncated)).toEqual([0, 0, 0]);
    expect(next.infos.map((x) => x.cost)).toEqual([0, 0, 0]);
  });

  it('one env: exactly a TradingEnv loop that resets itself when an episode ends', () => {
    const cfg = { maxEpisodeSteps: 7, reward: 'risk' as const };
    const vec = new VecTradingEnv(market, features, cfg, { numEnvs: 1, span: { start: 0, end: 600 }, seed: 33 });
    const lone = new TradingEnv(market, features, cfg);
    expect(Array.from(vec.reset())).toEqual(Array.from(lone.reset({ seed: 33 }).obs));
    const rng = new Rng(4);
    let ends = 0;
    for (let k = 0; k < 30; k++) {
      const a = rng.range(-1, 1);
      const v = vec.step([a]);
      const r = lone.step(a);
      expect(v.rewards[0]).toBe(r.reward);
      expect(v.infos[0]).toEqual(r.info);
      if (r.terminated || r.truncated) {
        ends++;
        expect(Array.from(v.finalObs[0]!)).toEqual(Array.from(r.obs));
        expect(Array.from(v.obs)).toEqual(Array.from(lone.reset().obs));
      } else {
        expect(Array.from(v.obs)).toEqual(Array.from(r.obs));
      }
    }
    expect(ends).toBe(4);
  });

  it('reports a ruin as terminated and resets that env alone', () => {
    const crash = handMarket([100, 40, 10, 5, 5, 5, 5, 5]);
    const vec = new VecTradingEnv(crash, priceFeatures(crash, 1), { transactionCost: 0, window: 2 }, { numEnvs: 2, span: { start: 0, end: 8 }, seed: 0 });
    vec.reset();
    // Force both to start at 0 (a deterministic crash for env 0 long; env 1 flat).
    vec.envs[0]!.resetInto(0, new Float32Array(vec.obsDim), 0);
    vec.envs[1]!.resetInto(0, new Float32Array(vec.obsDim), 0);
    const r1 = vec.step([1, 0]);
    expect(Array.from(r1.terminated)).toEqual([0, 0]);
    const r2 = vec.step([1, 0]); // 10000 → 4000 → 1000 = 0.1·initial capital: ruin
    expect(Array.from(r2.terminated)).toEqual([1, 0]);
    expect(r2.episodes).toEqual([{ envIndex: 0, return: r1.rewards[0]! + r2.rewards[0]!, length: 2, finalEquity: 1000, terminated: true }]);
    expect(r2.infos[0]!.equity).toBe(1000);
    expect(vec.envs[0]!.equity).toBe(10_000);
    expect(vec.envs[1]!.steps).toBe(2);
  });

  it('shares one StateBuilder: every env’s rows update the same statistics, in env order', () => {
    const sb = new StateBuilder(3);
    const vec = new VecTradingEnv(market, features, {}, { numEnvs: 4, span: { start: 0, end: 600 }, seed: 9, stateBuilder: sb });
    expect(vec.stateBuilder).toBe(sb);
    vec.reset();
    const rng = new Rng(1);
    for (let k = 0; k < 10; k++) vec.step(Array.from({ length: 4 }, () => rng.range(-1, 1)));
    expect(sb.normalizer.stats.count).toBe(4 * 11);
    // The same sequence run again from the same seed gives the same statistics, bit for bit.
    const sb2 = new StateBuilder(3);
    const vec2 = new VecTradingEnv(market, features, {}, { numEnvs: 4, span: { start: 0, end: 600 }, seed: 9, stateBuilder: sb2 });
    vec2.reset();
    const rng2 = new Rng(1);
    for (let k = 0; k < 10; k++) vec2.step(Array.from({ length: 4 }, () => rng2.range(-1, 1)));
    expect(JSON.stringify(sb2)).toBe(JSON.stringify(sb));
  });

  it('copy: true returns fresh arrays; copy: false its own buffers', () => {
    const fresh = new VecTradingEnv(market, features, {}, { numEnvs: 2, span: { start: 0, end: 600 }, seed: 1 });
    fresh.reset();
    const a = fresh.step([0.1, 0.2]);
    const b = fresh.step([0.1, 0.2]);
    expect(a.obs).not.toBe(b.obs);
    expect(a.infos[0]).not.toBe(b.infos[0]);
    expect(a.infos[0]!.t + 1).toBe(b.infos[0]!.t);
    const shared = new VecTradingEnv(market, features, {}, { numEnvs: 2, span: { start: 0, end: 600 }, seed: 1, copy: false });
    shared.reset();
    const c = shared.step([0.1, 0.2]);
    const d = shared.step([0.1, 0.2]);
    expect(c.obs).toBe(d.obs);
    expect(c.rewards).toBe(d.rewards);
    // Same numbers either way.
    expect(Array.from(d.obs)).toEqual(Array.from(b.obs));
    expect(() => shared.step([0.1])).toThrow(/1 actions for 2 envs/);
  });
});
