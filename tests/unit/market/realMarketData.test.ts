import { describe, expect, it } from 'vitest';
import { buildRealMarketData, listRealMarketData, loadRealMarketData, realMarketDataToNpz, saveRealMarketData, surfaceAtStep } from '../../../src/core/market/realMarketData.ts';
import { readNpz } from '../../../src/core/io/npz.ts';
import type { SeriesTable } from '../../../src/core/feeds/series.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { FileStore } from '../../../src/core/store/files.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Surface } from '../../../src/core/surface/types.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 11, 20);

function series(n: number, symbol = 'BTCUSDT', p0 = 97000): SeriesTable {
  const time = Array.from({ length: n }, (_, i) => T0 + (i + 1) * H);
  return { symbol, interval: '1h', time, closeSpot: time.map((_, i) => p0 + i), volumeSpot: time.map(() => 10), closeFut: time.map((_, i) => p0 + 40 + i), fundingRate: time.map(() => 1e-4), openInterest: time.map(() => 8e4) };
}

function surface(t: number, level: number, masked: number[] = []): Surface {
  const mask = new Uint8Array(6);
  for (const m of masked) mask[m] = 1;
  return { kGrid: [-0.2, 0, 0.2], tGrid: [0.1, 0.5], iv: Float64Array.from({ length: 6 }, (_, c) => level + c / 100), mask, spot: 97000, timestamp: t, source: 'deribit:BTC' };
}

describe('RealMarketData', () => {
  // Snapshots at 00:50 and 03:10; steps at 01:00 … 06:00; tolerance 2 h.
  const snaps = [
    { id: 'a', surface: surface(T0 + 50 * 60_000, 0.5, [5]) },
    { id: 'b', surface: surface(T0 + 3 * H + 10 * 60_000, 0.7) },
  ];
  it('gives each step its own aligned surface and flags steps with none', () => {
    const d = buildRealMarketData({ name: 'x', series: series(6), surfaces: snaps, toleranceMs: 2 * H });
    // 01:00 a, 02:00 a, 03:00 none (a is 2h10 old), 04:00 b, 05:00 b, 06:00 none (b is 2h50 old).
    expect(Array.from(d.surfaceIndex)).toEqual([0, 0, -1, 1, 1, -1]);
    expect(Array.from(d.hasSurface)).toEqual([1, 1, 0, 1, 1, 0]);
    expect(d.btcIvSurface[0]).toBe(0.5);
    expect(d.btcIvSurface[3 * 6]).toBe(0.7);
    // Not the same surface pasted over the series:
    expect(d.btcIvSurface[0]).not.toBe(d.btcIvSurface[3 * 6]);
    // Masked cells and steps without a surface carry NaN and mask 1.
    expect(d.btcIvSurface[5]).toBeNaN();
    expect(d.btcIvMask[5]).toBe(1);
    expect(d.btcIvSurface.slice(2 * 6, 3 * 6).every(Number.isNaN)).toBe(true);
    expect(d.btcIvMask.slice(2 * 6, 3 * 6).every((m) => m === 1)).toBe(true);
    expect(d.surfaceAgeMs[1]).toBe(70 * 60_000);
    expect(surfaceAtStep(d, 2)).toBeNull();
    expect(surfaceAtStep(d, 4)!.timestamp).toBe(snaps[1]!.surface.timestamp);
    expect(Array.from(d.btcPrices)).toEqual([97000, 97001, 97002, 97003, 97004, 97005]);
  });
  it('carries each snapshot’s forward basis to its steps, so k = ln(K/F) still names the same strikes', () => {
    // Snapshot b quotes forwards 2 % and 10 % above its 97 000 index; a step's price then moves.
    const withF = [snaps[0]!, { id: 'b', surface: { ...snaps[1]!.surface, forward: [97000 * 1.02, 97000 * 1.1] } }];
    const d = buildRealMarketData({ name: 'x', series: series(6), surfaces: withF, toleranceMs: 2 * H });
    const s4 = surfaceAtStep(d, 4)!;
    expect(s4.spot).toBe(97004);
    expect(s4.forward![0]).toBeCloseTo(97004 * 1.02, 6);
    expect(s4.forward![1]).toBeCloseTo(97004 * 1.1, 6);
    // A snapshot without forwards is zero carry: F = S, not NaN.
    expect(surfaceAtStep(d, 0)!.forward).toEqual([97000, 97000]);
    expect(Number.isNaN(d.btcLogBasis![2 * 2])).toBe(true); // step 2 has no surface
    const npz = readNpz(realMarketDataToNpz(d));
    expect(npz.btc_log_basis!.shape).toEqual([6, 2]);
  });
  it('can drop the steps without a surface', () => {
    const d = buildRealMarketData({ name: 'x', series: series(6), surfaces: snaps, toleranceMs: 2 * H, dropUnaligned: true });
    expect(d.times).toEqual([T0 + H, T0 + 2 * H, T0 + 4 * H, T0 + 5 * H]);
    expect(Array.from(d.btcPrices)).toEqual([97000, 97001, 97003, 97004]);
    expect(d.hasSurface.every((h) => h === 1)).toBe(true);
  });
  it('aligns a shitcoin series by time, NaN where it lacks a candle', () => {
    const sc = series(6, 'DOGEUSDT', 0.3);
    sc.time.splice(1, 1);
    sc.closeSpot.splice(1, 1);
    sc.volumeSpot.splice(1, 1);
    sc.fundingRate.splice(1, 1);
    const d = buildRealMarketData({ name: 'x', series: series(6), surfaces: snaps, toleranceMs: 2 * H, shitcoin: sc });
    expect(d.shitSymbol).toBe('DOGEUSDT');
    expect(d.shitPrices![0]).toBe(0.3);
    expect(d.shitPrices![1]).toBeNaN();
  });
  it('refuses mixed grids, empty inputs and a tolerance that matches nothing', () => {
    const odd = { id: 'c', surface: { ...surface(T0, 0.5), kGrid: [-0.3, 0, 0.3] } };
    expect(() => buildRealMarketData({ name: 'x', series: series(3), surfaces: [snaps[0]!, odd], toleranceMs: H })).toThrow(/surface c: grid differs/);
    expect(() => buildRealMarketData({ name: 'x', series: series(3), surfaces: [], toleranceMs: H })).toThrow(/no surface snapshots/);
    expect(() => buildRealMarketData({ name: 'x', series: series(3), surfaces: [{ id: 'z', surface: surface(T0 + 100 * H, 0.5) }], toleranceMs: H, dropUnaligned: true })).toThrow(/no step has a snapshot within 60 min/);
  });
  it('is stored and reloaded intact, and a corrupted record is refused', async () => {
    const store = new MemoryStore();
    const d = buildRealMarketData({ name: 'btc-dec', series: series(6), surfaces: snaps, toleranceMs: 2 * H });
    await saveRealMarketData(store, d);
    expect(await listRealMarketData(store)).toEqual(['btc-dec']);
    expect(await loadRealMarketData(store, 'btc-dec')).toEqual(d);
    await store.set('realMarketData/bad', { ...d, btcPrices: new Float64Array(2) });
    await expect(loadRealMarketData(store, 'bad')).rejects.toThrow(/btcPrices has 2 values, expected 6/);
    await expect(loadRealMarketData(store, 'nope')).rejects.toThrow(/not found/);
  });
  it('survives a round trip through the Node file store (typed arrays intact)', async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'rmd-')));
    const d = buildRealMarketData({ name: 'btc/dec', series: series(6), surfaces: snaps, toleranceMs: 2 * H });
    await saveRealMarketData(store, d);
    const back = await loadRealMarketData(new FileStore(store.dir), 'btc/dec');
    expect(back.btcIvSurface).toBeInstanceOf(Float64Array);
    expect(back).toEqual(d);
  });
});
