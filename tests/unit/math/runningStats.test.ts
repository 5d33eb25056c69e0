import { describe, expect, it } from 'vitest';
import { RunningStats } from '../../../src/core/math/runningStats.ts';
import { InputError } from '../../../src/core/errors.ts';
import { Rng } from '../../../src/core/math/rng.ts';

/** Two-pass reference: mean first, then Σ(x − mean)², per component. */
function twoPass(rows: number[][]): { mean: number[]; m2: number[] } {
  const d = rows[0]!.length;
  const mean = new Array<number>(d).fill(0);
  for (const r of rows) for (let i = 0; i < d; i++) mean[i] += r[i]! / rows.length;
  const m2 = new Array<number>(d).fill(0);
  for (const r of rows) for (let i = 0; i < d; i++) m2[i] += (r[i]! - mean[i]!) ** 2;
  return { mean, m2 };
}

/** Rows of 3 components with very different levels: one offset by 1e6 (a cancellation trap for Σx²). */
function sampleRows(n: number, seed: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => [rng.normal(), 1e6 + 3 * rng.normal(), rng.range(-5, 50)]);
}

function expectMatches(s: RunningStats, rows: number[][]): void {
  const ref = twoPass(rows);
  expect(s.count).toBe(rows.length);
  for (let i = 0; i < s.dim; i++) {
    // Means to 1e-12 relative (n·ε ≈ 1e-13 for n = 500). Variances to 1e-9 relative: on the
    // component at 1e6 every deviation x − mean is rounded at ulp(1e6) ≈ 1.2e-10 against a spread
    // of 3, i.e. ~4e-11 relative per sample in both methods; a Σx² − n·mean² formula would be off
    // by ~1e-5 there (ε·Σx² ≈ 0.1 against M2 ≈ 4500), which this tolerance still catches.
    expect(Math.abs(s.mean[i]! - ref.mean[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref.mean[i]!)));
    expect(Math.abs(s.variance(i) - ref.m2[i]! / rows.length)).toBeLessThanOrEqual(1e-9 * (ref.m2[i]! / rows.length));
    expect(Math.abs(s.sampleVariance(i) - ref.m2[i]! / (rows.length - 1))).toBeLessThanOrEqual(1e-9 * (ref.m2[i]! / (rows.length - 1)));
    expect(s.std(i)).toBeCloseTo(Math.sqrt(ref.m2[i]! / rows.length), 10);
  }
}

describe('RunningStats', () => {
  it('matches a two-pass mean and population / sample variance, offsets of 1e6 included', () => {
    const rows = sampleRows(500, 1);
    const s = new RunningStats(3);
    for (const r of rows) s.update(r);
    expectMatches(s, rows);
  });

  it('merged statistics (Chan) equal one pass over all samples, for uneven and empty parts', () => {
    const rows = sampleRows(500, 2);
    const cuts = [0, 1, 37, 37, 260, 500];
    const parts = cuts.slice(1).map((end, k) => {
      const s = new RunningStats(3);
      for (const r of rows.slice(cuts[k], end)) s.update(r);
      return s;
    });
    const merged = new RunningStats(3);
    for (const p of parts) merged.merge(p);
    expectMatches(merged, rows);
    // Merging into a non-empty accumulator too (the tree order of parallel workers).
    const left = parts[0]!.clone().merge(parts[1]!).merge(parts[2]!);
    const right = parts[3]!.clone().merge(parts[4]!);
    expectMatches(left.merge(right), rows);
  });

  it('reads a sample at an offset (one row of a row-major matrix)', () => {
    const flat = [9, 9, 1, 2, 3, 9];
    const s = new RunningStats(3);
    s.update(flat, 2);
    expect(Array.from(s.mean)).toEqual([1, 2, 3]);
    expect(s.variance(0)).toBe(0);
    expect(s.sampleVariance(0)).toBe(0);
  });

  it('round-trips through JSON exactly and refuses a damaged state', () => {
    const s = new RunningStats(3);
    for (const r of sampleRows(50, 3)) s.update(r);
    const back = RunningStats.fromJSON(JSON.parse(JSON.stringify(s)));
    expect(back.count).toBe(s.count);
    expect(Array.from(back.mean)).toEqual(Array.from(s.mean));
    expect(Array.from(back.m2)).toEqual(Array.from(s.m2));
    const j = s.toJSON();
    expect(() => RunningStats.fromJSON({ ...j, m2: [1, 2] }, 'agent.hlckpt: stats')).toThrow(/agent\.hlckpt: stats: m2/);
    expect(() => RunningStats.fromJSON({ ...j, mean: [1, null, 3] })).toThrow(InputError);
    expect(() => RunningStats.fromJSON({ ...j, m2: [1, -1, 3] })).toThrow(/m2\[1\]/);
    expect(() => RunningStats.fromJSON({ ...j, count: -1 })).toThrow(/count/);
  });
});
