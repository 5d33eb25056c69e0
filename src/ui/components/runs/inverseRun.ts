/**
 * What the Inverse page records for a training run: the config and data spec as params, the
 * trainer's per-epoch records (train / validation loss, per-parameter R²) through trackProgress,
 * then the evaluation figures on the validation split as `eval/…` metrics, `eval/summary.json` and
 * `eval/predicted_vs_true.json` (the scatter plots' data),
 * and the checkpoint as `checkpoint/<name>.hlckpt`, tagged with its hash (the page's link).
 */
import type { ActiveRun } from '../../../core/tracking/tracker.ts';
import { configParams } from '../../../core/tracking/tracker.ts';
import type { TrainJobArgs, TrainJobResult } from '../../../core/inverse/jobs.ts';
import { CHECKPOINT_TAG, startPageRun } from './tracking.ts';
import { PARAM_NAMES } from '../../../core/heston/params.ts';

export const INVERSE_EXPERIMENT = 'inverse-heston';

export function startInverseRun(args: TrainJobArgs, backend: string | undefined) {
  const data: Record<string, string | number> = args.data ? { 'data.kind': args.data.kind, 'data.n': args.data.n, 'data.seed': args.data.seed } : {};
  const c = args.config;
  // A name that says what differs between runs: "synthetic proxy n=400 4ep lr=0.002".
  const name = args.name ?? [c.mode ?? 'synthetic', args.data?.kind, args.data ? `n=${args.data.n}` : '', c.epochs ? `${c.epochs}ep` : '', c.lr ? `lr=${c.lr}` : '', args.resume ? 'resumed' : ''].filter(Boolean).join(' ');
  return startPageRun({
    experiment: INVERSE_EXPERIMENT,
    name,
    params: { ...configParams(args.config), ...data, ...(args.real?.length ? { 'data.real': args.real.length } : {}), ...(args.initBundle ? { init: 'checkpoint' } : {}) },
    tags: backend ? { backend } : {},
  });
}

export async function logInverseResult(run: ActiveRun | undefined, result: TrainJobResult): Promise<void> {
  if (!run) return;
  const ev = result.evaluation;
  const epochs = result.history.length;
  const figures: Record<string, number> = {};
  for (const [p, v] of Object.entries(ev.r2 ?? {})) if (typeof v === 'number') figures[`eval/r2/${p}`] = v;
  for (const [p, v] of Object.entries(ev.rmse ?? {})) if (typeof v === 'number') figures[`eval/rmse/${p}`] = v;
  for (const k of ['surface_rmse_vol_median', 'surface_rmse_vol_p90'] as const) {
    const v = (ev as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') figures[`eval/${k}`] = v;
  }
  if (Object.keys(figures).length) run.logMetrics(epochs, figures);
  const { predicted, truth, ...summary } = ev;
  const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x, null, 1));
  await run.logArtifact('eval/summary.json', json({ ...summary, split: 'validation', epochs }));
  // The data of the page's predicted-vs-true scatter plots: [n × 5] row-major, in PARAM_NAMES order.
  if (predicted.length) await run.logArtifact('eval/predicted_vs_true.json', json({ params: PARAM_NAMES, n: ev.n, predicted, truth }));
  await run.logArtifact(`checkpoint/inverse-${result.hash.slice(0, 12)}.hlckpt`, result.bundle);
  await run.setTags({ [CHECKPOINT_TAG]: result.hash });
}
