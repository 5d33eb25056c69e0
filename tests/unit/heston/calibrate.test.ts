import { describe, expect, it } from 'vitest';
import { calibrate, calibrateSurface, gridProblem, paramsAtBounds, type MaturitySlice } from '../../../src/core/heston/calibrate.ts';
import { PARAM_BOUNDS, PARAM_NAMES, SEED_PRIOR, paramsFromArray, type HestonParams } from '../../../src/core/heston/params.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { priceGrid } from '../../../src/core/heston/pricer.ts';
import { impliedVol } from '../../../src/core/heston/blackScholes.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';
import { Rng } from '../../../src/core/math/rng.ts';

const kGrid = [-0.4, -0.2, 0, 0.2, 0.4];
const tGrid = [0.05, 0.1, 0.25, 0.5, 1, 2];

function draw(rng: Rng): HestonParams {
  return paramsFromArray(
    PARAM_NAMES.map((n) => {
      const d = SEED_PRIOR[n];
      return d.kind === 'logUniform' ? rng.logUniform(d.lo, d.hi) : rng.range(d.lo, d.hi);
    }),
  );
}

function maxRelError(a: HestonParams, b: HestonParams): number {
  return Math.max(...PARAM_NAMES.map((n) => Math.abs(a[n] / b[n] - 1)));
}

describe('Levenberg–Marquardt calibration', () => {
  it('recovers the true parameters of noiseless 5×6 seed-box surfaces from the default start to 1e-5', async () => {
    const rng = new Rng(20260601);
    for (let n = 0; n < 6; n++) {
      const truth = draw(rng);
      const s = hestonIvSurface(truth, kGrid, tGrid);
      const res = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask));
      expect(res.converged, res.reason).toBe(true);
      expect(maxRelError(res.params, truth), JSON.stringify({ truth, got: res.params })).toBeLessThan(1e-5);
      expect(res.rmseVol).toBeLessThan(1e-6);
    }
  });

  it('Cui et al. (2017) 40-option test recovers (3.0, 0.10, 0.25, −0.8, 0.08) from their start', async () => {
    // S0 = 1, r = 2%, q = 0, eight maturities × five strikes each (their Table 1, as recalled;
    // prices generated here by the Float64 pricer and converted to IV), start (1.2, 0.2, 0.3, −0.6, 0.2).
    const truth = { kappa: 3, theta: 0.1, sigma: 0.25, rho: -0.8, v0: 0.08 };
    const T = [0.119047619047619, 0.238095238095238, 0.357142857142857, 0.476190476190476, 0.595238095238095, 0.714285714285714, 1.07142857142857, 1.42857142857143];
    const K = [
      [0.9371, 0.8603, 0.8112, 0.776, 0.747, 0.7216, 0.6699, 0.6137],
      [0.9956, 0.9868, 0.9728, 0.9588, 0.9464, 0.9358, 0.9175, 0.9025],
      [1.0427, 1.0463, 1.0499, 1.053, 1.0562, 1.0593, 1.0663, 1.0766],
      [1.2287, 1.3402, 1.4193, 1.4789, 1.5257, 1.5638, 1.6329, 1.6881],
      [1.3939, 1.5984, 1.7748, 1.9207, 2.0386, 2.1339, 2.3154, 2.4607],
    ];
    const slices: MaturitySlice[] = T.map((t, j) => {
      const strikes = K.map((row) => row[j]!);
      const g = priceGrid(truth, 1, strikes, [t], 0.02, 0);
      const iv = strikes.map((k, i) => impliedVol(g.calls[i]!, { spot: 1, strike: k, T: t, r: 0.02, isCall: true }).iv);
      return { T: t, r: 0.02, q: 0, strikes, iv };
    });
    const res = await calibrate({ spot: 1, slices }, { start: { kappa: 1.2, theta: 0.2, sigma: 0.3, rho: -0.6, v0: 0.2 } });
    expect(res.points).toBe(40);
    expect(maxRelError(res.params, truth), JSON.stringify(res.params)).toBeLessThan(1e-6);
  });

  it('with 0.5 vol-point noise fits at least as well as the true parameters, honouring weights and mask', async () => {
    const rng = new Rng(99);
    const truth = { kappa: 2.5, theta: 0.05, sigma: 0.6, rho: -0.65, v0: 0.035 };
    const s = hestonIvSurface(truth, kGrid, tGrid);
    const noisy = s.iv.map((v) => v + 0.005 * rng.normal());
    const problem = gridProblem(1, kGrid.map(Math.exp), tGrid, noisy, 0, 0, s.mask);
    const fit = await calibrate(problem);
    const atTruth = await calibrate(problem, { start: truth, maxIterations: 1, gtol: Infinity });
    // A least-squares optimum cannot be worse than the parameters that generated the data.
    expect(fit.rmseVol).toBeLessThanOrEqual(atTruth.rmseVol + 1e-9);
    expect(fit.rmseVol).toBeGreaterThan(0.2);
    expect(fit.rmseVol).toBeLessThan(0.6);
    // Masking a point removes it from the fit.
    const mask = Uint8Array.from(s.mask);
    mask[2 * tGrid.length + 3] = 1;
    const fewer = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, noisy, 0, 0, mask));
    expect(fewer.points).toBe(fit.points - 1);
    expect(Number.isNaN(fewer.modelIv[3]![2]!)).toBe(true);
    // A zero weight does the same; a heavy weight pulls the fit onto that point.
    const w = new Float64Array(noisy.length).fill(1);
    w[2 * tGrid.length + 3] = 0;
    expect((await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, noisy, 0, 0, s.mask, w))).points).toBe(fit.points - 1);
    w[2 * tGrid.length + 3] = 100;
    const heavy = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, noisy, 0, 0, s.mask, w));
    const at = (r: typeof fit) => Math.abs(r.modelIv[3]![2]! - noisy[2 * tGrid.length + 3]!);
    expect(at(heavy)).toBeLessThan(at(fit));
  });

  it('keeps parameters inside the bounds, applies the Feller penalty and reports why it stopped', async () => {
    const truth = { kappa: 0.6, theta: 0.02, sigma: 0.9, rho: -0.7, v0: 0.03 }; // Feller ratio 0.03
    const s = hestonIvSurface(truth, kGrid, tGrid);
    const problem = gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask);
    const free = await calibrate(problem);
    const penalised = await calibrate(problem, { fellerPenalty: 10 });
    expect(penalised.fellerRatio).toBeGreaterThan(free.fellerRatio);
    const bounded = await calibrate(problem, {
      bounds: { kappa: { lo: 1, hi: 5 }, theta: { lo: 0.01, hi: 0.1 }, sigma: { lo: 0.1, hi: 0.5 }, rho: { lo: -0.9, hi: 0 }, v0: { lo: 0.01, hi: 0.1 } },
    });
    expect(bounded.params.sigma).toBeLessThanOrEqual(0.5);
    expect(bounded.params.kappa).toBeGreaterThanOrEqual(1);
    expect(typeof bounded.reason).toBe('string');
    const capped = await calibrate(problem, { maxIterations: 1, start: { kappa: 4, theta: 0.06, sigma: 0.3, rho: 0, v0: 0.06 } });
    expect(capped.converged).toBe(false);
    expect(capped.reason).toMatch(/iteration limit/);
  });

  it('multi-start, price target and calibrateSurface (ln(K/F) grid with forwards)', async () => {
    const truth = { kappa: 3, theta: 0.03, sigma: 0.4, rho: -0.5, v0: 0.05 };
    const s = hestonIvSurface(truth, kGrid, tGrid);
    const problem = gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask);
    const multi = await calibrate(problem, { multiStart: 3, seed: 5 });
    expect(multi.starts.length).toBe(3);
    expect(maxRelError(multi.params, truth)).toBeLessThan(1e-5);
    const onPrices = await calibrate(problem, { target: 'price' });
    expect(maxRelError(onPrices.params, truth)).toBeLessThan(1e-4);
    const surface = { kGrid, tGrid, iv: s.iv, mask: s.mask, spot: 100, forward: tGrid.map((t) => 100 * Math.exp(0.03 * t)), timestamp: 0, source: 'synthetic:heston' };
    const res = await calibrateSurface(surface);
    expect(maxRelError(res.params, truth)).toBeLessThan(1e-5);
    expect(res.modelSurface.length).toBe(kGrid.length * tGrid.length);
  });

  it('a Cancel sent mid-run stops a 12-start calibration within a few iterations (issue 14)', async () => {
    // The case: 12 starts, Cancel pressed 5 ms in. Before, calibrate() ran synchronously,
    // the abort could not be delivered and all 12 starts ran (≈ 12 × 10–25 iterations).
    const truth = { kappa: 1.5, theta: 0.05, sigma: 0.7, rho: -0.6, v0: 0.04 };
    const s = hestonIvSurface(truth, kGrid, tGrid);
    const problem = gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask);
    const full = await calibrate(problem, { multiStart: 12, seed: 3 });
    // The uncancelled run is long enough for "stopped early" to mean something.
    expect(full.iterations).toBeGreaterThan(60);
    const ac = new AbortController();
    let iterations = 0;
    let startsDone = 0;
    setTimeout(() => ac.abort(), 5);
    const err = await calibrate(problem, {
      multiStart: 12,
      seed: 3,
      signal: ac.signal,
      onProgress: (p) => {
        if (p.metrics?.iteration !== undefined) iterations++;
        startsDone = p.done;
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    // The abort is seen at the first cancellation point after it (every iteration, with a real
    // yield at least every 10 ms): whatever the machine's speed, it lands long before the end.
    expect(startsDone).toBeLessThan(12);
    expect(iterations).toBeLessThan(full.iterations / 2);
    // An already-aborted signal stops before the first iteration.
    const pre = new AbortController();
    pre.abort();
    await expect(calibrate(problem, { signal: pre.signal })).rejects.toThrow(CancelledError);
  });

  it('reports the parameters that end on a bound (percent vols read as decimals put them all there)', async () => {
    const truth = { kappa: 2.5, theta: 0.05, sigma: 0.6, rho: -0.65, v0: 0.035 };
    const s = hestonIvSurface(truth, kGrid, tGrid);
    const interior = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask));
    expect(interior.atBounds).toEqual([]);
    // The same surface with σ capped below its true 0.6: the fit pushes σ onto the cap.
    const capped = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv, 0, 0, s.mask), { bounds: { ...PARAM_BOUNDS, sigma: { lo: 1e-4, hi: 0.3 } } });
    expect(capped.atBounds).toContain('sigma');
    expect(capped.params.sigma).toBeCloseTo(0.3, 12);
    expect(capped.reason).toMatch(/sigma .*bound/);
    // The percent case: every vol 100× too large drives the variances to their upper bound.
    const pct = await calibrate(gridProblem(1, kGrid.map(Math.exp), tGrid, s.iv.map((v) => v * 100), 0, 0, s.mask));
    expect(pct.atBounds.length).toBeGreaterThan(0);
    expect(paramsAtBounds(pct.params)).toEqual(pct.atBounds);
  });
});
