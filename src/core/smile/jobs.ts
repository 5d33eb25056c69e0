/**
 * The Smile page's jobs, DOM-free (workers/smile.worker.ts only exposes them): import / export /
 * inspect the quote store, preview a dataset, train a model into a tracked run, predict a smile,
 * and record from Deribit with a live predicted smile. Everything the page sends and gets back is
 * structured-clone data (no class instances cross the worker boundary).
 */
import { InputError } from '../errors.ts';
import { CancelledError, type JobContext } from '../jobs.ts';
import type { Store } from '../store/store.ts';
import type { ActiveRun, Tracker } from '../tracking/tracker.ts';
import { DeribitStream, type WebSocketCtor } from '../feeds/deribitStream.ts';
import { QUOTE_RETENTION_SPEC, QuoteStore, retentionLimits, type PartitionInfo, type QuoteRetention, type QuoteStoreConfig, type StoreSummary } from './quoteStore.ts';
import { readQuotesCsv, writeQuotesCsv, type QuoteRecord, type SmileIvUnit } from './quotes.ts';
import { DEFAULT_SESSION, type SessionConfig } from './session.ts';
import { buildSmileDataset } from './sequences.ts';
import { datasetConfigOf, DEFAULT_SMILE_TRAIN_CONFIG, SMILE_TRAIN_SPEC, trainSmile, type SmileEpochRecord, type SmileTrainConfig } from './trainer.ts';
import { resolveConfig } from '../config.ts';
import { decodeSmileCheckpoint, netFromCheckpoint, type LoadedSmileCheckpoint } from './checkpoint.ts';
import { predictSmile, type PredictedSmile, type SmileEvaluation } from './evaluate.ts';
import { QuoteRecorder, recordChannels, type RecorderStats } from './recorder.ts';
import type { SmileNet } from './models/registry.ts';

export interface SmileJobDeps {
  quotes: QuoteStore;
  /** Opens the tracker runs go to (the page's IndexedDB tracker); undefined: untracked. */
  tracker?: () => Promise<Tracker>;
}

export function smileQuoteStore(store: Store, config?: ConstructorParameters<typeof QuoteStore>[1]): QuoteStore {
  return new QuoteStore(store, config);
}

export interface QuoteSelection {
  fromMs?: number;
  toMs?: number;
  underlying?: string;
  /** Only these expiries (ms); empty or absent: all. */
  expiries?: number[];
}

async function selectQuotes(deps: SmileJobDeps, sel: QuoteSelection = {}): Promise<QuoteRecord[]> {
  const all = await deps.quotes.query({ fromMs: sel.fromMs, toMs: sel.toMs, underlying: sel.underlying });
  const keep = sel.expiries?.length ? new Set(sel.expiries) : undefined;
  return keep ? all.filter((q) => keep.has(q.expiryMs)) : all;
}

export interface StoreView {
  summary: StoreSummary;
  partitions: PartitionInfo[];
  /** The retention limits in force (null: none). */
  limits: Pick<QuoteStoreConfig, 'retentionMs' | 'maxBytes'>;
}

export async function storeView(deps: SmileJobDeps): Promise<StoreView> {
  const { retentionMs, maxBytes } = deps.quotes.config;
  return { summary: await deps.quotes.summary(), partitions: await deps.quotes.partitions(), limits: { retentionMs, maxBytes } };
}

/** Sets the store's retention (the page's fields) and applies it now: the quotes it dropped and the store after. */
export async function setRetentionJob(deps: SmileJobDeps, a: Partial<QuoteRetention>): Promise<{ dropped: number; view: StoreView }> {
  const r = resolveConfig(QUOTE_RETENTION_SPEC, a, 'retention');
  const dropped = await deps.quotes.setRetention(retentionLimits(r));
  return { dropped, view: await storeView(deps) };
}

export async function importQuotesJob(deps: SmileJobDeps, a: { text: string; fileName: string; ivUnit?: SmileIvUnit; session?: SessionConfig }): Promise<{ imported: number; ivUnit: SmileIvUnit; synthetic: boolean; view: StoreView }> {
  const r = readQuotesCsv(a.text, a.fileName, { ivUnit: a.ivUnit, session: a.session ?? DEFAULT_SESSION });
  const imported = await deps.quotes.write(r.quotes);
  return { imported, ivUnit: r.ivUnit, synthetic: r.meta.synthetic === 'true', view: await storeView(deps) };
}

export async function exportQuotesJob(deps: SmileJobDeps, sel: QuoteSelection): Promise<string> {
  return writeQuotesCsv(await selectQuotes(deps, sel));
}

export interface DatasetPreview {
  quotes: number;
  contracts: number;
  nTrain: number;
  nVal: number;
  nTest: number;
  samplingMs: number;
  valStart: string;
  testStart: string;
}

export async function previewDatasetJob(deps: SmileJobDeps, a: { config: Partial<SmileTrainConfig>; session: SessionConfig; selection?: QuoteSelection }): Promise<DatasetPreview> {
  const cfg = resolveConfig(SMILE_TRAIN_SPEC, a.config, 'dataset');
  const quotes = await selectQuotes(deps, a.selection);
  const ds = buildSmileDataset(quotes, datasetConfigOf(cfg), a.session, 'stored quotes');
  return {
    quotes: quotes.length,
    contracts: new Set(quotes.map((q) => `${q.expiryMs}|${q.strike}|${q.right}`)).size,
    nTrain: ds.train.n,
    nVal: ds.val.n,
    nTest: ds.test.n,
    samplingMs: ds.samplingMs,
    valStart: new Date(ds.valStartMs).toISOString(),
    testStart: new Date(ds.testStartMs).toISOString(),
  };
}

export interface TrainJobResult {
  runId: string | null;
  trackingError: string | null;
  bytes: Uint8Array;
  hash: string;
  history: SmileEpochRecord[];
  test: SmileEvaluation;
  nTrain: number;
  nTest: number;
  seconds: number;
  config: SmileTrainConfig;
}

export async function trainJob(deps: SmileJobDeps, a: { config: Partial<SmileTrainConfig>; session: SessionConfig; ivUnit: SmileIvUnit; selection?: QuoteSelection; experiment?: string; name?: string }, ctx: JobContext): Promise<TrainJobResult> {
  const config = { ...DEFAULT_SMILE_TRAIN_CONFIG, ...a.config };
  const quotes = await selectQuotes(deps, a.selection);
  if (quotes.length === 0) throw new InputError('the quote store is empty: import quotes or record some first', 'store');
  let run: ActiveRun | undefined;
  let trackingError: string | null = null;
  try {
    const tracker = await deps.tracker?.();
    run = await tracker?.startRun({ experiment: a.experiment ?? 'smile', name: a.name ?? `smile-${config.model}`, tags: { 'heston-lab.kind': 'smile-forecaster', 'mlflow.source.type': 'LOCAL' } });
  } catch (e) {
    // Tracking must never stop training.
    trackingError = (e as Error)?.message ?? String(e);
  }
  try {
    const r = await trainSmile(config, { quotes, session: a.session, ivUnit: a.ivUnit, dataInfo: { source: 'store', quotes: quotes.length } }, { run, name: a.name }, ctx);
    const ck = await decodeSmileCheckpoint(r.bytes, 'trained');
    await run?.setTags({ 'checkpoint.hash': ck.hash });
    await run?.end('FINISHED');
    return { runId: run?.runId ?? null, trackingError, bytes: r.bytes, hash: ck.hash, history: r.history, test: r.test, nTrain: r.nTrain, nTest: r.nTest, seconds: r.seconds, config: r.config };
  } catch (e) {
    await run?.end(e instanceof CancelledError ? 'KILLED' : 'FAILED').catch(() => undefined);
    throw e;
  }
}

/** A decoded checkpoint and its net, kept while the page uses the same bundle. */
const loaded: { hash?: string; ck?: LoadedSmileCheckpoint; net?: SmileNet } = {};

async function useCheckpoint(bytes: Uint8Array): Promise<{ ck: LoadedSmileCheckpoint; net: SmileNet }> {
  const ck = await decodeSmileCheckpoint(bytes, 'checkpoint');
  if (loaded.hash !== ck.hash) {
    loaded.net?.dispose();
    Object.assign(loaded, { hash: ck.hash, ck, net: netFromCheckpoint(ck) });
  }
  return { ck: loaded.ck!, net: loaded.net! };
}

export async function checkpointInfoJob(a: { bytes: Uint8Array }) {
  const ck = await decodeSmileCheckpoint(a.bytes, 'checkpoint');
  return { hash: ck.hash, name: ck.name, model: ck.model, dataset: ck.dataset, session: ck.session, ivUnit: ck.ivUnit, metrics: ck.metrics };
}

/** Quotes around `atMs` enough for a window (and its next quote): seqLength + 2 steps of margin per gap rule. */
function windowSpan(ck: LoadedSmileCheckpoint, atMs: number): { fromMs: number; toMs: number } {
  const back = (ck.model.seqLength + 1) * ck.samplingMs * ck.dataset.maxGapIntervals;
  return { fromMs: atMs - back, toMs: atMs + ck.samplingMs * ck.dataset.maxGapIntervals + 1 };
}

export async function predictJob(deps: SmileJobDeps, a: { bytes: Uint8Array; atMs: number; expiryMs?: number }): Promise<PredictedSmile> {
  const { ck, net } = await useCheckpoint(a.bytes);
  const quotes = await deps.quotes.query(windowSpan(ck, a.atMs));
  return predictSmile(ck, quotes, a.atMs, { expiryMs: a.expiryMs, net });
}

// ---------------------------------------------------------------------------------------------
// Recording with a live prediction

export interface LiveState {
  stats: RecorderStats | null;
  /** The last sample's quotes. */
  lastSample: QuoteRecord[];
  /** The predicted next smile of the nearest expiry, when a checkpoint is loaded and windows exist. */
  prediction: PredictedSmile | null;
  predictionError: string | null;
}

const live: LiveState = { stats: null, lastSample: [], prediction: null, predictionError: null };

export function liveStateJob(): LiveState {
  return live;
}

export interface RecordArgs {
  currency: string;
  samplingMs: number;
  url?: string;
  /** Chosen contracts' instrument names (their tickers, with bid / ask); empty or absent: the whole chain's marks. */
  contracts?: string[];
  /** Predict the next smile after every sample with this checkpoint. */
  bytes?: Uint8Array;
  expiryMs?: number;
}

/** Records until cancelled (the page's Stop): resolves with the final stats. */
export async function recordJob(deps: SmileJobDeps & { WebSocket: WebSocketCtor; clock?: { now(): number } }, a: RecordArgs, ctx: JobContext): Promise<RecorderStats> {
  const channels = recordChannels(a.currency, a.contracts); // InputError before anything starts
  const model = a.bytes ? await useCheckpoint(a.bytes) : undefined;
  Object.assign(live, { stats: null, lastSample: [], prediction: null, predictionError: null });
  const rec = new QuoteRecorder(
    { underlying: a.currency.toUpperCase(), samplingMs: a.samplingMs },
    {
      store: deps.quotes,
      clock: deps.clock,
      onSample: (quotes, stats) => {
        live.stats = stats;
        live.lastSample = quotes;
        ctx.onProgress?.({ done: stats.samples, message: `${stats.samples} samples, ${stats.quotesWritten} quotes${stats.stream?.stale ? ' (stale)' : ''}`, metrics: { samples: stats.samples, quotesWritten: stats.quotesWritten, skippedStale: stats.skippedStale, pending: stats.pending } });
        if (model && quotes.length) {
          const at = quotes[0]!.tsMs;
          deps.quotes
            .query(windowSpan(model.ck, at))
            .then((qs) => predictSmile(model.ck, qs, at, { expiryMs: a.expiryMs, net: model.net }))
            .then((p) => Object.assign(live, { prediction: p, predictionError: null }))
            .catch((e: unknown) => (live.predictionError = (e as Error)?.message ?? String(e)));
        }
      },
    },
  );
  const stream = new DeribitStream({ url: a.url ?? 'wss://www.deribit.com/ws/api/v2', WebSocket: deps.WebSocket, channels }, rec.handlers());
  stream.start();
  rec.start();
  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal?.aborted) resolve();
      ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    rec.stop();
    stream.stop();
    await deps.quotes.flush().catch(() => undefined);
  }
  return { ...rec.stats };
}
