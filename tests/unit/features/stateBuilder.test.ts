import { describe, expect, it } from 'vitest';
import { Normalizer, StateBuffer, StateBuilder } from '../../../src/core/features/stateBuilder.ts';
import { InputError } from '../../../src/core/errors.ts';
import { Rng } from '../../../src/core/math/rng.ts';

describe('StateBuffer', () => {
  it('returns rows oldest → newest, zero rows first while it fills, and wraps', () => {
    const b = new StateBuffer(4, 2);
    expect(Array.from(b.getState())).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    b.push([1, 10]);
    b.push([2, 20]);
    expect(Array.from(b.getState())).toEqual([0, 0, 0, 0, 1, 10, 2, 20]);
    for (let k = 3; k <= 7; k++) b.push([k, 10 * k]);
    // Window of 4 after 7 pushes: rows 4, 5, 6, 7 in time order, across the wrap point.
    expect(Array.from(b.getState())).toEqual([4, 40, 5, 50, 6, 60, 7, 70]);
    expect(b.filled).toBe(4);
    const out = new Float32Array(10).fill(-1);
    b.getState(out, 1);
    expect(Array.from(out)).toEqual([-1, 4, 40, 5, 50, 6, 60, 7, 70, -1]);
    b.reset();
    b.push([9, 90]);
    expect(Array.from(b.getState())).toEqual([0, 0, 0, 0, 0, 0, 9, 90]);
  });

  it('holds the newest row at the end for every fill level, window 16 included', () => {
    const b = new StateBuffer(16, 1);
    for (let k = 1; k <= 40; k++) {
      b.push([k]);
      const s = Array.from(b.getState());
      const expected = Array.from({ length: 16 }, (_, i) => Math.max(0, k - 15 + i));
      expect(s).toEqual(expected);
    }
  });
});

describe('Normalizer', () => {
  it('updates then normalises with the population std (seed normalize(x, update_stats=True))', () => {
    const n = new Normalizer(1);
    // First row: it is its own mean → 0 (std floored at 1e-8, not NaN).
    expect(n.normalize([1])[0]).toBe(0);
    // Second row 3: stats over {1, 3} → mean 2, population std 1 → z = 1.
    // (The sample std √2 would give 0.7071; normalising before updating would give (3−1)/1e-8 → clip 5.)
    expect(n.normalize([3])[0]).toBeCloseTo(1, 14);
    // Third row 8: {1, 3, 8} → mean 4, population variance (9 + 1 + 16)/3 = 26/3 → z = 4/√(26/3).
    expect(n.normalize([8])[0]).toBeCloseTo(4 / Math.sqrt(26 / 3), 14);
    expect(n.stats.count).toBe(3);
  });

  it('clips at ±clipValue and maps a constant feature to 0', () => {
    const n = new Normalizer(2);
    for (let i = 0; i < 100; i++) n.normalize([i % 2, 7]);
    // Feature 0: mean 0.5, std 0.5 after 100 rows; 1000 is ~2000σ away → clipped to 5.
    const z = n.normalize([1000, 7]);
    expect(z[0]).toBe(5);
    expect(z[1]).toBe(0);
    expect(n.normalize([-1000, 7])[0]).toBe(-5);
    const wide = new Normalizer(1, { clipValue: 3000 });
    wide.normalize([0]);
    wide.normalize([2]);
    expect(wide.normalize([1000], false)[0]).toBeCloseTo(999, 10);
  });

  it('frozen: uses the learnt statistics, never changes them', () => {
    const n = new Normalizer(1);
    for (const x of [1, 2, 3, 4]) n.normalize([x]);
    const before = JSON.stringify(n.stats);
    n.freeze();
    // mean 2.5, population std √1.25.
    expect(n.normalize([5])[0]).toBeCloseTo(2.5 / Math.sqrt(1.25), 14);
    expect(n.normalize([5])[0]).toBeCloseTo(2.5 / Math.sqrt(1.25), 14);
    expect(JSON.stringify(n.stats)).toBe(before);
    n.unfreeze();
    n.normalize([5]);
    expect(n.stats.count).toBe(5);
  });
});

describe('StateBuilder', () => {
  it('buildState = normalise, push, window oldest → newest', () => {
    const sb = new StateBuilder(1, { window: 3 });
    expect(Array.from(sb.buildState([1]))).toEqual([0, 0, 0]);
    const s = sb.buildState([3]);
    expect(Array.from(s.slice(0, 2))).toEqual([0, 0]);
    expect(s[2]).toBeCloseTo(1, 6);
    expect(sb.stateSize).toBe(3);
  });

  it('shares statistics between buffers: one Normalizer, one StateBuffer per stream', () => {
    const sb = new StateBuilder(1, { window: 2 });
    const a = sb.newBuffer();
    const b = sb.newBuffer();
    sb.pushRow(a, [1], 0);
    sb.pushRow(b, [3], 0);
    expect(sb.normalizer.stats.count).toBe(2);
    expect(Array.from(a.getState())).toEqual([0, 0]);
    expect(b.getState()[1]).toBeCloseTo(1, 6);
  });

  it('round-trips through JSON: the restored builder normalises the next rows bit-identically', () => {
    const rng = new Rng(5);
    const rows = Array.from({ length: 60 }, () => [rng.normal(), 50 + 10 * rng.normal(), rng.uniform()]);
    const sb = new StateBuilder(3, { window: 4, clipValue: 4 });
    for (const r of rows.slice(0, 40)) sb.buildState(r);
    const back = StateBuilder.fromJSON(JSON.parse(JSON.stringify(sb)));
    expect(back.window).toBe(4);
    expect(back.normalizer.clipValue).toBe(4);
    // The checkpoint carries statistics, not the window: an episode starts from an empty window.
    sb.reset();
    back.freeze();
    sb.freeze();
    for (const r of rows.slice(40)) expect(Array.from(back.buildState(r))).toEqual(Array.from(sb.buildState(r)));
    expect(StateBuilder.fromJSON(sb.toJSON()).frozen).toBe(true);
  });

  it('refuses a damaged checkpoint entry, naming the field', () => {
    const j = new StateBuilder(2).toJSON();
    expect(() => StateBuilder.fromJSON({ ...j, dim: 3 }, 'agent.hlckpt: stateBuilder')).toThrow(/agent\.hlckpt: stateBuilder: dim/);
    expect(() => StateBuilder.fromJSON({ ...j, window: 0 })).toThrow(InputError);
    expect(() => StateBuilder.fromJSON({ ...j, normalizer: { ...j.normalizer, clipValue: -1 } })).toThrow(/normalizer: clipValue/);
    expect(() => StateBuilder.fromJSON({ ...j, normalizer: { ...j.normalizer, stats: { ...j.normalizer.stats, mean: [0] } } })).toThrow(/stats: mean/);
  });
});
