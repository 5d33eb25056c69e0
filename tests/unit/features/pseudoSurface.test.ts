import { describe, expect, it } from 'vitest';
import { empiricalSurface, horizonsInBars, MIN_TAIL_SAMPLES, SHITCOIN_PSEUDO_GRID } from '../../../src/core/features/pseudoSurface.ts';
import { Rng } from '../../../src/core/math/rng.ts';

describe('pseudo-surface from an empirical return distribution', () => {
  it('prices lognormal returns back to their own volatility (a flat smile at σ)', () => {
    // A GBM path at 80 % annual vol on hourly bars: the h-step returns are N(−σ²hΔ/2, σ²hΔ), so the
    // market that prices exactly that distribution quotes Black–Scholes at σ for every strike.
    const dt = 1 / 8760;
    const sigma = 0.8;
    const W = 20_000;
    const horizons = [1, 4];
    const rng = Rng.stream(5, 1);
    const prices = new Float64Array(W + 4);
    prices[0] = 1;
    for (let i = 1; i < prices.length; i++) prices[i] = prices[i - 1]! * Math.exp(-0.5 * sigma * sigma * dt + sigma * Math.sqrt(dt) * rng.normal());
    const kGrid = [-0.02, 0, 0.02];
    const iv = new Float64Array(6);
    const mask = new Uint8Array(6);
    expect(empiricalSurface(prices, horizons, kGrid, W, dt, iv, mask, 0)).toBe(true);
    expect(Array.from(mask)).toEqual([0, 0, 0, 0, 0, 0]);
    // Sampling error of a vol estimate from W returns is ~σ/√(2W) = 0.5 %; overlapping 4-step returns
    // have ~4× fewer independent samples (1 %); the wings (±2 % at σ√T = 0.85–1.7 %) carry more noise. 5 %.
    for (const v of iv) expect(Math.abs(v / sigma - 1)).toBeLessThan(0.05);
  });

  it('masks strikes with fewer than MIN_TAIL_SAMPLES returns beyond them, and needs a full window', () => {
    const prices = Float64Array.from({ length: 60 }, (_, i) => 1 + 0.001 * Math.sin(i));
    const iv = new Float64Array(3);
    const mask = new Uint8Array(3);
    // ±30 % strikes are far beyond any return of this path: masked; ATM is priced.
    expect(empiricalSurface(prices, [1], [-0.3, 0, 0.3], 50, 1 / 8760, iv, mask, 0)).toBe(true);
    expect(Array.from(mask)).toEqual([1, 0, 1]);
    expect(MIN_TAIL_SAMPLES).toBeGreaterThan(1);
    expect(empiricalSurface(prices, [20], [0], 50, 1 / 8760, iv, mask, 0)).toBe(false);
  });

  it('maps the network’s maturities to whole horizons of bars', () => {
    expect(horizonsInBars(SHITCOIN_PSEUDO_GRID.tGrid, 1 / 8760)).toEqual([4, 12, 24, 48]);
    expect(horizonsInBars(SHITCOIN_PSEUDO_GRID.tGrid, 1 / 365)).toMatch(/whole horizons/);
  });
});
