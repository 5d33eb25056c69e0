import { describe, expect, it } from 'vitest';
import { CF_OUT_LENGTH, cfExponent, hestonCf } from '../../../src/core/heston/charfn.ts';
import { PARAM_NAMES, type HestonParams } from '../../../src/core/heston/params.ts';

const P: HestonParams = { kappa: 1.5, theta: 0.05, sigma: 0.8, rho: -0.7, v0: 0.03 };

describe('Heston characteristic function', () => {
  it('is a characteristic function of a martingale: φ(0) = 1, E[S_T] = F', () => {
    const one = hestonCf(P, 2, 0, 0, { spot: 100, r: 0.03, q: 0.01 });
    expect(one.re).toBeCloseTo(1, 14);
    expect(one.im).toBeCloseTo(0, 14);
    // φ(−i) = E[S_T] = S e^{(r−q)T}
    const m = hestonCf(P, 2, 0, -1, { spot: 100, r: 0.03, q: 0.01 });
    expect(m.re / (100 * Math.exp(0.04)) - 1).toBeLessThan(1e-13);
    expect(Math.abs(m.im)).toBeLessThan(1e-10);
  });

  it('matches the cumulants of ln S_T: mean −E∫v/2, variance ≈ E∫v for small sigma', () => {
    // With sigma → 0 the variance is deterministic: ln(S_T/F) ~ N(−w/2, w), w = E∫v dt.
    const p = { ...P, sigma: 1e-4, rho: 0 };
    const T = 1.5;
    const w = p.theta * T + ((p.v0 - p.theta) * (1 - Math.exp(-p.kappa * T))) / p.kappa;
    for (const u of [0.3, 1, 4]) {
      const c = hestonCf(p, T, u, 0);
      const mod = Math.exp(-0.5 * w * u * u);
      expect(c.re).toBeCloseTo(mod * Math.cos(-0.5 * w * u), 7);
      expect(c.im).toBeCloseTo(mod * Math.sin(-0.5 * w * u), 7);
    }
  });

  it('stays finite and continuous where the original Heston form jumps branches', () => {
    // Long maturity, high vol of vol: the 1999 form's complex log crosses its branch cut here;
    // the little-trap form must be smooth in u (no jump between neighbouring points).
    const p = { kappa: 0.5, theta: 0.08, sigma: 1.5, rho: -0.9, v0: 0.08 };
    const out = new Float64Array(CF_OUT_LENGTH);
    let prev = NaN;
    for (let u = 0; u < 60; u += 0.01) {
      cfExponent(p, 10, u, -0.5, false, out);
      expect(Number.isFinite(out[0]!)).toBe(true);
      if (!Number.isNaN(prev)) expect(Math.abs(out[1]! - prev)).toBeLessThan(0.1);
      prev = out[1]!;
    }
  });

  it('analytic derivatives of ln φ match central differences', () => {
    const out = new Float64Array(CF_OUT_LENGTH);
    const up = new Float64Array(CF_OUT_LENGTH);
    const dn = new Float64Array(CF_OUT_LENGTH);
    for (const [T, u] of [[0.1, 3], [1, 0.5], [1, 12], [5, 2]] as const) {
      cfExponent(P, T, u, -0.5, true, out);
      PARAM_NAMES.forEach((name, k) => {
        const h = 1e-6 * Math.max(Math.abs(P[name]), 0.1);
        cfExponent({ ...P, [name]: P[name] + h }, T, u, -0.5, false, up);
        cfExponent({ ...P, [name]: P[name] - h }, T, u, -0.5, false, dn);
        // Central difference error O(h²) plus rounding ~1e-16/h: 1e-6 relative is ample.
        const fdRe = (up[0]! - dn[0]!) / (2 * h);
        const fdIm = (up[1]! - dn[1]!) / (2 * h);
        const scale = Math.max(1, Math.abs(fdRe), Math.abs(fdIm));
        expect(Math.abs(out[2 + 2 * k]! - fdRe) / scale).toBeLessThan(1e-6);
        expect(Math.abs(out[3 + 2 * k]! - fdIm) / scale).toBeLessThan(1e-6);
      });
    }
  });
});
