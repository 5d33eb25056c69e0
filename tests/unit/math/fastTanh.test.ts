import { describe, expect, it } from 'vitest';
import { fastTanh } from '../../../src/core/math/fastTanh.ts';

describe('math/fastTanh', () => {
  it('is within 1e-12 relative of Math.tanh over [−25, 25] and at the branch edges', () => {
    // Math.tanh (fdlibm) is within ~1 ulp, so it is a fine reference for a 1e-12 contract; the
    // measured worst case is ~2.6e-15 (|x| ≈ 0.011, one table step from 0), ~400× inside the bound.
    let worst = 0;
    const xs: number[] = [];
    for (let i = 0; i <= 400_000; i++) xs.push(-25 + (50 * i) / 400_000);
    for (let e = -12; e <= 1.4; e += 0.01) xs.push(10 ** e, -(10 ** e));
    xs.push(1e-9, -1e-9, 1.0000001e-9, 0.0108, 0.0109, 19.999999, 20, 20.000001, 40, 1e300);
    for (const x of xs) {
      const r = Math.tanh(x);
      const err = Math.abs(fastTanh(x) - r) / Math.abs(r);
      if (err > worst) worst = err;
    }
    expect(worst).toBeLessThan(1e-12);
    expect(worst).toBeGreaterThan(0); // not Math.tanh under another name
  });

  it('keeps signs, zeros, infinities and NaN as Math.tanh does', () => {
    expect(Object.is(fastTanh(0), 0)).toBe(true);
    expect(Object.is(fastTanh(-0), -0)).toBe(true);
    expect(fastTanh(5e-324)).toBe(5e-324);
    expect(fastTanh(Infinity)).toBe(1);
    expect(fastTanh(-Infinity)).toBe(-1);
    expect(Number.isNaN(fastTanh(NaN))).toBe(true);
    for (const x of [0.3, 1.7, 7, 19]) expect(fastTanh(-x)).toBe(-fastTanh(x));
  });

  it('gives fixed bytes (pure IEEE arithmetic: the same in every engine)', () => {
    // Pinned outputs: a change of formula or operation order shows here (same-seed runs, checkpoints
    // replayed in the browser and in Node depend on these exact bits).
    const got = [0.011, 0.5, 1.25, -3].map((x) => fastTanh(x));
    expect(got).toEqual(PINNED);
  });
});

const PINNED = [0.010999556354805722, 0.46211715726000974, 0.8482836399575129, -0.9950547536867306];
