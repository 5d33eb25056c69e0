/**
 * The page's tracker: one per tab, on the lab's IndexedDB store (namespace 'tracking'), shared by
 * the Runs page and every training page, so a run started on the Inverse page shows on the Runs
 * page at once. Training pages log through `startPageRun` + core's runTracked / trackProgress.
 */
import { IdbStore } from '../../../core/store/idb.ts';
import { namespaced } from '../../../core/store/store.ts';
import { openStoreTracker, type ActiveRun, type StartRunOptions, type StoreTracker } from '../../../core/tracking/tracker.ts';

let opened: Promise<StoreTracker> | undefined;

/** The last metric flush the tracker could not make (a full quota …); the Runs page shows it for a minute. */
export const trackingProblem: { message?: string; at?: number } = {};

export function pageTracker(): Promise<StoreTracker> {
  opened ??= openStoreTracker(namespaced(new IdbStore(), 'tracking'), {
    sourceName: `Heston Lab (${location.pathname}${location.hash.split('?')[0]})`,
    onError: (e, runId) => {
      trackingProblem.message = `run ${runId.slice(0, 8)}: metrics kept in memory, not saved yet (they are retried at the next flush): ${(e as Error)?.message ?? e}`;
      trackingProblem.at = Date.now();
      console.warn(`tracking: ${trackingProblem.message}`);
    },
  });
  return opened;
}

/**
 * A run for a page's training job. Tracking must never stop training: if the store cannot be
 * opened or written, the error is returned beside an undefined run and the page trains untracked.
 */
export async function startPageRun(o: StartRunOptions): Promise<{ run?: ActiveRun; error?: string }> {
  try {
    const t = await pageTracker();
    return { run: await t.startRun({ ...o, tags: { 'mlflow.source.type': 'LOCAL', ...o.tags } }) };
  } catch (e) {
    return { error: (e as Error)?.message ?? String(e) };
  }
}

/** Tag that links a checkpoint (its content hash) to the run that trained it. */
export const CHECKPOINT_TAG = 'checkpoint.hash';

/** Checkpoint hash → id of the run that produced it. */
export async function runsByCheckpoint(): Promise<Map<string, string>> {
  const t = await pageTracker();
  const out = new Map<string, string>();
  for (const r of await t.listRuns({ includeDeleted: false })) {
    const h = r.tags[CHECKPOINT_TAG];
    if (h) out.set(h, r.info.runId);
  }
  return out;
}

export function runLink(runId: string): string {
  return `#/runs?run=${runId}`;
}
