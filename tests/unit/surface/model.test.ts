import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Surface } from '../../../src/core/surface/types.ts';
import { parseGridText, surfaceProblems, validateSurface } from '../../../src/core/surface/validate.ts';
import { atmTermStructure, resampleSurface, surfaceFromSpotGrid, toForwardMoneyness, toSpotMoneyness, spotMoneynessGrid } from '../../../src/core/surface/resample.ts';
import { quotesToSurface, type OptionQuote } from '../../../src/core/surface/fromQuotes.ts';
import { surfaceFromNpz, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { InputError } from '../../../src/core/errors.ts';

const TS = Date.UTC(2024, 2, 1, 12);
// Total variance w = T·(0.04 + 0.02k) is linear in k at each T and linear in T at each k, so
// linear total-variance interpolation must reproduce it exactly (to rounding).
const sigma = (k: number) => Math.sqrt(0.04 + 0.02 * k);

function makeSurface(kGrid: number[], tGrid: number[], extra: Partial<Surface> = {}): Surface {
  const iv = new Float64Array(kGrid.length * tGrid.length);
  kGrid.forEach((k, i) => tGrid.forEach((_, j) => (iv[i * tGrid.length + j] = sigma(k))));
  return { kGrid, tGrid, iv, spot: 100, timestamp: TS, source: 'test', ...extra };
}

describe('validateSurface', () => {
  const good = makeSurface([-0.2, 0, 0.2], [0.1, 0.5]);
  it('accepts a good surface', () => expect(surfaceProblems(good)).toEqual([]));
  const cases: [string, Partial<Surface>, RegExp][] = [
    ['duplicate k', { kGrid: [-0.2, -0.2, 0.2] }, /k_grid\[1\] = -0.2 duplicates k_grid\[0\]/],
    ['non-monotone T', { tGrid: [0.5, 0.1] }, /t_grid is not increasing/],
    ['T ≤ 0', { tGrid: [0, 0.5] }, /t_grid\[0\] = 0 must be > 0/],
    ['shape mismatch', { iv: new Float64Array(5) }, /5 values but the grids need 3 × 2 = 6 \(shape mismatch\)/],
    ['NaN vol', { iv: Float64Array.of(0.2, 0.2, NaN, 0.2, 0.2, 0.2) }, /row 1 \(k=0\), column 0 \(T=0.1\): vol is NaN/],
    ['zero vol', { iv: Float64Array.of(0.2, 0.2, 0.2, 0.2, 0.2, 0) }, /row 2 \(k=0.2\), column 1 \(T=0.5\): vol 0 must be > 0/],
    ['vol above 5', { iv: Float64Array.of(55, 0.2, 0.2, 0.2, 0.2, 0.2) }, /vol 55 is above 5 \(percent given as decimals\?\)/],
    ['seconds timestamp', { timestamp: TS / 1000 }, /looks like seconds/],
    ['implausible timestamp', { timestamp: 5 }, /not plausible/],
    ['bad spot', { spot: -1 }, /spot must be a positive number/],
  ];
  for (const [what, patch, re] of cases) {
    it(`names the problem: ${what}`, () => {
      expect(() => validateSurface({ ...good, ...patch }, 'f.npz')).toThrow(InputError);
      expect(() => validateSurface({ ...good, ...patch }, 'f.npz')).toThrow(re);
    });
  }
  it('ignores bad values under the mask', () => {
    const s = { ...good, iv: Float64Array.of(0.2, 0.2, NaN, 0.2, 0.2, 99), mask: Uint8Array.of(0, 0, 1, 0, 0, 1) };
    expect(surfaceProblems(s)).toEqual([]);
  });
});

describe('resampleSurface (total variance)', () => {
  const src = makeSurface([-0.4, -0.2, 0, 0.2, 0.4], [0.1, 0.5, 1]);
  it('reproduces a surface whose total variance is piecewise linear', () => {
    const out = resampleSurface(src, [-0.3, 0.1, 0.35], [0.2, 0.75]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(out.iv[i * 2 + j]).toBeCloseTo(sigma(out.kGrid[i]!), 12);
    expect(out.mask!.every((m) => m === 0)).toBe(true);
  });
  it('interpolates w, not σ, across maturities', () => {
    const s = makeSurface([0], [0.1, 1]);
    s.iv[0] = 0.2;
    s.iv[1] = 0.4;
    const out = resampleSurface(s, [0], [0.55]);
    const w = 0.2 ** 2 * 0.1 + ((0.55 - 0.1) / 0.9) * (0.4 ** 2 * 1 - 0.2 ** 2 * 0.1);
    expect(out.iv[0]).toBeCloseTo(Math.sqrt(w / 0.55), 14);
  });
  it('masks points outside the source grid unless asked to extrapolate (flat vol)', () => {
    const out = resampleSurface(src, [-0.6, 0], [0.05, 2]);
    expect(Array.from(out.mask!)).toEqual([1, 1, 1, 1]);
    const ex = resampleSurface(src, [-0.6, 0], [0.05, 2], { extrapolate: true });
    expect(Array.from(ex.mask!)).toEqual([0, 0, 0, 0]);
    expect(ex.iv[0]).toBeCloseTo(sigma(-0.4), 12);
    expect(ex.iv[3]).toBeCloseTo(sigma(0), 12);
  });
  it('skips masked source points', () => {
    const s = makeSurface([-0.2, 0, 0.2], [0.5]);
    s.iv[1] = 9; // garbage under the mask
    s.mask = Uint8Array.of(0, 1, 0);
    const out = resampleSurface(s, [0], [0.5]);
    expect(out.iv[0]).toBeCloseTo(Math.sqrt((0.04 + 0.02 * 0) * 1), 12); // linear between ±0.2
  });
  it('refuses a bad target grid', () => expect(() => resampleSurface(src, [0, 0], [1])).toThrow(/duplicates/));
});

describe('spot ⇄ forward moneyness', () => {
  it('round-trips and matches ln(K/S) = ln(K/F) + ln(F/S)', () => {
    const S = 100;
    const F = 105;
    const K = 90;
    expect(toSpotMoneyness(Math.log(K / F), F, S)).toBeCloseTo(Math.log(K / S), 15);
    expect(toForwardMoneyness(Math.log(K / S), S, F)).toBeCloseTo(Math.log(K / F), 15);
  });
  it('moves a ln(K/S) surface onto ln(K/F) by shifting each maturity', () => {
    const kS = [-0.4, -0.2, 0, 0.2, 0.4];
    const tGrid = [0.5, 1];
    const forward = [102, 110];
    const iv = new Float64Array(10);
    // Vol written as a function of ln(K/F): after conversion each point must read sigma(k).
    kS.forEach((k, i) => tGrid.forEach((_, j) => (iv[i * 2 + j] = sigma(k - Math.log(forward[j]! / 100)))));
    const s = surfaceFromSpotGrid({ kSpotGrid: kS, tGrid, iv, forward, spot: 100, timestamp: TS, source: 't' }, [-0.2, 0, 0.2]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) expect(s.iv[i * 2 + j]).toBeCloseTo(sigma(s.kGrid[i]!), 12);
    const back = spotMoneynessGrid(s);
    expect(back[0 * 2 + 1]).toBeCloseTo(-0.2 + Math.log(1.1), 14);
  });
});

describe('quotesToSurface', () => {
  const F = [100, 104];
  const Ts = [0.25, 1];
  const quotes: OptionQuote[] = [];
  for (let e = 0; e < 2; e++) {
    for (const K of [70, 80, 90, 100, 110, 120, 140]) {
      const k = Math.log(K / F[e]!);
      const otmIsCall = K >= F[e]!;
      quotes.push({ tYears: Ts[e]!, strike: K, isCall: otmIsCall, iv: sigma(k), forward: F[e]! });
      // ITM copies with a wrong vol: the OTM side must win.
      quotes.push({ tYears: Ts[e]!, strike: K, isCall: !otmIsCall, iv: 0.9, forward: F[e]! });
    }
  }
  const opts = { kGrid: [-0.6, -0.2, 0, 0.2], tGrid: [0.25, 0.5, 1, 2], spot: 100, timestamp: TS, source: 'test' };
  const s = quotesToSurface(quotes, opts);
  it('keeps the OTM side and interpolates total variance exactly for a linear smile', () => {
    for (const i of [1, 2, 3]) for (const j of [0, 1, 2]) expect(s.iv[i * 4 + j]).toBeCloseTo(sigma(s.kGrid[i]!), 12);
  });
  it('masks grid points with no nearby quotes (outside the strikes, after the last expiry)', () => {
    expect(s.mask![0 * 4 + 0]).toBe(1); // k = -0.6 is below ln(70/100)
    for (const i of [1, 2, 3]) expect(s.mask![i * 4 + 3]).toBe(1); // T = 2 is after the last expiry
    const ex = quotesToSurface(quotes, { ...opts, extrapolate: true });
    expect(ex.mask![2 * 4 + 3]).toBe(0);
    expect(ex.iv[2 * 4 + 3]).toBeCloseTo(sigma(0), 12);
  });
  it('masks points farther than maxGapK from any quote', () => {
    const sparse = quotes.filter((q) => q.strike === 70 || q.strike === 140);
    const out = quotesToSurface(sparse, { ...opts, maxGapK: 0.15 });
    expect(out.mask![2 * 4 + 0]).toBe(1); // k = 0 is ≥ 0.3 from ln(70/100) and ln(140/100)
  });
  it('interpolates forwards log-linearly in T', () => {
    expect(s.forward![1]).toBeCloseTo(Math.exp(Math.log(100) + (0.25 / 0.75) * Math.log(1.04)), 10);
  });
  it('uses an ITM quote only where no OTM quote exists', () => {
    const onlyCalls = quotes.filter((q) => q.isCall && (q.iv !== 0.9 || q.strike < q.forward)).map((q) => ({ ...q, iv: q.iv === 0.9 ? sigma(Math.log(q.strike / q.forward)) : q.iv }));
    const out = quotesToSurface(onlyCalls, opts);
    expect(out.iv[1 * 4 + 0]).toBeCloseTo(sigma(-0.2), 12);
  });
  it('names the bad quote', () => {
    expect(() => quotesToSurface([{ ...quotes[0]!, iv: NaN }], opts)).toThrow(/test\[0\]: iv must be a positive decimal/);
    expect(() => quotesToSurface(quotes.map((q) => ({ ...q, tYears: q.tYears + 10 })), opts)).toThrow(/no quote lies near the grid/);
  });
});

describe('surface .npz files', () => {
  it('reads the seed-style snapshot numpy wrote (timestamp in unix seconds)', () => {
    const s = surfaceFromNpz(readFileSync('tests/fixtures/npy/snapshot_savez.npz'), 'snapshot_savez.npz');
    expect(s.kGrid).toEqual([-0.4, -0.2, 0, 0.2, 0.4]);
    expect(s.tGrid).toEqual([0.05, 0.1, 0.25, 0.5, 1, 2]);
    expect(s.spot).toBe(67234.5);
    expect(s.timestamp).toBe(1.7e12);
    expect(s.iv[2 * 6 + 3]).toBeCloseTo(0.5 + 0.1 * Math.log1p(0.5), 14);
    expect(s.source).toBe('file:snapshot_savez.npz');
  });
  it('round-trips every field', () => {
    const s = makeSurface([-0.2, 0, 0.2], [0.1, 0.5], { forward: [100.5, 101], mask: Uint8Array.of(0, 0, 0, 1, 0, 0), name: 'été', source: 'deribit:BTC' });
    s.iv[3] = NaN;
    const back = surfaceFromNpz(surfaceToNpz(s, { compress: true }), 'x.npz');
    expect(back).toEqual({ ...s, iv: back.iv });
    expect(Array.from(back.iv).map((v, i) => (s.mask![i] ? 0 : v))).toEqual(Array.from(s.iv).map((v, i) => (s.mask![i] ? 0 : v)));
  });
  it('masks NaN points of a file without a mask, but not of a file with one', () => {
    const s = makeSurface([-0.2, 0, 0.2], [0.1, 0.5]);
    s.iv[2] = NaN;
    const back = surfaceFromNpz(surfaceToNpz(s));
    expect(Array.from(back.mask!)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(() => surfaceFromNpz(surfaceToNpz({ ...s, mask: new Uint8Array(6) }), 'm.npz')).toThrow(/m\.npz: iv_surface: row 1 \(k=0\), column 0 \(T=0.1\): vol is NaN/);
  });
  it('names a missing key and a shape mismatch', () => {
    expect(() => surfaceFromNpz(readFileSync('tests/fixtures/npy/positional.npz'), 'p.npz')).toThrow(/p\.npz: missing array 'k_grid'/);
  });
});

describe('grids typed as text', () => {
  it('reads comma-separated numbers and refuses an empty entry instead of reading it as 0', () => {
    expect(parseGridText(' -0.4, -0.2,0 , 0.2', 'k grid')).toEqual([-0.4, -0.2, 0, 0.2]);
    // Number('') is 0: "0.1,,0.2" used to become [0.1, 0, 0.2], a grid with a point nobody asked for.
    expect(() => parseGridText('0.1,,0.2', 'T grid')).toThrow(/T grid: must be comma-separated numbers/);
    expect(() => parseGridText('', 'k grid')).toThrow(InputError);
    expect(() => parseGridText('0.1, x', '--t-grid')).toThrow(/--t-grid/);
  });
});

describe('ATM term structure', () => {
  it('is the k = 0 vol per maturity, interpolated in total variance between grid k', () => {
    const s = makeSurface([-0.2, 0.1, 0.3], [0.1, 0.5]);
    // w is linear in k, so interpolating w between k = -0.2 and 0.1 gives sigma(0) exactly.
    atmTermStructure(s).forEach((v) => expect(v).toBeCloseTo(sigma(0), 12));
    expect(atmTermStructure(makeSurface([0.1, 0.3], [0.1]))[0]).toBeNaN(); // k = 0 is off the grid
  });
});
