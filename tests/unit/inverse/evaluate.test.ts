import { beforeAll, describe, expect, it } from 'vitest';
import { paramRecovery } from '../../../src/core/inverse/metrics.ts';
import { evaluateInverse, surfaceRmseVol } from '../../../src/core/inverse/evaluate.ts';
import { evaluationHooks } from '../../../src/core/inverse/hooks.ts';
import { trainInverse } from '../../../src/core/inverse/trainer.ts';
import { generateDataset } from '../../../src/core/surface/synthetic.ts';
import { paramsFromArray } from '../../../src/core/heston/params.ts';
import { useWasm } from './fixtures.ts';

describe('inverse evaluation', () => {
  beforeAll(useWasm);

  it('R² is 1 for perfect predictions and 0 for predicting the mean', () => {
    const truth = Float64Array.from({ length: 50 }, (_, i) => (i * 7) % 11);
    expect(paramRecovery(truth, truth, 10).r2.rho).toBe(1);
    const mean = new Float64Array(50);
    for (let p = 0; p < 5; p++) {
      let m = 0;
      for (let i = 0; i < 10; i++) m += truth[i * 5 + p]!;
      for (let i = 0; i < 10; i++) mean[i * 5 + p] = m / 10;
    }
    const r = paramRecovery(mean, truth, 10);
    expect(r.r2.kappa).toBeCloseTo(0, 12);
    expect(r.rmse.kappa).toBeGreaterThan(0);
  });

  it('surface RMSE is in vol points, skips masked data, and counts unpriceable model points as misses', () => {
    const data = [0.2, 0.3, NaN, 0.5];
    expect(surfaceRmseVol({ iv: [0.21, 0.29, 0.9, 0.5] }, data)).toBeCloseTo(100 * Math.sqrt((0.0001 + 0.0001) / 3), 10);
    expect(surfaceRmseVol({ iv: [0.2, 0.3, 0.4, 0.5] }, data, [0, 0, 0, 1])).toBe(0);
    expect(surfaceRmseVol({ iv: [0.2, NaN, 0.4, 0.5] }, [0.2, 0.3, 0.4, 0.5])).toBeCloseTo(100 * Math.sqrt(0.09 / 4), 10);
  });

  it('reports R², surface-space error and the LM warm start on true Heston data', async () => {
    const train = await generateDataset({ kind: 'heston', n: 300, seed: 1 });
    const test = await generateDataset({ kind: 'heston', n: 20, seed: 2 });
    const hooks = evaluationHooks();
    // The generator and the evaluation's pricer agree: the true parameters reproduce the data.
    const cells = 30;
    const at = hooks.hestonSurface!(paramsFromArray(test.params, 0), test.kGrid, test.tGrid);
    expect(surfaceRmseVol(at, test.iv.subarray(0, cells), test.mask.subarray(0, cells))).toBeLessThan(1e-6);
    const { checkpoint } = await trainInverse({ epochs: 1, batchSize: 64 }, { synthetic: train });
    const rep = await evaluateInverse(checkpoint, test, { lmSamples: 1 }, hooks);
    expect(rep.n).toBe(20);
    expect(rep.surface_n).toBe(20);
    expect(rep.surface_rmse_vol_median).toBeGreaterThan(0);
    expect(rep.surface_rmse_vol_p90).toBeGreaterThanOrEqual(rep.surface_rmse_vol_median!);
    expect(rep.warm_start!.n).toBe(1);
    expect(rep.warm_start!.iterations_warm_median).toBeGreaterThan(0);
    // Noiseless true-Heston data: both starts must land on the same parameters, not just a similar RMSE.
    expect(rep.warm_start!.params_max_rel_diff_max).toBeLessThan(1e-5);
    expect(rep.warm_start!.same_optimum_share).toBe(1);
    expect(rep.predicted).toHaveLength(100);
  });
});
