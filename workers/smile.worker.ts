/**
 * Smile jobs for the Smile page (src/core/smile/jobs.ts): the quote store in IndexedDB
 * ("smile/quotes"), training into the lab's tracker (IndexedDB "tracking", the Runs page's),
 * prediction, and recording from Deribit with a live predicted smile. Thin comlink adapter.
 */
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { IdbStore } from '../src/core/store/idb.ts';
import { namespaced } from '../src/core/store/store.ts';
import { openStoreTracker, type StoreTracker } from '../src/core/tracking/tracker.ts';
import type { WebSocketCtor } from '../src/core/feeds/deribitStream.ts';
import * as smile from '../src/core/smile/jobs.ts';

let tracker: Promise<StoreTracker> | undefined;
const deps: smile.SmileJobDeps = {
  quotes: smile.smileQuoteStore(namespaced(new IdbStore(), 'smile/quotes')),
  tracker: () => (tracker ??= openStoreTracker(namespaced(new IdbStore(), 'tracking'), { sourceName: 'Heston Lab (Smile page)' })),
};

export const smileJobs = {
  ...backendJobs,
  view: () => smile.storeView(deps),
  importQuotes: (a: Parameters<typeof smile.importQuotesJob>[1]) => smile.importQuotesJob(deps, a),
  exportQuotes: (a: smile.QuoteSelection) => smile.exportQuotesJob(deps, a),
  setRetention: (a: Parameters<typeof smile.setRetentionJob>[1]) => smile.setRetentionJob(deps, a),
  clearQuotes: async () => (await deps.quotes.clear(), smile.storeView(deps)),
  previewDataset: (a: Parameters<typeof smile.previewDatasetJob>[1]) => smile.previewDatasetJob(deps, a),
  train: (a: Parameters<typeof smile.trainJob>[1], ctx: JobContext) => smile.trainJob(deps, a, ctx),
  checkpointInfo: smile.checkpointInfoJob,
  predict: (a: Parameters<typeof smile.predictJob>[1]) => smile.predictJob(deps, a),
  record: (a: smile.RecordArgs, ctx: JobContext) => smile.recordJob({ ...deps, WebSocket: WebSocket as unknown as WebSocketCtor }, a, ctx),
  live: smile.liveStateJob,
};

export type SmileJobs = typeof smileJobs;
exposeJobs(smileJobs);
