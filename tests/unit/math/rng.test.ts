import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/math/rng.ts';

/** Sample mean, mean square and (population) variance of n draws. */
function moments(n: number, draw: () => number): { mean: number; meanSquare: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const mean = s / n;
  return { mean, meanSquare: s2 / n, variance: s2 / n - mean * mean };
}

describe('Rng', () => {
  it('is reproducible: same seed, same stream; different seed, different stream', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    const sb = Array.from({ length: 100 }, () => b.nextU32());
    const sc = Array.from({ length: 100 }, () => c.nextU32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });

  it('pins the first outputs of seed 1 so a change to the generator cannot go unnoticed', () => {
    // Saved datasets and checkpoints record their seed: silently changing the stream would make
    // them irreproducible. These values are what this implementation produced when written.
    const r = new Rng(1);
    const first = Array.from({ length: 4 }, () => r.nextU32());
    expect(first).toMatchInlineSnapshot(`
      [
        2442144158,
        3238099751,
        3819917871,
        2104621829,
      ]
    `);
  });

  it('uniform() lies in [0,1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(7);
    const n = 200_000;
    let outside = 0;
    const { mean, variance } = moments(n, () => {
      const u = r.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      return u;
    });
    expect(outside).toBe(0);
    // Standard error of the mean is sqrt(1/12/n) ≈ 6.5e-4: 5 SE bounds fail by chance < 1e-6.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('normal() has mean 0 and variance 1', () => {
    const r = new Rng(11);
    const n = 200_000;
    const { mean, meanSquare } = moments(n, () => r.normal());
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    // Var of the sample variance of N(0,1) is 2/n: 5 SE ≈ 0.016.
    expect(Math.abs(meanSquare - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
  });

  it('logUniform stays in its range and is uniform in log space', () => {
    const r = new Rng(3);
    let below = 0;
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const x = r.logUniform(0.01, 0.08);
      expect(x >= 0.01 && x < 0.08).toBe(true);
      if (x < Math.sqrt(0.01 * 0.08)) below++;
    }
    // The geometric midpoint splits a log-uniform draw 50/50; binomial SE = 0.5/sqrt(n).
    expect(Math.abs(below / n - 0.5)).toBeLessThan(5 * 0.5 / Math.sqrt(n));
  });

  it('beta(2,2) has mean 1/2 and variance 1/20', () => {
    const r = new Rng(5);
    const n = 50_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = r.beta(2, 2);
      s += x;
      s2 += x * x;
    }
    const m = s / n;
    expect(Math.abs(m - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(s2 / n - m * m - 0.05)).toBeLessThan(0.002);
  });

  it('stream(seed, i) gives distinct, reproducible streams per item', () => {
    const firsts = new Set<number>();
    for (let i = 0; i < 1000; i++) firsts.add(Rng.stream(9, i).nextU32());
    expect(firsts.size).toBe(1000);
    expect(Rng.stream(9, 17).uniform()).toBe(Rng.stream(9, 17).uniform());
    expect(Rng.stream(9, 17).uniform()).not.toBe(Rng.stream(10, 17).uniform());
  });

  it('shuffle is a permutation', () => {
    const a = Array.from({ length: 100 }, (_, i) => i);
    new Rng(2).shuffle(a);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
