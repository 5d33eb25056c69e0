import { describe, expect, it } from 'vitest';
import { FeatureEngine, warmupOf, type FeatureModule, type MarketFeatureModule } from '../../../src/core/features/featureEngine.ts';
import { logReturn, realisedVol, returnMoments, windowAt, windowRange } from '../../../src/core/features/rolling.ts';

function mod(name: string, keys: string[], f: (ctx: number) => Record<string, number> = (c) => Object.fromEntries(keys.map((k, i) => [k, c + i]))): FeatureModule<number> {
  return { name, featureNames: keys, computeFeatures: f };
}

describe('FeatureEngine', () => {
  it('merges modules as module.feature in sorted order, frozen, and reads each module’s own sub-context', () => {
    const e = new FeatureEngine([mod('generic', ['ret_1', 'close']), mod('btc', ['theta', 'atm_iv_short'])]);
    expect(e.names).toEqual(['btc.atm_iv_short', 'btc.theta', 'generic.close', 'generic.ret_1']);
    expect(Object.isFrozen(e.names)).toBe(true);
    // btc gets 10, generic gets 100: btc.theta = 10 + 0, btc.atm_iv_short = 10 + 1, generic.ret_1 = 100, generic.close = 101.
    expect(Array.from(e.computeFeatures({ btc: 10, generic: 100 }))).toEqual([11, 10, 101, 100]);
  });

  it('refuses a module that changes its keys, naming the module, the step and the key', () => {
    let calls = 0;
    const fickle = mod('btc', ['a', 'b'], (): Record<string, number> => (++calls < 3 ? { a: 1, b: 2 } : { a: 1, c: 2 }));
    const e = new FeatureEngine([fickle]);
    e.computeFeatures({}, undefined, 0);
    e.computeFeatures({}, undefined, 1);
    expect(() => e.computeFeatures({}, undefined, 2)).toThrow(/module btc changed its keys at step 2: extra c; missing b/);
    expect(() => new FeatureEngine([mod('btc', ['a']), mod('btc', ['b'])])).toThrow(/two modules are named "btc"/);
    expect(() => new FeatureEngine([mod('btc', ['a', 'a'])])).toThrow(/declares a feature twice/);
  });

  it('builds the matrix step by step and reports warmup: the first step from which every feature is defined', async () => {
    const series = Float64Array.from({ length: 12 }, (_, i) => 100 + i);
    const windowed: MarketFeatureModule<Float64Array> = {
      name: 'generic',
      featureNames: ['ret_3'],
      lookback: 4,
      contextAt: (t) => windowAt(series, t, 4),
      computeFeatures: (w) => ({ ret_3: logReturn(w, 3) }),
    };
    const e = new FeatureEngine([windowed]);
    const m = await e.buildMatrix([windowed], 12);
    expect(m.warmup).toBe(3);
    expect(Number.isNaN(m.values[2]!)).toBe(true);
    expect(m.values[3]).toBe(Math.log(103 / 100));
    expect(warmupOf(Float64Array.of(NaN, NaN, 2, 3), 4, 1)).toBe(2);
    expect(warmupOf(Float64Array.of(NaN, NaN), 2, 1)).toBe(2);
    // A feature that falls back to NaN after warmup is an error, not a later warmup (that would look ahead).
    const flaky: MarketFeatureModule<number> = { name: 'generic', featureNames: ['x'], lookback: 1, contextAt: (t) => t, computeFeatures: (t) => ({ x: t === 7 ? NaN : t }) };
    await expect(new FeatureEngine([flaky]).buildMatrix([flaky], 10)).rejects.toThrow(/feature generic\.x is NaN at step 7, after every feature was defined at step 0/);
  });
});

describe('window statistics', () => {
  const p = Float64Array.of(100, 101, 99, 102, 103, 101);
  const r = Array.from({ length: 5 }, (_, i) => Math.log(p[i + 1]! / p[i]!));
  it('compute on the window ending at the step, NaN while it has not filled', () => {
    expect(realisedVol(p, 5, 1 / 8760)).toBeCloseTo(Math.sqrt(r.reduce((a, x) => a + x * x, 0) / 5 / (1 / 8760)), 12);
    expect(realisedVol(p, 6, 1)).toBeNaN();
    const mo = returnMoments(p, 5);
    const mean = r.reduce((a, b) => a + b) / 5;
    const sd = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / 5);
    expect(mo.mean).toBeCloseTo(mean, 15);
    expect(mo.std).toBeCloseTo(sd, 15);
    expect(mo.skew).toBeCloseTo(r.reduce((a, x) => a + ((x - mean) / sd) ** 3, 0) / 5, 12);
    expect(mo.kurt).toBeCloseTo(r.reduce((a, x) => a + ((x - mean) / sd) ** 4, 0) / 5 - 3, 12);
    expect(windowRange(p, 3)).toBeCloseTo((103 - 101) / 101, 15);
    expect(Array.from(windowAt(p, 2, 4))).toEqual([100, 101, 99]);
    expect(returnMoments(Float64Array.of(5, 5, 5), 2)).toEqual({ mean: 0, std: 0, skew: 0, kurt: 0 });
  });
});
