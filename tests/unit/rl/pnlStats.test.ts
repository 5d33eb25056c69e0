import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { computePnlStats, periodsPerYearOf, probabilisticSharpeRatio, returnMoments, sharpeBootstrapCi, simpleReturns } from '../../../src/core/rl/pnlStats.ts';
import { normCdf } from '../../../src/core/math/normal.ts';
import { InputError } from '../../../src/core/errors.ts';

// The series of tests/fixtures/empyrical/README.md, regenerated here exactly as make_empyrical_ref.py does.
const ref = JSON.parse(readFileSync(new URL('../../fixtures/empyrical/empyrical_ref.json', import.meta.url), 'utf8'));
const R = Array.from({ length: 500 }, (_, t) => 0.0005 + 0.01 * Math.sin(0.3 * t) + 0.004 * Math.cos(1.7 * t));
const EQ = [100];
for (const r of R) EQ.push(EQ[EQ.length - 1]! * (1 + r));

describe('computePnlStats against empyrical / pyfolio', () => {
  // Same formulas in float64 over 500 terms; compounding 500 products loses ~1e-13 relative, so 1e-10 is ample.
  for (const ppy of [252, 365]) {
    it(`annualisation ${ppy}`, () => {
      const s = computePnlStats(EQ, ppy);
      const e = ref[`empyrical_annualization_${ppy}`];
      expect(s.annual_return).toBeCloseTo(e.annual_return, 10);
      expect(s.annual_vol!).toBeCloseTo(e.annual_volatility, 10);
      expect(s.sharpe!).toBeCloseTo(e.sharpe_ratio, 10);
      expect(s.sortino!).toBeCloseTo(e.sortino_ratio, 10);
      expect(s.calmar!).toBeCloseTo(e.calmar_ratio, 10);
    });
  }
  it('period-free figures and pyfolio perf_stats', () => {
    const s = computePnlStats(EQ, 252);
    const p = ref.empyrical_period_free;
    expect(s.total_return).toBeCloseTo(p.cum_returns_final, 10);
    expect(s.max_drawdown).toBeCloseTo(p.max_drawdown, 10);
    expect(s.pnl).toBeCloseTo(100 * p.cum_returns_final, 8);
    expect(s.sharpe!).toBeCloseTo(ref.pyfolio_perf_stats_252['Sharpe ratio'], 10);
    expect(s.sharpe!).toBeCloseTo(ref.finrl_env_sharpe, 10);
    const m = returnMoments(R)!;
    expect(m.skew).toBeCloseTo(p.skew_scipy_bias_true, 10);
    expect(m.kurtosis - 3).toBeCloseTo(p.kurtosis_scipy_fisher_bias_true, 10);
  });
});

describe('computePnlStats by hand', () => {
  // e = 100, 110, 99, 108.9 → r = +10 %, −10 %, +10 %; ppy 3 makes the annual figures round:
  // avg 1/30, vol √(0.02667/2) = 0.11547, sharpe = (1/30)/0.11547·√3 = 0.5,
  // downside √(0.01/3) = 0.057735, sortino = (1/30)·3 / (0.057735·√3) = 1, mdd = 99/110 − 1 = −0.1,
  // annual_return = 1.089^(3/3) − 1 = 0.089, calmar 0.89, annual_vol 0.2.
  // Positions: 1 unit at 100, hold at 110, flat at 99 → turnover (1 + 0 + 1)/3, exposure (1 + 1 + 0)/3,
  // hit rate 1 of the 2 held steps.
  const eq = [100, 110, 99, 108.9];
  const s = computePnlStats(eq, 3, { units: [1, 1, 0], prices: [100, 110, 99] });
  it('every key', () => {
    expect(s.pnl).toBeCloseTo(8.9, 12);
    expect(s.avg_ret).toBeCloseTo(1 / 30, 12);
    expect(s.vol_ret!).toBeCloseTo(Math.sqrt(0.08 / 3 / 2), 12);
    expect(s.sharpe!).toBeCloseTo(0.5, 12);
    expect(s.sortino!).toBeCloseTo(1, 12);
    expect(s.max_drawdown).toBeCloseTo(-0.1, 12);
    expect(s.total_return).toBeCloseTo(0.089, 12);
    expect(s.annual_return).toBeCloseTo(0.089, 12);
    expect(s.annual_vol!).toBeCloseTo(0.2, 12);
    expect(s.calmar!).toBeCloseTo(0.89, 12);
    expect(s.turnover!).toBeCloseTo(2 / 3, 12);
    expect(s.exposure!).toBeCloseTo(2 / 3, 12);
    expect(s.hit_rate).toBe(0.5);
  });
  it('null where a denominator is 0, never NaN', () => {
    const flat = computePnlStats([100, 100, 100, 100], 365, { units: [0, 0, 0], prices: [1, 1, 1] });
    expect(flat.sharpe).toBeNull();
    expect(flat.sortino).toBeNull();
    expect(flat.calmar).toBeNull();
    expect(flat.hit_rate).toBeNull();
    expect(flat.vol_ret).toBe(0);
    expect(flat.max_drawdown).toBe(0);
    const up = computePnlStats([100, 101, 103], 365);
    expect(up.sortino).toBeNull(); // no losing step
    expect(up.calmar).toBeNull(); // no drawdown
    expect(up.turnover).toBeNull(); // no positions given
    expect(computePnlStats([100, 101], 365).vol_ret).toBeNull(); // one return: no ddof-1 std
    expect(JSON.stringify(flat)).not.toMatch(/NaN/);
  });
  it('refuses bad input, naming the element', () => {
    expect(() => computePnlStats([100, -1, 3], 365)).toThrow(/equity: element 1/);
    expect(() => computePnlStats([100], 365)).toThrow(InputError);
    expect(() => computePnlStats(eq, 3, { units: [1], prices: [1] })).toThrow(/units/);
  });
  it('periods per year from the bar interval', () => {
    expect(periodsPerYearOf(1 / 8760)).toBe(8760);
    expect(periodsPerYearOf(1 / 365)).toBe(365);
    expect(periodsPerYearOf(3600_000 / (365 * 86400_000))).toBe(8760);
  });
});

describe('Sharpe intervals', () => {
  it('PSR by hand: r = +10 %, −10 %, +10 %', () => {
    // SR = 0.288675, skew −0.707107, Pearson kurtosis 1.5 → den = 1 + 0.707107·0.288675 + 0.125·0.083333
    const sr = 1 / 30 / Math.sqrt(0.08 / 3 / 2);
    const den = 1 + Math.SQRT1_2 * sr + (0.5 / 4) * sr * sr;
    const psr = probabilisticSharpeRatio(simpleReturns([100, 110, 99, 108.9]))!;
    expect(psr).toBeCloseTo(normCdf((sr * Math.SQRT2) / Math.sqrt(den)), 12);
    expect(psr).toBeCloseTo(0.6445, 3);
  });
  it('PSR grows with the evidence and is ½ at zero mean', () => {
    const short = probabilisticSharpeRatio(R.slice(0, 100))!;
    const long = probabilisticSharpeRatio(R)!;
    expect(long).toBeGreaterThan(0.9); // 500 steps at an annual Sharpe of 1.1 (daily) is strong evidence
    expect(long).toBeGreaterThan(short);
    expect(probabilisticSharpeRatio([0.01, -0.01, 0.01, -0.01])).toBeCloseTo(0.5, 12);
    expect(probabilisticSharpeRatio([0, 0, 0])).toBeNull();
  });
  it('seeded bootstrap interval: reproducible, brackets the estimate, narrows with n', () => {
    const s = computePnlStats(EQ, 252).sharpe!;
    const a = sharpeBootstrapCi(R, 252, { seed: 7 })!;
    expect(sharpeBootstrapCi(R, 252, { seed: 7 })).toEqual(a);
    expect(sharpeBootstrapCi(R, 252, { seed: 8 })).not.toEqual(a);
    expect(a[0]).toBeLessThan(s);
    expect(a[1]).toBeGreaterThan(s);
    // iid bootstrap: width ≈ 2·1.96·√(252/n) ≈ 2.8 for n = 500 (±15 % for resampling noise and skew).
    expect(a[1] - a[0]).toBeGreaterThan(2.8 * 0.85);
    expect(a[1] - a[0]).toBeLessThan(2.8 * 1.15);
    const b = sharpeBootstrapCi(R.slice(0, 125), 252, { seed: 7 })!;
    expect(b[1] - b[0]).toBeGreaterThan(1.6 * (a[1] - a[0]));
    expect(sharpeBootstrapCi([0, 0, 0, 0], 252, { seed: 1 })).toBeNull();
    // Blocks keep the sine's serial dependence; the interval changes but still brackets the estimate.
    const blk = sharpeBootstrapCi(R, 252, { seed: 7, blockLength: 8 })!;
    expect(blk[0]).toBeLessThan(s);
    expect(blk[1]).toBeGreaterThan(s);
  });
});
