import { describe, expect, it } from 'vitest';
import { decorSurface, simulateMarket, DEFAULT_SIM_MARKET_CONFIG } from '../../../src/core/market/simulator.ts';
import { HESTON_REGIME_PRESET, parseHestonMarketConfig, qeVarianceStep, simulateHestonMarket } from '../../../src/core/market/hestonMarket.ts';
import { readMarketNpz, writeMarketNpz } from '../../../src/core/market/marketData.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { SEED_GRID } from '../../../src/core/surface/types.ts';

describe('simulateMarket (seed VI)', () => {
  it('gives N rows of GBM prices with the seed’s per-step vol, the décor surface, funding every 8th step', () => {
    const m = simulateMarket({ nSteps: 20_000 }, 5);
    expect(m.timesMs.length).toBe(20_000);
    const r = Array.from({ length: 19_999 }, (_, i) => Math.log(m.btcPrices[i + 1]! / m.btcPrices[i]!));
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length);
    // σ = 0.02 per step; the sample std of 20 000 normals is within 3·σ/√(2N) = 1.5 % of it.
    expect(Math.abs(sd / DEFAULT_SIM_MARKET_CONFIG.volBtc - 1)).toBeLessThan(0.015);
    // The seed's formula: base_iv + 0.2|k| + 0.1 ln(1+T), base_iv = vol_btc, the same at every step.
    const cells = 30;
    expect(Array.from(m.btcIvSurface.slice(7 * cells, 8 * cells))).toEqual(Array.from(decorSurface(0.02, SEED_GRID.kGrid, SEED_GRID.tGrid)));
    expect(m.btcIvSurface[0]).toBeCloseTo(0.02 + 0.2 * 0.4 + 0.1 * Math.log(1.05), 15);
    expect(Array.from(m.btcFunding.slice(0, 16), (f) => f !== 0)).toEqual([false, false, false, false, false, false, false, true, false, false, false, false, false, false, false, true]);
    expect(m.shitPrices && m.shitVolumes && m.shitFunding).toBeTruthy();
  });
  it('is the same market for the same seed, another for another seed', () => {
    expect(writeMarketNpz(simulateMarket({ nSteps: 300 }, 9))).toEqual(writeMarketNpz(simulateMarket({ nSteps: 300 }, 9)));
    expect(simulateMarket({ nSteps: 300 }, 10).btcPrices[299]).not.toBe(simulateMarket({ nSteps: 300 }, 9).btcPrices[299]);
  });
  it('refuses a bad config naming the field', () => {
    expect(() => simulateMarket({ nSteps: 1 })).toThrow(/SimMarketConfig: nSteps: must be ≥ 2/);
    expect(() => simulateMarket({ volBtc: -1 })).toThrow(/SimMarketConfig: volBtc/);
    expect(() => simulateMarket({ volBTC: 0.1 } as never)).toThrow(/SimMarketConfig: unknown key "volBTC"/);
  });
  it('reads a Heston market config from JSON, refusing unknown keys and bad regimes by name', async () => {
    const c = parseHestonMarketConfig({ nSteps: 50, regimes: [{ kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.6 }], lambda: 3 }, 'h.json');
    expect(c.nSteps).toBe(50);
    expect(c.regimes).toEqual([{ kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.6 }]);
    expect(c.kGrid).toEqual(SEED_GRID.kGrid);
    expect(() => parseHestonMarketConfig({ nStep: 5 }, 'h.json')).toThrow(/h\.json: unknown key "nStep"/);
    expect(() => parseHestonMarketConfig({ regimes: [{ kappa: 2, theta: 0.04, sigma: 0.5 }] }, 'h.json')).toThrow(/h\.json: regimes\[0\]\.rho: must be a number/);
    expect(() => parseHestonMarketConfig({ regimes: [{ kappa: 2, theta: 0.04, sigma: 0, rho: 0 }] }, 'h.json')).toThrow(/regimes\[0\]\.sigma: must be > 0/);
    await expect(simulateHestonMarket({ nSteps: 1 })).rejects.toThrow(/HestonMarketConfig: nSteps/);
  });
});

describe('Heston market', () => {
  it('QE keeps v ≥ 0 and matches the exact conditional mean and variance of v_{t+Δ} (both branches)', () => {
    const p = { kappa: 3, theta: 0.05, sigma: 0.6 };
    // (v, Δ): hourly and daily in the quadratic branch; v = 1e-4 hourly puts ψ > 1.5 (exponential).
    for (const [v, dt] of [[0.05, 1 / 8760], [0.05, 1 / 365], [1e-4, 1 / 8760]] as const) {
      const e = Math.exp(-p.kappa * dt);
      const m = p.theta + (v - p.theta) * e;
      const s2 = (v * p.sigma ** 2 * e * (1 - e)) / p.kappa + (p.theta * p.sigma ** 2 * (1 - e) ** 2) / (2 * p.kappa);
      const rng = Rng.stream(3, 1);
      const N = 200_000;
      let sum = 0;
      let sq = 0;
      let min = Infinity;
      for (let i = 0; i < N; i++) {
        const x = qeVarianceStep(v, p, dt, rng);
        sum += x;
        sq += x * x;
        min = Math.min(min, x);
      }
      const mean = sum / N;
      const variance = sq / N - mean * mean;
      expect(min).toBeGreaterThanOrEqual(0);
      // Mean within 4 standard errors (√(s²/N)); variance within 3 % (its standard error is
      // s²·√((κ₄ − 1)/N) ≈ 0.5 % here for kurtosis κ₄ ≤ 6, so 3 % is ~6 se).
      expect(Math.abs(mean - m)).toBeLessThan(4 * Math.sqrt(s2 / N));
      expect(Math.abs(variance / s2 - 1)).toBeLessThan(0.03);
    }
  });

  it('prices every surface with the Float64 Heston pricer at (κ, θ, σ, ρ, v_t)', async () => {
    const m = await simulateHestonMarket({ ...HESTON_REGIME_PRESET, nSteps: 400, regimeSwitchProb: 1 / 50 }, 4);
    expect(m.truth!.hestonParamsPerStep).toBe(true);
    expect(new Set(m.truth!.regime).size).toBe(2); // both regimes visited
    const cells = 30;
    for (const t of [0, 57, 123, 399]) {
      const hp = m.truth!.hestonParams.subarray(t * 5, t * 5 + 5);
      expect(hp[4]).toBe(m.truth!.btcVariance[t]);
      const want = hestonIvSurface({ kappa: hp[0]!, theta: hp[1]!, sigma: hp[2]!, rho: hp[3]!, v0: hp[4]! }, SEED_GRID.kGrid, SEED_GRID.tGrid);
      expect(Array.from(m.btcIvSurface.slice(t * cells, (t + 1) * cells))).toEqual(Array.from(want.iv));
      expect(Array.from(m.btcIvMask.slice(t * cells, (t + 1) * cells))).toEqual(Array.from(want.mask));
    }
    // The surface moves with v: ATM short vol² tracks v_t (Heston's short-maturity limit, loosely).
    const atm = (t: number) => m.btcIvSurface[t * cells + 2 * 6]!;
    const lo = m.truth!.btcVariance.indexOf(Math.min(...m.truth!.btcVariance));
    const hi = m.truth!.btcVariance.indexOf(Math.max(...m.truth!.btcVariance));
    expect(atm(hi)).toBeGreaterThan(atm(lo));
  });

  it('returns’ variance matches the simulated v (E[r²] = E[v̄]·Δ)', async () => {
    // Daily steps, 20 000 of them, surfaces only on step 0 (the test is about S and v).
    const dt = 1 / 365;
    const m = await simulateHestonMarket({ nSteps: 20_001, dtYears: dt, surfaceEvery: 1e9, shitcoin: false, regimes: [{ kappa: 3, theta: 0.05, sigma: 0.6, rho: -0.7 }] }, 11);
    const v = m.truth!.btcVariance;
    let r2 = 0;
    let vbar = 0;
    for (let t = 0; t < 20_000; t++) {
      const r = Math.log(m.btcPrices[t + 1]! / m.btcPrices[t]!);
      r2 += r * r;
      vbar += 0.5 * (v[t]! + v[t + 1]!) * dt;
    }
    // r/√(v̄Δ) is close to N(0,1) given the path: the ratio of sums has a relative standard error
    // ≈ √(2/N)·(E[v̄²]/E[v̄]²)^½ ≈ 1.4 %; 6 % allows ~4 se.
    expect(Math.abs(r2 / vbar - 1)).toBeLessThan(0.06);
    // And the drift-free mean return is ≈ −½E[v]Δ per step, not biased by the scheme (5 se).
    const meanR = Math.log(m.btcPrices[20_000]! / m.btcPrices[0]!) / 20_000;
    expect(Math.abs(meanR + (0.5 * vbar) / 20_000)).toBeLessThan(5 * Math.sqrt(vbar / 20_000) / Math.sqrt(20_000));
  });

  it('same seed → same market (bytes), through the file too', async () => {
    const a = await simulateHestonMarket({ nSteps: 64 }, 2);
    const b = await simulateHestonMarket({ nSteps: 64 }, 2);
    expect(writeMarketNpz(a)).toEqual(writeMarketNpz(b));
    expect(readMarketNpz(writeMarketNpz(a), 'a.npz')).toEqual(a);
    expect((await simulateHestonMarket({ nSteps: 64 }, 3)).btcPrices[63]).not.toBe(a.btcPrices[63]);
  });

  it('variance-linked drift: μ_t = μ₀ + λ·v_t adds exactly μ_t·Δ to each log return, the v path unchanged', async () => {
    // Same seed: S's noise, the QE variance and the regime switches come from their own streams, so
    // turning the drift on changes ln S_{t+1} − ln S_t by exactly (μ₀ + λ·v_t)·Δ and nothing else.
    const base = { ...HESTON_REGIME_PRESET, nSteps: 500, regimeSwitchProb: 1 / 50, shitcoin: false, surfaceEvery: 1e9 };
    const flat = await simulateHestonMarket({ ...base, mu0: 0, lambda: 0 }, 9);
    const tilted = await simulateHestonMarket({ ...base, mu0: -0.3, lambda: 6 }, 9);
    expect(tilted.truth!.btcVariance).toEqual(flat.truth!.btcVariance);
    expect(tilted.truth!.regime).toEqual(flat.truth!.regime);
    const dt = flat.dtYears;
    let checked = 0;
    for (let t = 0; t < 499; t++) {
      const v = flat.truth!.btcVariance[t]!;
      if (v <= 1e-6) continue; // floored for pricing: the truth column is not the raw v there
      const extra = Math.log(tilted.btcPrices[t + 1]! / tilted.btcPrices[t]!) - Math.log(flat.btcPrices[t + 1]! / flat.btcPrices[t]!);
      // Differences of logs of ~4e4 prices: ~1e-15 absolute rounding against a ~1e-5 drift.
      expect(Math.abs(extra - (-0.3 + 6 * v) * dt)).toBeLessThan(1e-12);
      checked++;
    }
    expect(checked).toBeGreaterThan(450);
  });

  it('prices surfaces only on every surfaceEvery-th step when asked', async () => {
    const m = await simulateHestonMarket({ nSteps: 20, surfaceEvery: 4, shitcoin: false }, 1);
    expect(Array.from(m.hasSurface)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 1 : 0)));
    expect(m.shitPrices).toBeUndefined();
    expect(m.truth!.hestonParams.length).toBe(5);
  });
});
