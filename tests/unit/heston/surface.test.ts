import { describe, expect, it } from 'vitest';
import { bsPrice } from '../../../src/core/heston/blackScholes.ts';
import { priceGrid } from '../../../src/core/heston/pricer.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';

const p = { kappa: 2, theta: 0.04, sigma: 0.6, rho: -0.7, v0: 0.03 };
const kGrid = [-0.4, -0.2, 0, 0.2, 0.4];
const tGrid = [0.02, 0.1, 0.5, 1, 2];

describe('hestonIvSurface', () => {
  it('gives the Black–Scholes vol that reproduces the Heston OTM price, on a ln(K/F) grid', () => {
    const { iv, mask } = hestonIvSurface(p, kGrid, tGrid, { spot: 100 });
    const nt = tGrid.length;
    for (let j = 0; j < nt; j++) {
      const strikes = kGrid.map((k) => 100 * Math.exp(k));
      const g = priceGrid(p, 100, strikes, [tGrid[j]!]);
      kGrid.forEach((k, i) => {
        if (mask[i * nt + j]) return;
        const isCall = k >= 0;
        const heston = isCall ? g.calls[i]! : g.puts[i]!;
        const bs = bsPrice(iv[i * nt + j]!, { forward: 100, strike: strikes[i]!, T: tGrid[j]!, isCall });
        expect(Math.abs(bs - heston)).toBeLessThan(1e-11 * 100);
      });
    }
    // A negative rho gives the equity skew: put wing above call wing.
    expect(iv[0 * nt + 4]!).toBeGreaterThan(iv[4 * nt + 4]!);
  });

  it('does not depend on r and q on a ln(K/F) grid', () => {
    const a = hestonIvSurface(p, kGrid, tGrid, { spot: 100 });
    const b = hestonIvSurface(p, kGrid, tGrid, { spot: 100, r: [0.05, 0.04, 0.03, 0.02, 0.01], q: 0.02 });
    for (let n = 0; n < a.iv.length; n++) {
      expect(b.mask[n]).toBe(a.mask[n]);
      if (!a.mask[n]) expect(Math.abs(b.iv[n]! - a.iv[n]!)).toBeLessThan(1e-9);
    }
  });

  it('masks uninformative points (OTM price below maskBelow·S0) with NaN, and only those', () => {
    const { iv, mask } = hestonIvSurface(p, kGrid, tGrid, { spot: 1 });
    const nt = tGrid.length;
    // At T = 0.02 the ±40% wings are worth far less than 1e-7 of spot.
    expect(mask[0 * nt + 0]).toBe(1);
    expect(mask[4 * nt + 0]).toBe(1);
    expect(iv[0]).toBeNaN();
    // At the money everything is informative.
    for (let j = 0; j < nt; j++) expect(mask[2 * nt + j]).toBe(0);
    const loose = hestonIvSurface(p, kGrid, tGrid, { spot: 1, maskBelow: 1e-30 });
    const masked = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
    expect(masked(loose.mask)).toBeLessThan(masked(mask));
  });
});
