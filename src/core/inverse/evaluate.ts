/**
 * Evaluation of an inverse checkpoint on a held-out labelled set (issue 5, item 3):
 *  - parameter recovery: per-parameter R² and RMSE in natural units;
 *  - surface-space error: IV RMSE (vol points) of the Float64 Heston surface at the PREDICTED
 *    parameters against the input surface, over its unmasked points — what a user of the
 *    parameters actually gets, whatever the network's own reconstruction looks like;
 *  - warm start: Levenberg–Marquardt calibration from the network's parameters against the same
 *    calibration from the default start (iterations, time, final error).
 * The last two are optional callbacks so the core evaluation does not depend on which pricer
 * is plugged in; the CLI and the worker pass the numerics engineer's Float64 functions.
 */
import { throttledProgress, throwIfAborted, withEta, yieldToEventLoop, type JobContext } from '../jobs.ts';
import { PARAM_NAMES, paramsFromArray, type HestonParams } from '../heston/params.ts';
import type { Surface } from '../surface/types.ts';
import type { InverseCheckpoint } from './checkpoint.ts';
import { checkGrid, type LabelledSurfaces } from './datasets.ts';
import { InverseHestonModel } from './model.ts';
import { decodeParams, encodeSurfaceInto } from './normalisation.ts';
import { paramRecovery, quantile, type PerParam } from './metrics.ts';
import { predictEncoded } from './predict.ts';

export interface CalibrationOutcome {
  params: HestonParams;
  rmseVol: number;
  iterations: number;
  ms: number;
  converged: boolean;
}

export interface EvaluateHooks {
  /** Float64 Heston IV surface at p on the grid (NaN or mask 1 where there is no information). */
  hestonSurface?: (p: HestonParams, kGrid: number[], tGrid: number[]) => { iv: ArrayLike<number>; mask?: ArrayLike<number> };
  /** LM calibration of `surface`, from `start` when given, from the calibrator's default otherwise (cancellable through ctx.signal). */
  calibrate?: (surface: Surface, start?: HestonParams, ctx?: JobContext) => Promise<CalibrationOutcome>;
}

export interface EvaluateOptions {
  /** Surfaces (first ones) on which to compute the surface-space error; default all. */
  surfaceSamples?: number;
  /** Surfaces on which to compare LM warm vs default start; default 0 (it is slow). */
  lmSamples?: number;
}

export interface WarmStartReport {
  n: number;
  iterations_default_median: number;
  iterations_warm_median: number;
  iterations_ratio: number;
  ms_default_median: number;
  ms_warm_median: number;
  /** Mean iterations (the medians of small integers are coarse). */
  iterations_default_mean: number;
  iterations_warm_mean: number;
  /**
   * Share of surfaces where warm and default starts reach the same optimum: every parameter within
   * SAME_OPTIMUM_REL (relative) of the other run's.
   */
  same_optimum_share: number;
  /** Median and largest over surfaces of max_p |p_warm − p_default| / |p_default|. */
  params_max_rel_diff_median: number;
  params_max_rel_diff_max: number;
  rmse_vol_default_median: number;
  rmse_vol_warm_median: number;
  /** Surface RMSE of the network's parameters alone, before LM (vol points). */
  rmse_vol_network_median: number;
}

export interface EvaluationReport {
  n: number;
  r2: PerParam;
  rmse: PerParam;
  /** Median / p90 IV RMSE in vol points (1 vol point = 0.01 of IV) over surfaceSamples surfaces. */
  surface_rmse_vol_median?: number;
  surface_rmse_vol_p90?: number;
  surface_n?: number;
  warm_start?: WarmStartReport;
  /** Predicted parameters [n × 5] and truth [n × 5] (for scatter plots). */
  predicted: number[];
  truth: number[];
  ms: number;
}

/** Two calibrations reached the same optimum when every parameter agrees to this relative tolerance (the calibrator's recovery test: 1e-5). */
export const SAME_OPTIMUM_REL = 1e-5;

function median(a: number[]): number {
  return quantile([...a].sort((x, y) => x - y), 0.5);
}

/** IV RMSE in vol points between a model surface and the data, over the data's usable points. */
export function surfaceRmseVol(model: { iv: ArrayLike<number>; mask?: ArrayLike<number> }, data: ArrayLike<number>, dataMask?: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let c = 0; c < data.length; c++) {
    const d = data[c]!;
    if (dataMask?.[c] === 1 || !Number.isFinite(d)) continue;
    const m = model.iv[c]!;
    // A point the model cannot price (its IV is NaN) where the data has one counts as a miss of
    // the whole data value, not as a silent skip.
    const e = Number.isFinite(m) && model.mask?.[c] !== 1 ? m - d : d;
    s += e * e;
    n++;
  }
  return n > 0 ? 100 * Math.sqrt(s / n) : NaN;
}

export async function evaluateInverse(ck: InverseCheckpoint, ds: LabelledSurfaces, opts: EvaluateOptions = {}, hooks: EvaluateHooks = {}, ctx: JobContext = {}): Promise<EvaluationReport> {
  const t0 = performance.now();
  checkGrid(ds.kGrid, ds.tGrid, ck.grid, 'evaluation data');
  const cells = ds.kGrid.length * ds.tGrid.length;
  const x = new Float32Array(ds.n * cells * 2);
  for (let i = 0; i < ds.n; i++) encodeSurfaceInto(ds.iv, ds.mask, i * cells, ck.normalisation, x, i * cells * 2);
  const model = new InverseHestonModel(ck.topology, ck.weights);
  let out;
  try {
    out = await predictEncoded(model, x, ds.n);
  } finally {
    model.dispose();
  }
  const predicted = new Float64Array(ds.n * 5);
  for (let i = 0; i < ds.n; i++) {
    const p = decodeParams(out.params, ck.normalisation, i * 5);
    PARAM_NAMES.forEach((name, j) => (predicted[i * 5 + j] = p[name]));
  }
  const truth = Float64Array.from({ length: ds.n * 5 }, (_, i) => ds.params[i]!);
  const { r2, rmse } = paramRecovery(predicted, truth, ds.n);
  const report: EvaluationReport = { n: ds.n, r2, rmse, predicted: Array.from(predicted), truth: Array.from(truth), ms: 0 };
  const progress = throttledProgress(withEta(ctx));
  const dataSurface = (i: number): Surface => {
    const iv = Float64Array.from({ length: cells }, (_, c) => ds.iv[i * cells + c]!);
    const mask = Uint8Array.from({ length: cells }, (_, c) => (ds.mask[i * cells + c] === 1 || !Number.isFinite(iv[c]!) ? 1 : 0));
    return { kGrid: ds.kGrid, tGrid: ds.tGrid, iv, mask, spot: 1, timestamp: 0, source: `evaluation:${i}` };
  };

  if (hooks.hestonSurface) {
    const m = Math.min(opts.surfaceSamples ?? ds.n, ds.n);
    const errs: number[] = [];
    for (let i = 0; i < m; i++) {
      const s = dataSurface(i);
      errs.push(surfaceRmseVol(hooks.hestonSurface(paramsFromArray(predicted, i * 5), ds.kGrid, ds.tGrid), s.iv, s.mask));
      if (i % 32 === 31) {
        throwIfAborted(ctx.signal);
        progress({ done: i + 1, total: m, message: `surface error ${i + 1}/${m}` });
        await yieldToEventLoop();
      }
    }
    const finite = errs.filter(Number.isFinite).sort((a, b) => a - b);
    report.surface_rmse_vol_median = quantile(finite, 0.5);
    report.surface_rmse_vol_p90 = quantile(finite, 0.9);
    report.surface_n = finite.length;
  }

  const lmN = Math.min(opts.lmSamples ?? 0, ds.n);
  if (hooks.calibrate && lmN > 0) {
    const itD: number[] = [];
    const itW: number[] = [];
    const msD: number[] = [];
    const msW: number[] = [];
    const rD: number[] = [];
    const rW: number[] = [];
    const rN: number[] = [];
    const relDiff: number[] = [];
    let same = 0;
    for (let i = 0; i < lmN; i++) {
      throwIfAborted(ctx.signal);
      const s = dataSurface(i);
      const start = paramsFromArray(predicted, i * 5);
      const d = await hooks.calibrate(s, undefined, ctx);
      const w = await hooks.calibrate(s, start, ctx);
      itD.push(d.iterations);
      itW.push(w.iterations);
      msD.push(d.ms);
      msW.push(w.ms);
      rD.push(d.rmseVol);
      rW.push(w.rmseVol);
      if (hooks.hestonSurface) rN.push(surfaceRmseVol(hooks.hestonSurface(start, ds.kGrid, ds.tGrid), s.iv, s.mask));
      const diff = Math.max(...PARAM_NAMES.map((p) => Math.abs(w.params[p] - d.params[p]) / Math.max(Math.abs(d.params[p]), 1e-300)));
      relDiff.push(diff);
      if (diff <= SAME_OPTIMUM_REL) same++;
      progress({ done: i + 1, total: lmN, message: `LM warm start ${i + 1}/${lmN}` });
      await yieldToEventLoop();
    }
    report.warm_start = {
      n: lmN,
      iterations_default_median: median(itD),
      iterations_warm_median: median(itW),
      iterations_ratio: median(itW) / Math.max(median(itD), 1e-9),
      ms_default_median: median(msD),
      ms_warm_median: median(msW),
      iterations_default_mean: itD.reduce((a, b) => a + b, 0) / lmN,
      iterations_warm_mean: itW.reduce((a, b) => a + b, 0) / lmN,
      same_optimum_share: same / lmN,
      params_max_rel_diff_median: median(relDiff),
      params_max_rel_diff_max: Math.max(...relDiff),
      rmse_vol_default_median: median(rD),
      rmse_vol_warm_median: median(rW),
      rmse_vol_network_median: rN.length ? median(rN) : NaN,
    };
  }
  report.ms = performance.now() - t0;
  return report;
}
