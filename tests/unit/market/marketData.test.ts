import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMarketNpz, writeMarketNpz, type MarketData } from '../../../src/core/market/marketData.ts';
import { buildRealMarketData, realMarketDataToNpz, toMarketData } from '../../../src/core/market/realMarketData.ts';
import { readNpz, writeNpz } from '../../../src/core/io/npz.ts';
import type { NdArray } from '../../../src/core/io/npy.ts';
import type { SeriesTable } from '../../../src/core/feeds/series.ts';
import { numpyPython } from '../../support/python.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 11, 20);

/** A 4-step market on a 2 × 3 grid; step 2 has no surface. */
function small(): MarketData {
  const n = 4;
  const cells = 6;
  const iv = new Float64Array(n * cells).map((_, i) => 0.5 + (i % cells) / 100);
  const mask = new Uint8Array(n * cells);
  for (let c = 0; c < cells; c++) {
    iv[2 * cells + c] = NaN;
    mask[2 * cells + c] = 1;
  }
  iv[5] = NaN;
  mask[5] = 1;
  return {
    name: 'small',
    timesMs: Float64Array.from({ length: n }, (_, i) => T0 + i * H),
    dtYears: 1 / 8760,
    btcPrices: Float64Array.of(100, 101, 99, 102),
    btcFutPrices: Float64Array.of(100.1, 101.1, 99.2, 102.3),
    btcFunding: Float64Array.of(0, 1e-4, 0, 0),
    btcOi: Float64Array.of(5, NaN, 6, 7),
    kGrid: Float64Array.of(-0.2, 0.2),
    tGrid: Float64Array.of(0.1, 0.5, 1),
    btcIvSurface: iv,
    btcIvMask: mask,
    hasSurface: Uint8Array.of(1, 1, 0, 1),
    truth: { btcVariance: Float64Array.of(0.25, 0.26, 0.24, 0.25), hestonParams: Float64Array.of(2, 0.25, 0.6, -0.5, 0.25), hestonParamsPerStep: false },
  };
}

/** The arrays of `small()` as numpy would hold them, with one key changed. */
function withKey(key: string, a: NdArray | undefined): Uint8Array {
  const arrays = readNpz(writeMarketNpz(small()));
  if (a) arrays[key] = a;
  else delete arrays[key];
  return writeNpz(arrays);
}

describe('MarketData .npz', () => {
  it('round-trips every key', () => {
    const m = small();
    const back = readMarketNpz(writeMarketNpz(m), 'small.npz');
    expect(back).toEqual(m);
  });

  const python = numpyPython();
  it.skipIf(python === null)('loads a market numpy wrote with the seed’s keys, and numpy loads ours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mkt-'));
    try {
      // numpy's natural dtypes: int64 times, float32 surface, bool mask, int8 has_surface, [n] basis.
      const script = `import numpy as np, sys
n, nk, nt = 5, 3, 2
iv = np.full((n, nk, nt), 0.6, dtype=np.float32); mask = np.zeros((n, nk, nt), dtype=bool)
iv[1, 0, 0] = np.nan; mask[1, 0, 0] = True
np.savez(sys.argv[1] + '/np.npz', times_ms=np.arange(n, dtype=np.int64) * 3600000 + 1700000000000,
  btc_prices=np.linspace(100, 104, n), btc_fut_prices=np.linspace(100.5, 104.5, n), btc_funding=np.zeros(n),
  btc_oi=np.ones(n), btc_iv_surface=iv, btc_iv_mask=mask, k_grid=np.array([-0.2, 0.0, 0.2]), t_grid=np.array([0.1, 0.5]),
  has_surface=np.ones(n, dtype=np.int8), btc_log_basis=np.full(n, 0.001), btc_variance=np.full(n, 0.36),
  heston_params=np.tile([2.0, 0.36, 0.5, -0.4, 0.36], (n, 1)), dt_years=np.float64(1/8760))
z = np.load(sys.argv[1] + '/ours.npz', allow_pickle=False)
print(z['btc_iv_surface'].shape, z['btc_iv_mask'].dtype, float(z['dt_years']), z['heston_params'].shape, str(z['name']))`;
      const ours = writeMarketNpz(small());
      writeFileSync(join(dir, 'ours.npz'), ours);
      const r = spawnSync(python!, ['-c', script, dir], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe(`(4, 2, 3) bool ${1 / 8760} (5,) small`);
      const m = readMarketNpz(readFileSync(join(dir, 'np.npz')), 'np.npz');
      expect(m.timesMs[4]).toBe(1700000000000 + 4 * H);
      expect(m.btcIvSurface).toBeInstanceOf(Float32Array);
      expect(m.btcIvMask[(1 * 3 + 0) * 2 + 0]).toBe(1);
      expect(m.btcLogBasis!.length).toBe(5 * 2); // [n] broadcast to every maturity
      expect(m.truth!.hestonParamsPerStep).toBe(true);
      expect(m.dtYears).toBeCloseTo(1 / 8760, 15);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing key, a wrong shape, unsorted times, NaN prices and a mask calling NaN valid — naming the key', () => {
    expect(() => readMarketNpz(withKey('btc_oi', undefined), 'm.npz')).toThrow(/m\.npz: missing key 'btc_oi'/);
    expect(() => readMarketNpz(withKey('btc_iv_surface', { dtype: 'float64', shape: [4, 3, 2], data: new Float64Array(24).fill(0.5) }), 'm.npz')).toThrow(/m\.npz: btc_iv_surface: shape \(4, 3, 2\), expected \(4, 2, 3\)/);
    expect(() => readMarketNpz(withKey('btc_prices', { dtype: 'float64', shape: [3], data: Float64Array.of(1, 2, 3) }), 'm.npz')).toThrow(/m\.npz: btc_prices: shape \(3,\), expected \(4,\)/);
    expect(() => readMarketNpz(withKey('times_ms', { dtype: 'float64', shape: [4], data: Float64Array.of(0, 2, 1, 3).map((x) => T0 + x * H) }), 'm.npz')).toThrow(/m\.npz: times_ms: times are not strictly increasing: row 2/);
    expect(() => readMarketNpz(withKey('btc_prices', { dtype: 'float64', shape: [4], data: Float64Array.of(100, NaN, 99, 102) }), 'm.npz')).toThrow(/m\.npz: btc_prices: row 1: price must be finite/);
    const mask = readNpz(writeMarketNpz(small())).btc_iv_mask!;
    const bad = Uint8Array.from(mask.data as Uint8Array);
    bad[5] = 0; // step 0, k=0.2, T=1 is NaN
    expect(() => readMarketNpz(withKey('btc_iv_mask', { ...mask, data: bad }), 'm.npz')).toThrow(/m\.npz: btc_iv_surface\[0, 1, 2\] \(step 0, k=0\.2, T=1\) is NaN but btc_iv_mask\[0, 1, 2\] = 0 calls it valid.*1 \(True\) = masked/);
    // A mask written the other way round (1 = valid, as some pipelines do) is named as inverted.
    const inverted = Uint8Array.from(mask.data as Uint8Array, (x) => 1 - x);
    expect(() => readMarketNpz(withKey('btc_iv_mask', { ...mask, data: inverted }), 'm.npz')).toThrow(/btc_iv_mask looks inverted/);
    expect(() => readMarketNpz(withKey('heston_params', { dtype: 'float64', shape: [4], data: new Float64Array(4) }), 'm.npz')).toThrow(/m\.npz: heston_params: shape \(4,\), expected \(5,\) or \(4, 5\)/);
    expect(() => readMarketNpz(withKey('btc_iv_surface', { dtype: 'float64', shape: [4, 2, 3], data: new Float64Array(24).fill(55) }), 'm.npz')).toThrow(/btc_iv_surface: row 0, k=-0\.2, T=0\.1: vol 55 is outside/);
  });

  it('derives dt_years from the bar interval when the file has none', () => {
    const m = readMarketNpz(withKey('dt_years', undefined), 'm.npz');
    expect(m.dtYears).toBe(H / (365 * 86_400_000));
  });
});

describe('RealMarketData → MarketData', () => {
  // Hourly closes 05:00 … 18:00 UTC: funding times 08:00 and 16:00 fall at the close of rows 3 and 11.
  const n = 14;
  const time = Array.from({ length: n }, (_, i) => T0 + (5 + i) * H);
  const series: SeriesTable = { symbol: 'BTCUSDT', interval: '1h', time, closeSpot: time.map((_, i) => 97000 + i), volumeSpot: time.map(() => 3), closeFut: time.map((_, i) => 97050 + i), fundingRate: time.map((_, i) => (i < 8 ? 1e-4 : 2e-4)), openInterest: time.map(() => 8e4) };
  const surface = { kGrid: [-0.2, 0, 0.2], tGrid: [0.1, 0.5], iv: new Float64Array(6).fill(0.55), mask: new Uint8Array(6), spot: 97000, timestamp: T0 + 4.5 * H, source: 'deribit:BTC' };
  const d = buildRealMarketData({ name: 'x', series, surfaces: [{ id: 'a', surface }], toleranceMs: 24 * H });

  it('pays funding only on the step whose bar holds a funding time, at the rate then in force', () => {
    const m = toMarketData(d);
    const paidAt = Array.from(m.btcFunding).flatMap((f, i) => (f !== 0 ? [[i, f]] : []));
    expect(paidAt).toEqual([[3, 1e-4], [11, 2e-4]]);
    expect(m.dtYears).toBe(H / (365 * 86_400_000));
    expect(m.btcSurfaceTimesMs![0]).toBe(T0 + 4.5 * H);
    expect(Array.from(m.btcVolumes!)).toEqual(time.map(() => 3));
  });

  it('repeats the last shitcoin close over a missing candle (volume 0), never a later one', () => {
    const sc: SeriesTable = { ...series, symbol: 'DOGEUSDT', closeSpot: series.closeSpot.map((_, i) => 0.3 + i / 100), volumeSpot: series.volumeSpot.map(() => 7) };
    const withShit = buildRealMarketData({ name: 'x', series, surfaces: [{ id: 'a', surface }], toleranceMs: 24 * H, shitcoin: { ...sc, time: sc.time.filter((_, i) => i !== 0 && i !== 5), closeSpot: sc.closeSpot.filter((_, i) => i !== 0 && i !== 5), volumeSpot: sc.volumeSpot.filter((_, i) => i !== 0 && i !== 5), fundingRate: sc.fundingRate.filter((_, i) => i !== 0 && i !== 5) } });
    const m = toMarketData(withShit);
    // Row 0 precedes the coin's first candle: it holds that first close; row 5 repeats row 4's.
    const c = sc.closeSpot;
    expect(Array.from(m.shitPrices!.slice(0, 7))).toEqual([c[1], c[1], c[2], c[3], c[4], c[4], c[6]]);
    expect(Array.from(m.shitVolumes!.slice(0, 7))).toEqual([0, 7, 7, 7, 7, 0, 7]);
    expect(m.shitFunding![3]).toBe(1e-4);
  });

  it('writes an .npz that readMarketNpz accepts (the `align` command’s output)', () => {
    const m = readMarketNpz(realMarketDataToNpz(d), 'aligned.npz');
    expect(m.btcFunding[3]).toBe(1e-4);
    expect(m.btcFunding[4]).toBe(0);
    expect(Array.from(m.btcPrices)).toEqual(series.closeSpot);
    expect(readNpz(realMarketDataToNpz(d)).btc_funding_rate!.data[4]).toBe(1e-4);
  });
});
