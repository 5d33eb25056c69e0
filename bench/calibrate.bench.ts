/**
 * Calibration benchmark: Levenberg–Marquardt (analytic Jacobian) on 20 seed-box 5×6 surfaces
 * from the default start — noiseless (parameter recovery) and with 0.5 vol-point noise — time per
 * surface (median, max), iterations, and the fit quality.
 *   npx tsx bench/calibrate.bench.ts   → one JSON object on stdout
 */
import { calibrate, gridProblem } from '../src/core/heston/calibrate.ts';
import { hestonIvSurface } from '../src/core/heston/surface.ts';
import { PARAM_NAMES, SEED_PRIOR, paramsFromArray } from '../src/core/heston/params.ts';
import { Rng } from '../src/core/math/rng.ts';

const K_GRID = [-0.4, -0.2, 0, 0.2, 0.4];
const T_GRID = [0.05, 0.1, 0.25, 0.5, 1, 2];
const rng = new Rng(2026);
const surfaces = Array.from({ length: 20 }, () => {
  const truth = paramsFromArray(PARAM_NAMES.map((n) => (SEED_PRIOR[n].kind === 'logUniform' ? rng.logUniform(SEED_PRIOR[n].lo, SEED_PRIOR[n].hi) : rng.range(SEED_PRIOR[n].lo, SEED_PRIOR[n].hi))));
  const s = hestonIvSurface(truth, K_GRID, T_GRID);
  const noisy = s.iv.map((v) => v + 0.005 * rng.normal());
  return { truth, s, noisy };
});
const strikes = K_GRID.map(Math.exp);

// Warm-up (JIT) on a surface not in the set.
for (let i = 0; i < 3; i++) calibrate(gridProblem(1, strikes, T_GRID, surfaces[0]!.s.iv, 0, 0, surfaces[0]!.s.mask));

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: (s[9]! + s[10]!) / 2, max: s[s.length - 1]! };
};
const clean = surfaces.map(({ truth, s }) => {
  const c0 = process.cpuUsage();
  const r = calibrate(gridProblem(1, strikes, T_GRID, s.iv, 0, 0, s.mask));
  const c = process.cpuUsage(c0);
  return { ms: r.ms, cpuMs: (c.user + c.system) / 1000, it: r.iterations, err: Math.max(...PARAM_NAMES.map((n) => Math.abs(r.params[n] / truth[n] - 1))), ok: r.converged };
});
const noisy = surfaces.map(({ truth, s, noisy }) => {
  const p = gridProblem(1, strikes, T_GRID, noisy, 0, 0, s.mask);
  const r = calibrate(p);
  const atTruth = calibrate(p, { start: truth, maxIterations: 1, gtol: Infinity });
  return { ms: r.ms, rmse: r.rmseVol, rmseTruth: atTruth.rmseVol };
});
const ms = stats(clean.map((c) => c.ms));
const msNoisy = stats(noisy.map((c) => c.ms));
console.log(
  JSON.stringify({
    benchmark: 'calibrate',
    surfaces: 20,
    grid: '5×6 (k = ln(K/F) in [-0.4, 0.4], T 0.05–2), seed-box truths, uninformative points masked, default start',
    clean_ms_median: ms.median,
    clean_ms_max: ms.max,
    clean_cpu_ms_median: stats(clean.map((c) => c.cpuMs)).median,
    clean_cpu_ms_max: stats(clean.map((c) => c.cpuMs)).max,
    clean_iterations_median: stats(clean.map((c) => c.it)).median,
    clean_max_param_rel_error: Math.max(...clean.map((c) => c.err)),
    clean_all_converged: clean.every((c) => c.ok),
    noisy_0p5_volpt_ms_median: msNoisy.median,
    noisy_0p5_volpt_ms_max: msNoisy.max,
    noisy_rmse_vol_points_median: stats(noisy.map((c) => c.rmse)).median,
    noisy_rmse_minus_rmse_at_truth_max: Math.max(...noisy.map((c) => c.rmse - c.rmseTruth)),
    quantlib_lm_reference_ms_median: 59,
    speedup_vs_quantlib_lm_reference: 59 / ms.median,
    load_average_1min: (await import('node:os')).loadavg()[0],
    machine_load_note: '*_ms are wall-clock on a shared 2-core machine, *_cpu_ms this process\'s CPU time; QuantLib figure quoted from the issue (same machine class), not re-measured: python3-quantlib is not installable here',
  }),
);
