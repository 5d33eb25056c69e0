import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { normCdf, normPdf } from '../../../src/core/math/normal.ts';
import { gaussLegendre } from '../../../src/core/math/gaussLegendre.ts';
import { choleskySolve } from '../../../src/core/math/linalg.ts';

const ref = JSON.parse(readFileSync(new URL('../../fixtures/heston/normal_cdf.json', import.meta.url), 'utf8')) as { points: [number, number][] };

describe('normCdf', () => {
  it('matches 40-digit mpmath in RELATIVE terms from -37 to 9', () => {
    // Relative error a few ulps (1e-15 leaves room for the exp() and Taylor rounding), including
    // the deep lower tail that implied-vol inversion of far-OTM prices depends on.
    let worst = 0;
    for (const [x, v] of ref.points) worst = Math.max(worst, Math.abs(normCdf(x) / v - 1));
    expect(worst).toBeLessThan(3e-15);
  });
  it('is symmetric and handles the extremes', () => {
    expect(normCdf(0)).toBe(0.5);
    expect(normCdf(-50)).toBe(0);
    expect(normCdf(50)).toBe(1);
    expect(Number.isNaN(normCdf(NaN))).toBe(true);
    expect(normPdf(0)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 15);
  });
});

describe('gaussLegendre', () => {
  it('integrates polynomials of degree 2n-1 exactly and smooth functions to rounding', () => {
    for (const n of [1, 2, 5, 16, 64, 256]) {
      const { nodes, weights } = gaussLegendre(n);
      let sw = 0;
      let sx2 = 0;
      for (let i = 0; i < n; i++) {
        sw += weights[i]!;
        sx2 += weights[i]! * nodes[i]! ** (2 * n - 2);
      }
      expect(sw).toBeCloseTo(2, 13);
      expect(sx2).toBeCloseTo(2 / (2 * n - 1), 13);
    }
    const { nodes, weights } = gaussLegendre(32);
    let s = 0;
    for (let i = 0; i < 32; i++) s += weights[i]! * Math.cos(5 * nodes[i]!);
    expect(Math.abs(s - (2 * Math.sin(5)) / 5)).toBeLessThan(1e-15);
  });
  it('rejects a bad order', () => {
    expect(() => gaussLegendre(0)).toThrow(/positive integer/);
  });
});

describe('choleskySolve', () => {
  it('solves an SPD system and reports a non-SPD one', () => {
    const a = Float64Array.from([4, 2, 0, 2, 5, 1, 0, 1, 3]);
    const x = new Float64Array(3);
    expect(choleskySolve(a, Float64Array.from([2, 7, 7]), 3, x)).toBe(true);
    // A·x = b with x = (0, 1, 2)
    expect(Array.from(x).map((v) => +v.toFixed(12))).toEqual([0, 1, 2]);
    expect(choleskySolve(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2, new Float64Array(2))).toBe(false);
  });
});
