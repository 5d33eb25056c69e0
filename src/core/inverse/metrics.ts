/**
 * Parameter-recovery statistics in natural units: per-parameter R² (1 − SSE/SST, so 0 means "no
 * better than predicting the mean", negative means worse) and RMSE.
 */
import { PARAM_NAMES, type ParamName } from '../heston/params.ts';

export type PerParam = Record<ParamName, number>;

/** pred and truth are [n × 5] in PARAM_NAMES order, natural units. */
export function paramRecovery(pred: ArrayLike<number>, truth: ArrayLike<number>, n: number): { r2: PerParam; rmse: PerParam } {
  const r2 = {} as PerParam;
  const rmse = {} as PerParam;
  PARAM_NAMES.forEach((name, p) => {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += truth[i * 5 + p]!;
    mean /= Math.max(n, 1);
    let sse = 0;
    let sst = 0;
    for (let i = 0; i < n; i++) {
      const t = truth[i * 5 + p]!;
      sse += (pred[i * 5 + p]! - t) ** 2;
      sst += (t - mean) ** 2;
    }
    r2[name] = sst > 0 ? 1 - sse / sst : NaN;
    rmse[name] = Math.sqrt(sse / Math.max(n, 1));
  });
  return { r2, rmse };
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
