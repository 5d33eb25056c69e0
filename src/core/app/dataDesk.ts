/**
 * The Data page's operations over one Store (IndexedDB in the browser, memory in tests): Deribit
 * snapshots into the surface library, Binance series under `feeds/series/<name>`, the snapshot
 * scheduler per currency, and RealMarketData assembled from both under `market/`.
 *
 * Fetching operations return an Outcome instead of throwing: a worker boundary (comlink) carries
 * only an error's message, and the page needs its kind (network/CORS, geo-block, rate limit …) to
 * offer the right way out.
 */
import { errorMessage, InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { namespaced, type Store } from '../store/store.ts';
import { SurfaceLibrary, type LibraryEntry } from '../surface/library.ts';
import { surfaceFromNpz, surfaceToNpz } from '../surface/files.ts';
import type { Surface } from '../surface/types.ts';
import { BinanceClient } from '../feeds/binance.ts';
import { DeribitClient } from '../feeds/deribit.ts';
import { FeedError, systemClock, type Clock, type FetchLike } from '../feeds/http.ts';
import { SnapshotScheduler, type SchedulerState, type Timers } from '../feeds/scheduler.ts';
import { loadBinanceData, seriesFromCsv, type SeriesTable } from '../feeds/series.ts';
import { takeDeribitSnapshot, type SnapshotOptions } from '../feeds/snapshot.ts';
import { buildRealMarketData, saveRealMarketData } from '../market/realMarketData.ts';

/** Shared with the Surfaces page: one library whichever page adds to it. */
export const LIBRARY_NAMESPACE = 'surfaces';
export const FEEDS_NAMESPACE = 'feeds';
/** RealMarketData sets, where the RL pages look for them. */
export const MARKET_NAMESPACE = 'market';

const SNAPSHOT_TAGS = ['deribit', 'snapshot'];

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { kind: string; message: string; feed?: string } };

/** Runs `fn`, turning a throw into an Outcome that keeps the error's kind. */
export async function outcome<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
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

export interface MarketDataArgs {
  seriesName: string;
  currency: string;
  toleranceMs: number;
  name: string;
  dropUnaligned?: boolean;
}

export interface DataDeskOptions {
  /** Injected so tests replay recorded answers in virtual time. */
  fetch?: FetchLike;
  clock?: Clock;
  timers?: Timers;
}

/** Source name of a currency's Deribit snapshots (also the schedule's and the dedup key's). */
export const deribitSource = (currency: string) => `deribit:${currency}`;

/**
 * Whether a library entry is an exchange snapshot of `currency`: taken from Deribit (by the
 * Snapshot button, the schedule, or `heston-lab deribit snapshot` and imported), never a generated
 * surface. The bundled samples and synthetic imports stay in the library but are not snapshots:
 * counting them would tell a new user they hold market data they do not.
 */
export function isExchangeSnapshot(e: Pick<LibraryEntry, 'source' | 'synthetic'>, currency: string): boolean {
  return e.source === deribitSource(currency) && !e.synthetic;
}

const seriesKey = (name: string) => `series/${name}`;
const configKey = (source: string) => `snapshotConfig/${source}`;

function newest<T extends { timestamp: number }>(xs: T[]): T | undefined {
  return xs.reduce<T | undefined>((a, b) => (!a || b.timestamp > a.timestamp ? b : a), undefined);
}

export class DataDesk {
  readonly library: SurfaceLibrary;
  private readonly feeds: Store;
  private readonly market: Store;
  // One scheduler per source, created (and resumed from the store) once: the promise is cached
  // so a start() arriving while resume() still reads the saved state waits for it.
  private readonly schedulers = new Map<string, Promise<SnapshotScheduler>>();

  constructor(
    root: Store,
    private readonly opts: DataDeskOptions = {},
  ) {
    this.library = new SurfaceLibrary(namespaced(root, LIBRARY_NAMESPACE));
    this.feeds = namespaced(root, FEEDS_NAMESPACE);
    this.market = namespaced(root, MARKET_NAMESPACE);
  }

  private deribit(baseUrl: string): DeribitClient {
    return new DeribitClient({ baseUrl, ...this.injected() });
  }

  private injected(): { fetch?: FetchLike; clock?: Clock } {
    return { ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}), ...(this.opts.clock ? { clock: this.opts.clock } : {}) };
  }

  /** One snapshot now, stored once per book time (a second click on the same book is a duplicate). */
  async snapshot(args: SnapshotArgs, ctx: JobContext = {}) {
    const r = await takeDeribitSnapshot(this.deribit(args.baseUrl), args, ctx);
    const added = await this.library.addEntry(r.surface, { name: r.surface.name, tags: SNAPSHOT_TAGS, dedupKey: `${r.surface.source}:${r.surface.timestamp}` });
    return { id: added.id, duplicate: added.duplicate, surface: r.surface, used: r.used, expiries: r.expiries, skipped: r.skipped.length };
  }

  async fetchSeries(args: SeriesArgs, ctx: JobContext = {}): Promise<{ name: string; table: SeriesTable }> {
    const client = new BinanceClient({ spotBaseUrl: args.spotBaseUrl, futuresBaseUrl: args.futuresBaseUrl, ...this.injected() });
    const table = await loadBinanceData(client, args, ctx);
    return { name: await this.saveSeries(table), table };
  }

  /** A series CSV; named after its symbol and interval, or after the file when it has none. */
  async importSeriesCsv(text: string, fileName: string): Promise<{ name: string; table: SeriesTable }> {
    const table = seriesFromCsv(text, fileName);
    return { name: await this.saveSeries(table, table.symbol ? undefined : fileName.replace(/\.csv$/i, '')), table };
  }

  /** A surface .npz into the library; `snapshotOf` names the currency when it is an exchange snapshot (see isExchangeSnapshot). */
  async importSurfaceNpz(bytes: Uint8Array, fileName: string): Promise<{ id: string; duplicate: boolean; surface: Surface; snapshotOf: string | undefined }> {
    const surface = surfaceFromNpz(bytes, fileName);
    const r = await this.library.addEntry(surface, { name: surface.name ?? fileName, tags: ['imported', ...(surface.source.startsWith('deribit') ? ['deribit'] : [])] });
    const entry = await this.library.entry(r.id);
    const currency = /^deribit:([A-Z0-9]+)$/.exec(surface.source)?.[1];
    return { ...r, surface, snapshotOf: entry && currency && isExchangeSnapshot(entry, currency) ? currency : undefined };
  }

  async saveSeries(t: SeriesTable, name = `${t.symbol || 'series'}-${t.interval || 'x'}`): Promise<string> {
    await this.feeds.set(seriesKey(name), t);
    return name;
  }

  async listSeries(): Promise<string[]> {
    return (await this.feeds.keys('series/')).map((k) => k.slice('series/'.length));
  }

  async loadSeries(name: string): Promise<SeriesTable | null> {
    return (await this.feeds.get<SeriesTable>(seriesKey(name))) ?? null;
  }

  private async snapshotEntries(currency: string): Promise<LibraryEntry[]> {
    return (await this.library.list()).filter((e) => isExchangeSnapshot(e, currency));
  }

  /** The newest exchange snapshot of a currency in the library, with how many there are (synthetic surfaces never count). */
  async latestSnapshot(currency: string): Promise<{ id: string; surface: Surface; count: number } | null> {
    const entries = await this.snapshotEntries(currency);
    const e = newest(entries);
    const surface = e && (await this.library.get(e.id));
    return e && surface ? { id: e.id, surface, count: entries.length } : null;
  }

  /** A library surface as .npz bytes (the seed's keys), or null when it is gone. */
  async exportNpz(id: string): Promise<Uint8Array | null> {
    const surface = await this.library.get(id);
    return surface ? surfaceToNpz(surface) : null;
  }

  scheduler(currency: string): Promise<SnapshotScheduler> {
    const source = deribitSource(currency);
    let p = this.schedulers.get(source);
    if (!p) {
      const s = new SnapshotScheduler(source, {
        store: this.feeds,
        sink: this.library,
        clock: this.opts.clock ?? systemClock,
        ...(this.opts.timers ? { timers: this.opts.timers } : {}),
        tags: SNAPSHOT_TAGS,
        // The settings are read at each run, so a restart resumes with the ones last saved.
        take: async (signal) => {
          const cfg = await this.feeds.get<SnapshotArgs>(configKey(source));
          if (!cfg) throw new InputError('no snapshot settings saved for this schedule', source);
          return (await takeDeribitSnapshot(this.deribit(cfg.baseUrl), cfg, { signal })).surface;
        },
      });
      p = s.resume().then(() => s);
      this.schedulers.set(source, p);
      p.catch(() => this.schedulers.delete(source)); // a failed resume is retried on the next call
    }
    return p;
  }

  async scheduleStart(args: SnapshotArgs & { intervalMs: number }): Promise<SchedulerState> {
    const { intervalMs, ...cfg } = args;
    await this.feeds.set(configKey(deribitSource(cfg.currency)), cfg);
    const s = await this.scheduler(cfg.currency);
    await s.start(intervalMs);
    return s.current;
  }

  async scheduleStop(currency: string): Promise<SchedulerState> {
    const s = await this.scheduler(currency);
    await s.stop();
    return s.current;
  }

  /** Current schedule; the first call after a reload resumes a schedule left running. */
  async scheduleState(currency: string): Promise<SchedulerState> {
    return (await this.scheduler(currency)).current;
  }

  /** Stops every scheduler's timers (the stored schedules stay as they are). */
  async dispose(): Promise<void> {
    for (const p of this.schedulers.values()) (await p.catch(() => undefined))?.dispose();
    this.schedulers.clear();
  }

  /**
   * RealMarketData from a stored series and the library's snapshots of one currency, stored
   * under `market/`. One grid per data set: snapshots on another grid than the newest one (an
   * older setting) are left out and counted.
   */
  async buildMarketData(args: MarketDataArgs) {
    const series = await this.loadSeries(args.seriesName);
    if (!series) throw new InputError(`no stored series "${args.seriesName}"`, 'series');
    const entries = await this.snapshotEntries(args.currency);
    const ref = newest(entries);
    const sameGrid = (e: LibraryEntry) => ref !== undefined && JSON.stringify([e.kGrid, e.tGrid]) === JSON.stringify([ref.kGrid, ref.tGrid]);
    const same = entries.filter(sameGrid);
    const surfaces: { id: string; surface: Surface }[] = [];
    for (const e of same) {
      const s = await this.library.get(e.id);
      if (s) surfaces.push({ id: e.id, surface: s });
    }
    const d = buildRealMarketData({ name: args.name, series, surfaces, toleranceMs: args.toleranceMs, dropUnaligned: args.dropUnaligned });
    await saveRealMarketData(this.market, d);
    const matched = d.hasSurface.reduce((a, h) => a + h, 0);
    return { name: d.name, steps: d.times.length, matched, surfaces: surfaces.length, skippedOtherGrid: entries.length - same.length };
  }
}
