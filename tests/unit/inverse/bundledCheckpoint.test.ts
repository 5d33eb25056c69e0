/**
 * The pre-trained checkpoint bundled in public/ is what a new user applies first, so its quality
 * is held to issue 5's targets on true-Heston surfaces it never saw (generator seed 777; it was
 * trained on seed 1), on 600 surfaces for R² and surface error and 60 for the LM comparison (the
 * note's 2 000 / 100 take minutes; these take seconds). Every bar is a target, not a measurement:
 *  - R² θ, ρ, v0 ≥ 0.97 and σ ≥ 0.90 (issue 5); κ ≥ 0.90 so it is learnt, not guessed;
 *  - median surface-space error ≤ 0.5 vol points (issue 5);
 *  - as an LM warm start, at least half the iterations of the default start by the median
 *    (issue 5), landing on the same optimum. LM needs a median of 4 iterations from the default
 *    start and iteration counts are small integers, so "half" means ≤ 2: the bar sits on the
 *    measured median because the median is quantised, not because the bar was fitted to it.
 *  - the mean ratio ≤ 0.6: a start that saves nothing scores 1.0, and the earlier 20 000 × 30
 *    bundle, which saved an iteration on only some surfaces, scored 0.75 (README); 0.6 passes a
 *    network that halves most surfaces and fails that one.
 * Measured on these 600 / 60 (200 000 × 60 bundle, schema 2): R² κ 0.997, θ 0.9991, σ 0.9993,
 * ρ 0.9994, v0 0.9997; surface median 0.071 vol points; LM median 2 vs 4, mean 2.25 vs 4.62
 * (0.49). A 100 000 × 40 bundle measured 0.994 / 0.998 / 0.9986 / 0.9986 / 0.9994, 0.11, mean
 * ratio 0.54: it passes too.
 * Everything is seeded, so the outcome is the same on every run.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../../src/core/inverse/checkpoint.ts';
import { evaluateInverse, type EvaluationReport } from '../../../src/core/inverse/evaluate.ts';
import { evaluationHooks } from '../../../src/core/inverse/hooks.ts';
import { generateDataset, syntheticSurface } from '../../../src/core/surface/synthetic.ts';
import { CHECK_PARAMS, runPredictJob } from '../../../src/core/inverse/jobs.ts';
import { PARAM_NAMES } from '../../../src/core/heston/params.ts';
import { SEED_GRID } from '../../../src/core/surface/types.ts';
import { useWasm } from './fixtures.ts';

const BUNDLED = new URL('../../../public/checkpoints/seed-grid-heston.hlckpt', import.meta.url);

describe('bundled inverse checkpoint', () => {
  let report: EvaluationReport;
  let bundle: Uint8Array;

  beforeAll(async () => {
    await useWasm();
    bundle = readFileSync(BUNDLED);
    const ck = await decodeCheckpoint(bundle, 'seed-grid-heston.hlckpt');
    expect(ck.grid).toEqual({ kGrid: [...SEED_GRID.kGrid], tGrid: [...SEED_GRID.tGrid] });
    const heldOut = await generateDataset({ kind: 'heston', n: 600, seed: 777 });
    report = await evaluateInverse(ck, heldOut, { surfaceSamples: 600, lmSamples: 60 }, evaluationHooks());
  }, 120_000);

  it('recovers the parameters of unseen true-Heston surfaces (issue 5 targets)', () => {
    expect(report.r2.theta).toBeGreaterThanOrEqual(0.97);
    expect(report.r2.rho).toBeGreaterThanOrEqual(0.97);
    expect(report.r2.v0).toBeGreaterThanOrEqual(0.97);
    expect(report.r2.sigma).toBeGreaterThanOrEqual(0.9);
    // κ has no target (barely identifiable on a 5 × 6 grid) but must still be learnt, not guessed.
    expect(report.r2.kappa).toBeGreaterThanOrEqual(0.9);
    expect(report.surface_rmse_vol_median).toBeLessThanOrEqual(0.5);
  });

  it('as an LM warm start, at least halves the iterations and reaches the same optimum', () => {
    const w = report.warm_start!;
    expect(w.n).toBe(60);
    expect(w.iterations_warm_median).toBeLessThanOrEqual(0.5 * w.iterations_default_median);
    expect(w.iterations_warm_mean).toBeLessThanOrEqual(0.6 * w.iterations_default_mean);
    expect(w.same_optimum_share).toBe(1);
  });

  it("applied to a surface (the page's Apply), reports the parameters and the surface-space error of the Heston surface at them", async () => {
    const surface = syntheticSurface('heston', CHECK_PARAMS);
    const { predictions } = await runPredictJob({ bundle, surfaces: [surface] }, evaluationHooks());
    const p = predictions[0]!;
    // The note's median relative errors are 0.5–2.1 %; 10 % (κ: 25 %) is far outside that spread.
    for (const q of PARAM_NAMES) expect(Math.abs(p.params[q] / CHECK_PARAMS[q] - 1)).toBeLessThan(q === 'kappa' ? 0.25 : 0.1);
    // A surface from the middle of the prior is inside the training data: no warning before the numbers.
    expect(p.warning).toBeUndefined();
    expect(p.heston).toHaveLength(30);
    // Held-out p90 is 0.13 vol points; a surface in the middle of the prior must do at least as well as the target.
    expect(p.hestonRmseVol).toBeGreaterThan(0);
    expect(p.hestonRmseVol).toBeLessThan(0.5);
  });
});
