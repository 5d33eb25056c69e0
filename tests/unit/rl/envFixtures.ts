/**
 * Small markets and feature matrices for the environment tests: prices given by hand or drawn as
 * a seeded GBM, features that are simple functions of the price (so every value is known), and
 * an optional NaN warmup like the FeatureEngine's.
 */
import { Rng } from '../../../src/core/math/rng.ts';
import type { EnvMarket, FeatureRows } from '../../../src/core/rl/tradingEnv.ts';

export function handMarket(prices: number[], funding?: number[], dtYears = 1 / 8760): EnvMarket {
  return {
    btcPrices: Float64Array.from(prices),
    btcFunding: Float64Array.from(funding ?? prices.map(() => 0)),
    dtYears,
  };
}

/** Hourly GBM at 60 %/yr vol, funding 1e-4 every 8th step. */
export function gbmMarket(n: number, seed: number, volPerStep = 0.006): EnvMarket {
  const rng = new Rng(seed);
  const prices = new Float64Array(n);
  const funding = new Float64Array(n);
  prices[0] = 30_000;
  for (let t = 1; t < n; t++) {
    prices[t] = prices[t - 1]! * Math.exp(-0.5 * volPerStep * volPerStep + volPerStep * rng.normal());
    if (t % 8 === 0) funding[t] = 1e-4;
  }
  return { btcPrices: prices, btcFunding: funding, dtYears: 1 / 8760 };
}

/** d features per step: log price, its 1-step return, and constants; NaN before `warmup`. */
export function priceFeatures(market: EnvMarket, d = 3, warmup = 0): FeatureRows {
  const p = market.btcPrices;
  const n = p.length;
  const values = new Float64Array(n * d);
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < d; j++) {
      let v: number;
      if (t < warmup) v = NaN;
      else if (j === 0) v = Math.log(p[t]!);
      else if (j === 1) v = t > 0 ? Math.log(p[t]! / p[t - 1]!) : 0;
      else v = j;
      values[t * d + j] = v;
    }
  }
  return { n, d, values, warmup, names: Array.from({ length: d }, (_, j) => `test.f${j}`) };
}
