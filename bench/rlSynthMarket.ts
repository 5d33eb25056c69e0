/**
 * The synthetic market the RL benchmarks (rl-env, rl-ppo) run on: an hourly GBM BTC path (0.75 %
 * per hour, about 70 % a year, zero funding) and a random feature matrix whose column j has scale
 * 1 + j. The env only normalises, stacks and does the accounting, so what the features mean does
 * not matter for throughput; D is what costs. A helper, not a benchmark (no `.bench.ts`): both
 * scripts run on import, so neither can import the other.
 */
import { Rng } from '../src/core/math/rng.ts';
import type { EnvMarket, FeatureRows } from '../src/core/rl/tradingEnv.ts';

/** Bars in the benchmark market (10 000 hours, about 14 months). */
export const BENCH_BARS = 10_000;

export function benchMarket(seed: number, n = BENCH_BARS): EnvMarket {
  const rng = new Rng(seed);
  const p = new Float64Array(n);
  p[0] = 30_000;
  for (let t = 1; t < n; t++) p[t] = p[t - 1]! * Math.exp(0.0075 * rng.normal());
  return { btcPrices: p, btcFunding: new Float64Array(n), dtYears: 1 / 8760 };
}

export function benchFeatures(d: number, seed: number, n = BENCH_BARS): FeatureRows {
  const rng = new Rng(seed);
  const values = new Float64Array(n * d);
  for (let i = 0; i < values.length; i++) values[i] = rng.normal() * (1 + (i % d));
  return { n, d, values, warmup: 0 };
}
