/**
 * The pre-trained checkpoint bundled in public/ is what a new user applies first, so its quality
 * is held to issue 5's targets on true-Heston surfaces it never saw (generator seed 777; it was
 * trained on seed 1): held-out R² θ, ρ, v0 ≥ 0.97 and σ ≥ 0.90, median surface-space error
 * ≤ 0.5 vol points, and as an LM warm start at least half the iterations of the default start,
 * landing on the same optimum. A smaller sample than the note's 2 000 / 100 keeps it to seconds.
 * R² (≥ 0.997 measured) and the surface error (median 0.07 vol points) clear their bars with room;
 * the LM ratio does not (0.49 by the mean, 0.5 by the median, on these 60 as on the note's 100):
 * it is the figure the 200 000-surface training exists for, so a checkpoint that loses any of
 * its accuracy fails here. Everything is seeded, so the outcome is the same on every run.
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
    expect(w.iterations_warm_mean).toBeLessThanOrEqual(0.5 * w.iterations_default_mean);
    expect(w.same_optimum_share).toBe(1);
  });

  it("applied to a surface (the page's Apply), reports the parameters and the surface-space error of the Heston surface at them", async () => {
    const surface = syntheticSurface('heston', CHECK_PARAMS);
    const { predictions } = await runPredictJob({ bundle, surfaces: [surface] }, evaluationHooks());
    const p = predictions[0]!;
    // The note's median relative errors are 0.5–2.1 %; 10 % (κ: 25 %) is far outside that spread.
    for (const q of PARAM_NAMES) expect(Math.abs(p.params[q] / CHECK_PARAMS[q] - 1)).toBeLessThan(q === 'kappa' ? 0.25 : 0.1);
    expect(p.heston).toHaveLength(30);
    // Held-out p90 is 0.13 vol points; a surface in the middle of the prior must do at least as well as the target.
    expect(p.hestonRmseVol).toBeGreaterThan(0);
    expect(p.hestonRmseVol).toBeLessThan(0.5);
  });
});
