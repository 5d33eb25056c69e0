/** Calibration residuals in vol points and the parity check's prior corners (moved out of Pricer.svelte). */
import { describe, expect, it } from 'vitest';
import { residualsVolPoints } from '../../../src/core/heston/residuals.ts';
import { stressCorners } from '../../../src/core/heston/priorCorners.ts';
import { SEED_PRIOR, paramProblems } from '../../../src/core/heston/params.ts';

describe('residualsVolPoints', () => {
  it('is (model − data) in vol points, blank where masked or missing', () => {
    const r = residualsVolPoints([0.21, 0.3, 0.25, 0.2], [0.2, 0.31, NaN, 0.1], [0, 0, 0, 1]);
    expect(r[0]).toBeCloseTo(1, 12);
    expect(r[1]).toBeCloseTo(-1, 12);
    expect(r[2]).toBeNaN(); // no data
    expect(r[3]).toBeNaN(); // masked: its value is ignored
    expect(() => residualsVolPoints([1], [1, 2])).toThrow(/model has 1 points, data 2/);
  });
});

describe('stressCorners', () => {
  it('takes the steep-skew corner and its mirror of the prior box, both valid parameters', () => {
    const [skew, flat] = stressCorners(SEED_PRIOR);
    expect(skew).toEqual({ kappa: 0.5, theta: 0.01, sigma: 1, rho: -0.95, v0: 0.01 });
    expect(flat).toEqual({ kappa: 8, theta: 0.08, sigma: 0.1, rho: 0.2, v0: 0.08 });
    expect(paramProblems(skew)).toEqual([]);
    expect(paramProblems(flat)).toEqual([]);
  });
});
