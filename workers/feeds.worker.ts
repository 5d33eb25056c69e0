/**
 * The Data page's worker: REST fetches, parsing, snapshot building and storage run here, off the
 * page's thread, and so does the snapshot scheduler (it lives as long as the page keeps this
 * worker). Every fetching job returns an Outcome instead of throwing, so the page learns the
 * error's kind (network/CORS, geo-block, rate limit …) — comlink would carry only its message.
 */
import { exposeJobs } from './expose.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { errorMessage } from '../src/core/errors.ts';
import { IdbStore } from '../src/core/store/idb.ts';
import { namespaced, type Store } from '../src/core/store/store.ts';
import { SurfaceLibrary } from '../src/core/surface/library.ts';
import { surfaceFromNpz, surfaceToNpz } from '../src/core/surface/files.ts';
import type { Surface } from '../src/core/surface/types.ts';
import { FeedError, systemClock } from '../src/core/feeds/http.ts';
import { DeribitClient } from '../src/core/feeds/deribit.ts';
import { BinanceClient } from '../src/core/feeds/binance.ts';
import { takeDeribitSnapshot, type SnapshotOptions } from '../src/core/feeds/snapshot.ts';
import { SnapshotScheduler, type SchedulerState } from '../src/core/feeds/scheduler.ts';
import { loadBinanceData, seriesFromCsv, type SeriesTable } from '../src/core/feeds/series.ts';
import { buildRealMarketData, saveRealMarketData } from '../src/core/market/realMarketData.ts';

/** Where the lab's surface library lives in IndexedDB (shared with the Surfaces page). */
const LIBRARY_NAMESPACE = 'surfaces';
const FEEDS_NAMESPACE = 'feeds';
/** RealMarketData sets, where the RL pages look for them. */
const MARKET_NAMESPACE = 'market';

let root: Store | undefined;
const rootStore = () => (root ??= new IdbStore());
const feedsStore = () => namespaced(rootStore(), FEEDS_NAMESPACE);
let lib: SurfaceLibrary | undefined;
const library = () => (lib ??= new SurfaceLibrary(namespaced(rootStore(), LIBRARY_NAMESPACE)));

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { kind: string; message: string; feed?: string } };

async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof FeedError) return { ok: false, error: { kind: e.kind, message: e.message, feed: e.feed } };
    return { ok: false, error: { kind: (e as Error)?.name === 'CancelledError' ? 'cancelled' : 'input', message: errorMessage(e) } };
  }
}

export interface SnapshotArgs extends SnapshotOptions {
  baseUrl: string;
}

export interface SeriesArgs {
  spotBaseUrl: string;
  futuresBaseUrl: string;
  symbol: string;
  interval: string;
  start: number;
  end: number;
}

async function snapshotAndStore(args: SnapshotArgs, ctx: JobContext) {
  const client = new DeribitClient({ baseUrl: args.baseUrl });
  const r = await takeDeribitSnapshot(client, args, ctx);
  const added = await library().addEntry(r.surface, { name: r.surface.name, tags: ['deribit', 'snapshot'], dedupKey: `${r.surface.source}:${r.surface.timestamp}` });
  return { id: added.id, duplicate: added.duplicate, surface: r.surface, used: r.used, expiries: r.expiries, skipped: r.skipped.length };
}

const seriesKey = (name: string) => `series/${name}`;

async function saveSeries(t: SeriesTable, name = `${t.symbol || 'series'}-${t.interval || 'x'}`): Promise<string> {
  await feedsStore().set(seriesKey(name), t);
  return name;
}

// One scheduler per source, created (and resumed from the store) once: the promise is cached so
// a start() arriving while resume() still reads the saved state waits for it.
const schedulers = new Map<string, Promise<SnapshotScheduler>>();

function scheduler(currency: string): Promise<SnapshotScheduler> {
  const source = `deribit:${currency}`;
  let p = schedulers.get(source);
  if (!p) {
    const store = feedsStore();
    const s = new SnapshotScheduler(source, {
      store,
      sink: library(),
      clock: systemClock,
      tags: ['deribit', 'snapshot'],
      take: async (signal) => {
        const cfg = await store.get<SnapshotArgs>(`snapshotConfig/${source}`);
        if (!cfg) throw new Error('no snapshot settings saved for this schedule');
        return (await takeDeribitSnapshot(new DeribitClient({ baseUrl: cfg.baseUrl }), cfg, { signal })).surface;
      },
    });
    p = s.resume().then(() => s);
    schedulers.set(source, p);
    p.catch(() => schedulers.delete(source)); // a failed resume is retried on the next call
  }
  return p;
}

export const feedsJobs = {
  deribitSnapshot: (args: SnapshotArgs, ctx: JobContext) => outcome(() => snapshotAndStore(args, ctx)),

  binanceSeries: (args: SeriesArgs, ctx: JobContext) =>
    outcome(async () => {
      const client = new BinanceClient({ spotBaseUrl: args.spotBaseUrl, futuresBaseUrl: args.futuresBaseUrl });
      const table = await loadBinanceData(client, args, ctx);
      return { name: await saveSeries(table), table };
    }),

  importSeriesCsv: (args: { text: string; fileName: string }) =>
    outcome(async () => {
      const table = seriesFromCsv(args.text, args.fileName);
      return { name: await saveSeries(table, table.symbol ? undefined : args.fileName.replace(/\.csv$/i, '')), table };
    }),

  importSurfaceNpz: (args: { bytes: Uint8Array; fileName: string }) =>
    outcome(async () => {
      const surface = surfaceFromNpz(args.bytes, args.fileName);
      const r = await library().addEntry(surface, { name: surface.name ?? args.fileName, tags: ['imported', ...(surface.source.startsWith('deribit') ? ['deribit'] : [])] });
      return { ...r, surface };
    }),

  listSeries: async () => (await feedsStore().keys('series/')).map((k) => k.slice('series/'.length)),

  loadSeries: async (args: { name: string }) => (await feedsStore().get<SeriesTable>(seriesKey(args.name))) ?? null,

  /** The newest Deribit snapshot in the library, for the page's "latest surface". */
  latestSnapshot: async (args: { currency: string }): Promise<{ id: string; surface: Surface; count: number } | null> => {
    const entries = (await library().list()).filter((e) => e.tags.includes('deribit') && e.source === `deribit:${args.currency}`);
    if (!entries.length) return null;
    const newest = entries.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
    const surface = await library().get(newest.id);
    return surface ? { id: newest.id, surface, count: entries.length } : null;
  },

  /** A library surface as .npz bytes (the seed's keys) for download. */
  exportNpz: async (args: { id: string }): Promise<Uint8Array | null> => {
    const surface = await library().get(args.id);
    return surface ? surfaceToNpz(surface) : null;
  },

  scheduleStart: (args: SnapshotArgs & { intervalMs: number }) =>
    outcome(async () => {
      const { intervalMs, ...cfg } = args;
      await feedsStore().set(`snapshotConfig/deribit:${cfg.currency}`, cfg);
      const s = await scheduler(cfg.currency);
      await s.start(intervalMs);
      return s.current;
    }),

  scheduleStop: async (args: { currency: string }): Promise<SchedulerState> => {
    const s = await scheduler(args.currency);
    await s.stop();
    return s.current;
  },

  /** Current schedule; the first call after a reload resumes a schedule left running. */
  scheduleState: async (args: { currency: string }): Promise<SchedulerState> => (await scheduler(args.currency)).current,

  /** RealMarketData from a stored series and the library's snapshots of one currency. */
  buildMarketData: (args: { seriesName: string; currency: string; toleranceMs: number; name: string; dropUnaligned?: boolean }) =>
    outcome(async () => {
      const series = await feedsStore().get<SeriesTable>(seriesKey(args.seriesName));
      if (!series) throw new Error(`no stored series "${args.seriesName}"`);
      const entries = (await library().list()).filter((e) => e.source === `deribit:${args.currency}`);
      const newest = entries.reduce<(typeof entries)[number] | undefined>((a, b) => (!a || b.timestamp > a.timestamp ? b : a), undefined);
      // One grid per data set: snapshots on another grid (an older setting) are left out.
      const same = entries.filter((e) => newest && JSON.stringify([e.kGrid, e.tGrid]) === JSON.stringify([newest.kGrid, newest.tGrid]));
      const surfaces: { id: string; surface: Surface }[] = [];
      for (const e of same) {
        const s = await library().get(e.id);
        if (s) surfaces.push({ id: e.id, surface: s });
      }
      const d = buildRealMarketData({ name: args.name, series, surfaces, toleranceMs: args.toleranceMs, dropUnaligned: args.dropUnaligned });
      await saveRealMarketData(namespaced(rootStore(), MARKET_NAMESPACE), d);
      const matched = d.hasSurface.reduce((a, h) => a + h, 0);
      return { name: d.name, steps: d.times.length, matched, surfaces: surfaces.length, skippedOtherGrid: entries.length - same.length };
    }),
};

export type FeedsJobs = typeof feedsJobs;

exposeJobs(feedsJobs);
