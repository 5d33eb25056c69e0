import { describe, expect, it } from 'vitest';
import { alignBinanceDeribit, asofBackward, parseDuration } from '../../../src/core/feeds/alignment.ts';
import { InputError } from '../../../src/core/errors.ts';

describe('asofBackward (pandas merge_asof, backward)', () => {
  it('takes the latest right time at or before each left time, within tolerance', () => {
    expect(Array.from(asofBackward([5, 10, 14, 16, 30], [0, 10, 15], 5))).toEqual([0, 1, 1, 2, -1]);
  });
  it('counts an exact match and an age exactly equal to the tolerance (inclusive bound)', () => {
    expect(Array.from(asofBackward([10, 15, 16], [10], 5))).toEqual([0, 0, -1]);
    expect(Array.from(asofBackward([10], [10], 0))).toEqual([0]);
  });
  it('leaves rows before the first snapshot and across gaps unmatched', () => {
    expect(Array.from(asofBackward([1, 2, 50, 51, 100], [3, 99], 10))).toEqual([-1, -1, -1, -1, 1]);
  });
  it('handles unsorted inputs and answers in the caller’s order', () => {
    expect(Array.from(asofBackward([16, 5, 10], [15, 0, 10], 5))).toEqual([0, 1, 2]);
  });
  it('among duplicate right times picks the last in input order, as pandas does', () => {
    expect(Array.from(asofBackward([10, 12], [10, 5, 10], 5))).toEqual([2, 2]);
  });
  it('handles empty inputs and rejects NaN times naming the row', () => {
    expect(Array.from(asofBackward([1, 2], [], 5))).toEqual([-1, -1]);
    expect(asofBackward([], [1], 5)).toHaveLength(0);
    expect(() => asofBackward([1, NaN], [1], 5)).toThrow(/series: row 1/);
    expect(() => asofBackward([1], [NaN], 5)).toThrow(/snapshots: row 0/);
    expect(() => asofBackward([1], [1], -1)).toThrow(InputError);
  });
});

describe('alignBinanceDeribit', () => {
  it('gives each row its snapshot id and age', () => {
    const a = alignBinanceDeribit([100, 200, 300], [{ id: 'a', timestamp: 90 }, { id: 'b', timestamp: 195 }], 20);
    expect(a.surfaceId).toEqual(['a', 'b', null]);
    expect(Array.from(a.ageMs.slice(0, 2))).toEqual([10, 5]);
    expect(a.ageMs[2]).toBeNaN();
    expect(a.matched).toBe(2);
  });
});

describe('parseDuration', () => {
  it('reads the usual units', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('250')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
