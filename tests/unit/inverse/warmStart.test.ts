/**
 * The calibrator options the inverse evaluation relies on for its warm-start comparison
 * (src/core/inverse/hooks.ts): resTol (stop at the pricer's rounding floor) and initialDamping
 * (a small μ0 for a start known to be close). Both must leave the optimum where it was.
 */
import { describe, expect, it } from 'vitest';
import { calibrateSurface } from '../../../src/core/heston/calibrate.ts';
import { PARAM_NAMES, SEED_PRIOR, paramsFromArray, type HestonParams } from '../../../src/core/heston/params.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { LM_RES_TOL, WARM_START_DAMPING } from '../../../src/core/inverse/hooks.ts';
import type { Surface } from '../../../src/core/surface/types.ts';
import { K_GRID, T_GRID } from './fixtures.ts';

const maxRel = (a: HestonParams, b: HestonParams) => Math.max(...PARAM_NAMES.map((n) => Math.abs(a[n] / b[n] - 1)));

function surfaces(n: number, seed: number): { truth: HestonParams; surface: Surface }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const truth = paramsFromArray(PARAM_NAMES.map((p) => (SEED_PRIOR[p].kind === 'logUniform' ? rng.logUniform(SEED_PRIOR[p].lo, SEED_PRIOR[p].hi) : rng.range(SEED_PRIOR[p].lo, SEED_PRIOR[p].hi))));
    const s = hestonIvSurface(truth, K_GRID, T_GRID);
    return { truth, surface: { kGrid: K_GRID, tGrid: T_GRID, iv: Float64Array.from(s.iv), mask: Uint8Array.from(s.mask), spot: 1, timestamp: 0, source: 'test' } };
  });
}

describe('LM options for warm starts', () => {
  const cases = surfaces(4, 424242);

  it('resTol stops at the rounding floor with the same optimum (to 1e-5) and never more iterations', async () => {
    for (const { truth, surface } of cases) {
      const tight = await calibrateSurface(surface);
      const floor = await calibrateSurface(surface, { resTol: LM_RES_TOL });
      expect(tight.reason).not.toMatch(/resTol/);
      expect(floor.converged).toBe(true);
      expect(floor.iterations).toBeLessThanOrEqual(tight.iterations);
      // RMS IV residual ≤ 1e-8 is ≤ 1e-6 vol points; the parameters stay within the calibrator's
      // own recovery tolerance of the fully converged run and of the truth.
      expect(floor.rmseVol).toBeLessThanOrEqual(100 * LM_RES_TOL);
      expect(maxRel(floor.params, tight.params)).toBeLessThan(1e-5);
      expect(maxRel(floor.params, truth)).toBeLessThan(1e-5);
    }
  });

  it('from a start 5% off the truth, the small initial damping reaches the same optimum in fewer iterations than the default start', async () => {
    for (const { truth, surface } of cases) {
      const start = paramsFromArray(PARAM_NAMES.map((p, j) => (p === 'rho' ? truth.rho * 0.95 : truth[p] * (j % 2 ? 1.05 : 0.95))));
      const cold = await calibrateSurface(surface, { resTol: LM_RES_TOL });
      const warm = await calibrateSurface(surface, { start, resTol: LM_RES_TOL, initialDamping: WARM_START_DAMPING });
      expect(warm.converged).toBe(true);
      expect(maxRel(warm.params, cold.params)).toBeLessThan(1e-5);
      expect(warm.iterations).toBeLessThan(cold.iterations);
    }
  });
});
