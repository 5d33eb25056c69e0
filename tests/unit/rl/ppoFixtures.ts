/**
 * A regime market for the PPO tests whose optimal policy is known: s_t ∈ {−1, +1} (flips with
 * probability 0.02 per hourly bar) sets the drift of the next log-return, r_{t+1} = 0.003·s_t +
 * 0.006·ε, and is published as a feature at step t (no look-ahead: it is known at the bar close,
 * before the return it predicts). Optimal: full long in +1, full short in −1 (per-step Sharpe ≈ 0.5
 * before costs); buy-and-hold earns the drift's average, ≈ 0. A second feature is the last 1-step
 * log return (computed from prices ≤ t).
 */
import { Rng } from '../../../src/core/math/rng.ts';
import type { MarketData } from '../../../src/core/market/marketData.ts';
import type { FeatureMatrix } from '../../../src/core/features/featureEngine.ts';

export function regimeMarket(n: number, seed: number, opts: { drift?: number; kGrid?: number[] } = {}): { market: MarketData; features: FeatureMatrix } {
  const rng = new Rng(seed);
  const drift = opts.drift ?? 0.003;
  const s = new Float64Array(n);
  const p = new Float64Array(n);
  s[0] = rng.uniform() < 0.5 ? -1 : 1;
  p[0] = 100;
  for (let t = 1; t < n; t++) {
    p[t] = p[t - 1]! * Math.exp(drift * s[t - 1]! + 0.006 * rng.normal());
    s[t] = rng.uniform() < 0.02 ? -s[t - 1]! : s[t - 1]!;
  }
  const kGrid = Float64Array.from(opts.kGrid ?? [0]);
  const values = new Float64Array(n * 2);
  for (let t = 0; t < n; t++) {
    values[t * 2] = t === 0 ? NaN : Math.log(p[t]! / p[t - 1]!); // generic.ret_1
    values[t * 2 + 1] = s[t]!; // regime.sign
  }
  const market: MarketData = {
    name: `regime-${seed}`,
    timesMs: Float64Array.from({ length: n }, (_, t) => 1_700_000_000_000 + t * 3_600_000),
    dtYears: 1 / 8760,
    btcPrices: p,
    btcFutPrices: p.slice(),
    btcFunding: new Float64Array(n),
    btcOi: new Float64Array(n).fill(NaN),
    kGrid,
    tGrid: Float64Array.from([0.1]),
    btcIvSurface: new Float64Array(n * kGrid.length).fill(0.5),
    btcIvMask: new Uint8Array(n * kGrid.length),
    hasSurface: new Uint8Array(n).fill(1),
  };
  const features: FeatureMatrix = { names: ['generic.ret_1', 'regime.sign'], n, d: 2, values, warmup: 1, modules: ['generic', 'regime'], notes: [] };
  return { market, features };
}
