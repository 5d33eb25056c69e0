import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { initBackend } from '../../../src/core/backend/backends.ts';
import { decodeCheckpoint, type LoadedCheckpoint } from '../../../src/core/inverse/checkpoint.ts';
import { buildFeatureMatrix, activeModules, DEFAULT_FEATURE_CONFIG, featureCacheKey } from '../../../src/core/features/featureMatrix.ts';
import { CsvSentimentProvider } from '../../../src/core/features/sentiment.ts';
import { HESTON_REGIME_PRESET, simulateHestonMarket } from '../../../src/core/market/hestonMarket.ts';
import type { MarketData } from '../../../src/core/market/marketData.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { Normalizer } from '../../../src/core/features/stateBuilder.ts';

let inverse: LoadedCheckpoint;
let shitcoinInverse: LoadedCheckpoint;
let market: MarketData;
const N = 760;

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
  inverse = await decodeCheckpoint(new Uint8Array(readFileSync('public/checkpoints/seed-grid-heston.hlckpt')), 'seed-grid-heston.hlckpt');
  shitcoinInverse = await decodeCheckpoint(new Uint8Array(readFileSync('public/checkpoints/shitcoin-pseudo-heston.hlckpt')), 'shitcoin-pseudo-heston.hlckpt');
  // Regimes switching every ~100 steps, surfaces every 3rd step (so carrying forward is exercised).
  market = await simulateHestonMarket({ ...HESTON_REGIME_PRESET, regimeSwitchProb: 1 / 100, nSteps: N, surfaceEvery: 3 }, 7);
}, 60_000);

function sentimentCsv(m: MarketData): string {
  const rows = ['timestamp,sentiment_score,msg_rate,fear_greed'];
  for (let t = 0; t < m.timesMs.length; t += 10) rows.push(`${m.timesMs[t]! - 1},${Math.sin(t) / 2},${t % 7},${(t * 13) % 100}`);
  return rows.join('\n');
}

function col(fm: { names: string[]; d: number; values: Float64Array }, name: string, t: number): number {
  const j = fm.names.indexOf(name);
  if (j < 0) throw new Error(`no feature ${name}`);
  return fm.values[t * fm.d + j]!;
}

describe('buildFeatureMatrix', () => {
  it('has every module the market has data for, named module.feature, sorted', async () => {
    const fm = await buildFeatureMatrix(market, {}, { inverse, shitcoinInverse });
    expect(fm.modules).toEqual(['btc', 'generic', 'sentiment', 'shitcoin']);
    expect(fm.names).toEqual([...fm.names].sort());
    expect(fm.names).toContain('btc.atm_iv_short');
    expect(fm.names).toContain('shitcoin.vol_96');
    expect(fm.d).toBe(fm.names.length);
    // Warmup is set by the longest window: the shitcoin pseudo-surface needs 480 returns of the 48-step
    // horizon (528 prices: first at t = 527) and its deltas the step before as well (t = 528).
    expect(fm.warmup).toBe(480 + 48);
    for (let t = fm.warmup; t < N; t++) for (let j = 0; j < fm.d; j++) expect(Number.isFinite(fm.values[t * fm.d + j]!)).toBe(true);
    expect(fm.names.filter((n, j) => Number.isNaN(fm.values[(fm.warmup - 1) * fm.d + j]!))).toEqual(['shitcoin.d_kappa', 'shitcoin.d_rho', 'shitcoin.d_sigma', 'shitcoin.d_theta', 'shitcoin.d_v0']);
  });

  it('no look-ahead: changing any data after step t leaves every feature at steps ≤ t unchanged', async () => {
    const t = 600;
    const deps = { inverse, shitcoinInverse, sentiment: new CsvSentimentProvider(sentimentCsv(market), 'a.csv') };
    const base = await buildFeatureMatrix(market, {}, deps);
    // Everything after t: prices, futures, funding, OI, volumes, surfaces (and which steps have one), shitcoin, sentiment.
    const cells = market.kGrid.length * market.tGrid.length;
    const after = <A extends Float64Array | Float32Array | Uint8Array>(a: A, per = 1, f: (x: number, i: number) => number) => a.map((x, i) => (i >= (t + 1) * per ? f(x, i) : x)) as A;
    const changed: MarketData = {
      ...market,
      btcPrices: after(market.btcPrices, 1, (x, i) => x * (1 + 0.05 * Math.sin(i))),
      btcFutPrices: after(market.btcFutPrices, 1, (x) => x * 1.01),
      btcFunding: after(market.btcFunding, 1, (x) => x + 1e-3),
      btcOi: after(market.btcOi, 1, (x) => x * 2),
      btcVolumes: after(market.btcVolumes!, 1, (x) => x * 3),
      btcIvSurface: after(market.btcIvSurface, cells, (x) => x * 1.3),
      hasSurface: after(market.hasSurface, 1, () => 1),
      btcIvMask: after(market.btcIvMask, cells, (x, i) => (market.hasSurface[Math.floor(i / cells)] ? x : 0)),
      shitPrices: after(market.shitPrices!, 1, (x, i) => x * Math.exp(0.1 * Math.cos(i))),
      shitVolumes: after(market.shitVolumes!, 1, (x) => x / 2),
      shitFunding: after(market.shitFunding!, 1, (x) => -x),
    };
    // Steps that had no surface now get one (a copy of step t's, scaled), so every cell is a valid vol.
    for (let s = t + 1; s < N; s++) if (!market.hasSurface[s]) for (let c = 0; c < cells; c++) {
      changed.btcIvSurface[s * cells + c] = market.btcIvSurface[(t - (t % 3)) * cells + c]! * 1.1;
      changed.btcIvMask[s * cells + c] = market.btcIvMask[(t - (t % 3)) * cells + c]!;
    }
    const later = sentimentCsv(market).split('\n').map((line, i) => (i > 0 && Number(line.split(',')[0]) > market.timesMs[t]! ? line.replace(/,(\d+)$/, ',99') : line)).join('\n');
    const other = await buildFeatureMatrix(changed, {}, { ...deps, sentiment: new CsvSentimentProvider(later, 'b.csv') });
    expect(other.names).toEqual(base.names);
    const d = base.d;
    expect(Array.from(other.values.subarray(0, (t + 1) * d))).toEqual(Array.from(base.values.subarray(0, (t + 1) * d)));
    // …so are the warmup and the normalised states (update-then-normalise from warmup on).
    expect(other.warmup).toBe(base.warmup);
    const states = (fm: typeof base) => {
      const norm = new Normalizer(fm.d);
      return Array.from({ length: t + 1 - fm.warmup }, (_, i) => Array.from(norm.normalize(fm.values.subarray((fm.warmup + i) * d, (fm.warmup + i + 1) * d))));
    };
    expect(states(other)).toEqual(states(base));
    // …and the change is visible after t (the test would catch a module that ignores its data).
    for (const name of ['btc.atm_iv_short', 'generic.ret_1', 'shitcoin.vol_24', 'sentiment.fear_greed', 'btc.funding']) {
      let differs = false;
      for (let s = t + 1; s < N; s++) if (col(other, name, s) !== col(base, name, s)) differs = true;
      expect(differs, name).toBe(true);
    }
  }, 60_000);

  it('carries the last surface forward: age grows, deltas are 0, no step sees a later surface', async () => {
    const fm = await buildFeatureMatrix(market, { modules: 'btc' }, { inverse });
    const t = 301; // 300 has a surface, 301 and 302 do not
    expect(Array.from(market.hasSurface.subarray(300, 304))).toEqual([1, 0, 0, 1]);
    expect(col(fm, 'btc.surface_age_h', 300)).toBe(0);
    expect(col(fm, 'btc.surface_age_h', 301)).toBeCloseTo(1, 9);
    expect(col(fm, 'btc.surface_age_h', 302)).toBeCloseTo(2, 9);
    expect(col(fm, 'btc.v0', t)).toBe(col(fm, 'btc.v0', 300));
    expect(col(fm, 'btc.d_v0', t)).toBe(0);
    expect(col(fm, 'btc.d_v0', 303)).toBe(col(fm, 'btc.v0', 303) - col(fm, 'btc.v0', 302));
    // ATM short: k = 0 is on the grid, so it is the surface's own value at (k = 0, T = 0.05).
    expect(col(fm, 'btc.atm_iv_short', t)).toBe(market.btcIvSurface[300 * 30 + 2 * 6 + 0]);
    expect(col(fm, 'btc.basis', t)).toBe(Math.log(market.btcFutPrices[t]! / market.btcPrices[t]!));
  });

  it('the network’s v0 and θ follow the market’s true variance and regime', async () => {
    const fm = await buildFeatureMatrix(market, { modules: 'btc' }, { inverse });
    const xs: number[] = [];
    const ys: number[] = [];
    for (let s = 200; s < N; s++) if (market.hasSurface[s]) {
      xs.push(col(fm, 'btc.v0', s));
      ys.push(market.truth!.btcVariance[s]!);
    }
    const corr = pearson(xs, ys);
    // The bundled network's held-out v0 R² is ≥ 0.99 on the seed prior; these surfaces sit inside it.
    expect(corr).toBeGreaterThan(0.95);
    const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;
    expect(median(xs.map((x, i) => Math.abs(x / ys[i]! - 1)))).toBeLessThan(0.1);
  });

  it('caches by market + checkpoints + config, and picks modules from the config', async () => {
    const cache = new MemoryStore();
    const small = { ...market, shitPrices: undefined, shitVolumes: undefined, shitFunding: undefined };
    const a = await buildFeatureMatrix(small, {}, { inverse, cache });
    const keys = await cache.keys('features/');
    expect(keys).toHaveLength(1);
    expect(a.modules).toEqual(['btc', 'generic', 'sentiment']);
    const again = await buildFeatureMatrix(small, {}, { inverse, cache });
    expect(again).toEqual(a);
    expect(await cache.keys('features/')).toHaveLength(1);
    await buildFeatureMatrix(small, { genericWindow: 12 }, { inverse, cache });
    expect(await cache.keys('features/')).toHaveLength(2);
    const k1 = await featureCacheKey(small, DEFAULT_FEATURE_CONFIG, { inverse }, ['btc']);
    const k2 = await featureCacheKey({ ...small, btcPrices: small.btcPrices.map((x, i) => (i === 5 ? x + 1 : x)) }, DEFAULT_FEATURE_CONFIG, { inverse }, ['btc']);
    expect(k1).not.toBe(k2);
    expect(() => activeModules(small, { ...DEFAULT_FEATURE_CONFIG, modules: 'shitcoin' })).toThrow(/no data for module shitcoin/);
    expect(() => activeModules(small, { ...DEFAULT_FEATURE_CONFIG, modules: 'btc,weather' })).toThrow(/unknown module "weather"/);
    await expect(buildFeatureMatrix(small, { modules: 'btc' }, {})).rejects.toThrow(/btc module needs the BTC inverse network/);
    await expect(buildFeatureMatrix(small, { pseudoWindow: 3 } as never, { inverse })).rejects.toThrow(/features: pseudoWindow: must be ≥ 20/);
  });

  it('stops with CancelledError when the job is cancelled, and reports progress', async () => {
    const ac = new AbortController();
    const seen: string[] = [];
    const job = buildFeatureMatrix(market, {}, { inverse, shitcoinInverse }, { signal: ac.signal, onProgress: (p) => seen.push(p.message ?? '') });
    setTimeout(() => ac.abort(), 5);
    await expect(job).rejects.toBeInstanceOf(CancelledError);
    const done = await buildFeatureMatrix(market, { modules: 'generic' }, {}, { onProgress: (p) => seen.push(p.message ?? '') });
    expect(done.n).toBe(N);
    expect(seen.at(-1)).toBe(`features ${N}/${N}`);
  });

  it('the seed’s moments-matrix variant is selectable and says it is off the network’s training data', async () => {
    const fm = await buildFeatureMatrix(market, { modules: 'shitcoin', shitcoinVariant: 'moments' }, { shitcoinInverse });
    expect(fm.warmup).toBe(336); // the longest moment window (336) + 1 price
    expect(fm.notes.join()).toMatch(/moment matrices lie outside the network’s training data/);
  });
});

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
