/**
 * Feature-matrix benchmark (issue 10, item 8): build time of the raw [n, D] matrix for a
 * 10 000-step Heston market with the bundled inverse networks (BTC on the seed grid, shitcoin on the
 * pseudo-surface grid), per tfjs backend available in Node (wasm, cpu), plus where the time goes:
 * the btc module alone (10 000 surfaces through the CNN), the shitcoin module alone (10 000
 * empirical pseudo-surfaces priced and inverted, then the CNN), generic + sentiment (window
 * statistics only), and a cache hit. Also the time to simulate the market itself.
 * Run: npx tsx bench/rl-features.bench.ts — prints one JSON object.
 */
import { readFileSync } from 'node:fs';
import { initBackend } from '../src/core/backend/backends.ts';
import { decodeCheckpoint } from '../src/core/inverse/checkpoint.ts';
import { simulateHestonMarket } from '../src/core/market/hestonMarket.ts';
import { buildFeatureMatrix } from '../src/core/features/featureMatrix.ts';
import { MemoryStore } from '../src/core/store/store.ts';

const N = 10_000;
const s = (t0: number) => +((performance.now() - t0) / 1000).toFixed(3);

const inverse = await decodeCheckpoint(new Uint8Array(readFileSync('public/checkpoints/seed-grid-heston.hlckpt')), 'seed-grid-heston.hlckpt');
const shitcoinInverse = await decodeCheckpoint(new Uint8Array(readFileSync('public/checkpoints/shitcoin-pseudo-heston.hlckpt')), 'shitcoin-pseudo-heston.hlckpt');

let t0 = performance.now();
const market = await simulateHestonMarket({ nSteps: N }, 1);
const simulateSeconds = s(t0);

const backends: Record<string, unknown> = {};
for (const name of ['wasm', 'cpu'] as const) {
  const a = await initBackend(name);
  if (!a.ok) {
    backends[name] = { ok: false, error: a.error };
    continue;
  }
  const deps = { inverse, shitcoinInverse };
  // Warm-up on a short slice (kernel set-up, V8 tiers), not counted.
  await buildFeatureMatrix({ ...market, timesMs: market.timesMs.subarray(0, 600), btcPrices: market.btcPrices.subarray(0, 600), btcFutPrices: market.btcFutPrices.subarray(0, 600), btcFunding: market.btcFunding.subarray(0, 600), btcOi: market.btcOi.subarray(0, 600), btcIvSurface: market.btcIvSurface.subarray(0, 600 * 30), btcIvMask: market.btcIvMask.subarray(0, 600 * 30), hasSurface: market.hasSurface.subarray(0, 600), btcVolumes: market.btcVolumes!.subarray(0, 600), shitPrices: market.shitPrices!.subarray(0, 600), shitVolumes: market.shitVolumes!.subarray(0, 600), shitFunding: market.shitFunding!.subarray(0, 600), truth: undefined }, {}, deps);
  t0 = performance.now();
  const fm = await buildFeatureMatrix(market, {}, deps);
  const all = s(t0);
  t0 = performance.now();
  await buildFeatureMatrix(market, { modules: 'btc' }, deps);
  const btc = s(t0);
  t0 = performance.now();
  await buildFeatureMatrix(market, { modules: 'shitcoin' }, deps);
  const shit = s(t0);
  t0 = performance.now();
  await buildFeatureMatrix(market, { modules: 'generic,sentiment' }, deps);
  const plain = s(t0);
  const cache = new MemoryStore();
  await buildFeatureMatrix(market, {}, { ...deps, cache });
  t0 = performance.now();
  await buildFeatureMatrix(market, {}, { ...deps, cache });
  const hit = s(t0);
  backends[name] = { ok: true, seconds: all, steps_per_second: Math.round(N / all), d: fm.d, warmup: fm.warmup, btc_only_s: btc, shitcoin_only_s: shit, generic_sentiment_s: plain, cache_hit_s: hit };
  process.stderr.write(`${name}: ${all} s for ${N} steps\n`);
}

process.stdout.write(JSON.stringify({ benchmark: 'rl-features', ok: true, steps: N, market: 'heston (defaults, seed 1)', simulate_s: simulateSeconds, backends }) + '\n');
