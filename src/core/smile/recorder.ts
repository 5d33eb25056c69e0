/**
 * Recording option quotes from Deribit's WebSocket (src/core/feeds/deribitStream.ts) into a
 * QuoteStore, at a chosen sampling interval — the seed's TWS → Kafka → TimescaleDB leg. Two
 * sources (recordChannels): `markprice.options.{index}` for the whole chain (mark and iv only), or
 * `ticker.{instrument}.100ms` for chosen contracts (mark, iv and the best bid / ask, which the
 * chain channel lacks); `deribit_price_index.{index}` gives the spot in both.
 *
 * The stream pushes marks whenever they move (~1 s); the recorder keeps the latest mark of every
 * instrument and, every `samplingMs`, writes one quote per instrument stamped with the sampling
 * instant (aligned to the interval grid), so a chain shares one timestamp as the sequence builder
 * expects. What is NOT recorded, and counted instead:
 *  - samples while the stream is stale or not open (a reconnecting stream's last marks would be
 *    recorded as if they were fresh): `skippedStale`;
 *  - marks older than `maxAgeMs` (an instrument that stopped updating): `droppedOld`;
 *  - samples before the first index price (no spot): `skippedNoIndex`.
 * A sample that hits a full store (QuotaError) stays buffered in the QuoteStore and is retried with
 * the next one; what was stored before is untouched.
 */
import { errorMessage, InputError } from '../errors.ts';
import { parseInstrumentName } from '../io/instruments.ts';
import { liveChannels, type MarkPriceRow, type StreamHandlers, type StreamState } from '../feeds/deribitStream.ts';
import type { Timers } from '../feeds/scheduler.ts';
import { systemTimers } from '../feeds/scheduler.ts';
import type { QuoteRecord } from './quotes.ts';
import type { QuoteStore } from './quoteStore.ts';

export interface RecorderConfig {
  /** Underlying name stored with the quotes ('BTC'). */
  underlying: string;
  samplingMs: number;
  /** Marks older than this at a sample are dropped (default 3 sampling intervals). */
  maxAgeMs?: number;
}

/** Deribit's fastest public ticker interval ('raw' needs an authorised connection). */
const TICKER_INTERVAL = '100ms';

/**
 * The instrument names of chosen contracts, checked: each must be a Deribit option on `currency`
 * (e.g. BTC-27DEC24-100000-C; linear BTC_USDC-… too). Blank entries are ignored, repeats dropped.
 */
export function parseContracts(currency: string, names: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of names) {
    const name = raw.trim().toUpperCase();
    if (!name) continue;
    const inst = parseInstrumentName(name);
    if (inst.kind !== 'option') throw new InputError(`"${name}" is not an option (like ${currency.toUpperCase()}-27DEC24-100000-C)`, 'contracts');
    if (inst.base !== currency.toUpperCase()) throw new InputError(`"${name}" is not a ${currency.toUpperCase()} option`, 'contracts');
    out.add(name);
  }
  return [...out];
}

/**
 * Channels to record: the whole chain's marks, or (contracts given) one ticker per chosen
 * contract; the index for the spot either way.
 */
export function recordChannels(currency: string, contracts: readonly string[] = []): string[] {
  const chosen = parseContracts(currency, contracts);
  if (chosen.length === 0) return liveChannels(currency);
  return [...chosen.map((c) => `ticker.${c}.${TICKER_INTERVAL}`), `deribit_price_index.${currency.toLowerCase()}_usd`];
}

/** Best bid / ask of a ticker, in coin (inverse) or USDC (linear) like the mark. */
interface Book {
  bidCoin: number | undefined;
  askCoin: number | undefined;
}

const positive = (x: unknown): number | undefined => {
  const v = Number(x);
  return v > 0 && Number.isFinite(v) ? v : undefined;
};

export interface RecorderStats {
  samples: number;
  quotesWritten: number;
  skippedStale: number;
  skippedNoIndex: number;
  droppedOld: number;
  /** Quotes waiting in the store's buffer (after a refused write). */
  pending: number;
  lastSampleMs: number | null;
  lastError: string | null;
  stream: StreamState | null;
}

export interface RecorderDeps {
  store: QuoteStore;
  clock?: { now(): number };
  timers?: Timers;
  /** Every written sample (the page's live smile and prediction). */
  onSample?(quotes: QuoteRecord[], stats: RecorderStats): void;
}

export class QuoteRecorder {
  private readonly marks = new Map<string, MarkPriceRow>();
  private readonly books = new Map<string, Book>();
  private index: number | undefined;
  private stream: StreamState | null = null;
  private timer: unknown;
  private running = false;
  private lastScheduled: number | undefined;
  private readonly clock: { now(): number };
  private readonly timers: Timers;
  readonly stats: RecorderStats = { samples: 0, quotesWritten: 0, skippedStale: 0, skippedNoIndex: 0, droppedOld: 0, pending: 0, lastSampleMs: null, lastError: null, stream: null };

  constructor(
    readonly config: RecorderConfig,
    private readonly deps: RecorderDeps,
  ) {
    if (!(config.samplingMs >= 100)) throw new Error('samplingMs must be at least 100 ms');
    this.clock = deps.clock ?? { now: () => Date.now() };
    this.timers = deps.timers ?? systemTimers;
  }

  /** The handlers to give the DeribitStream. */
  handlers(): StreamHandlers {
    return {
      onState: (s) => {
        this.stream = s;
        this.stats.stream = s;
      },
      onMarkPrices: (rows) => {
        for (const r of rows) if (r.iv > 0 && Number.isFinite(r.timestamp)) this.marks.set(r.instrumentName, r);
      },
      onTicker: (d) => {
        // ticker.* gives mark_iv in PERCENT (55.1), markprice.options a fraction; a contract
        // whose book is not open (settlement, halted) has no tradable quote to record.
        const iv = Number(d.mark_iv) / 100;
        const name = String(d.instrument_name);
        if (d.state !== undefined && d.state !== 'open') {
          this.marks.delete(name);
          return;
        }
        if (!(iv > 0) || !Number.isFinite(Number(d.timestamp)) || !(Number(d.mark_price) >= 0)) return;
        this.marks.set(name, { instrumentName: name, markPriceCoin: Number(d.mark_price), iv, timestamp: Number(d.timestamp) });
        this.books.set(name, { bidCoin: positive(d.best_bid_price), askCoin: positive(d.best_ask_price) });
      },
      onIndexPrice: (p) => {
        if (p.price > 0) this.index = p.price;
      },
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const now = this.clock.now();
    // Never the same grid time twice: a timer may fire a millisecond before the wall clock
    // reaches its due time, and the same stamp again would overwrite the previous sample.
    const last = this.lastScheduled ?? -Infinity;
    const next = Math.max((Math.floor(now / this.config.samplingMs) + 1) * this.config.samplingMs, last + this.config.samplingMs);
    this.lastScheduled = next;
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      void this.sample(next).finally(() => this.running && this.schedule());
    }, Math.max(0, next - now));
  }

  /** Takes one sample stamped `atMs` (called by the timer; public for tests and a manual "sample now"). */
  async sample(atMs: number): Promise<QuoteRecord[]> {
    const s = this.stream;
    if (!s || s.status !== 'open' || s.stale) {
      this.stats.skippedStale++;
      return [];
    }
    if (this.index === undefined) {
      this.stats.skippedNoIndex++;
      return [];
    }
    const maxAge = this.config.maxAgeMs ?? 3 * this.config.samplingMs;
    const quotes: QuoteRecord[] = [];
    for (const m of this.marks.values()) {
      if (atMs - m.timestamp > maxAge) {
        this.stats.droppedOld++;
        continue;
      }
      let inst;
      try {
        inst = parseInstrumentName(m.instrumentName);
      } catch {
        continue;
      }
      if (inst.kind !== 'option' || inst.expiry === undefined || inst.strike === undefined || inst.expiry <= atMs) continue;
      // Inverse options are priced in the coin; mark, bid and ask are stored in the index's currency.
      const usd = (coin: number) => (inst.linear ? coin : coin * this.index!);
      const q: QuoteRecord = { tsMs: atMs, underlying: this.config.underlying, expiryMs: inst.expiry, strike: inst.strike, right: inst.isCall ? 'C' : 'P', iv: m.iv, spot: this.index, mark: usd(m.markPriceCoin) };
      const book = this.books.get(m.instrumentName);
      if (book?.bidCoin !== undefined) q.bid = usd(book.bidCoin);
      if (book?.askCoin !== undefined) q.ask = usd(book.askCoin);
      quotes.push(q);
    }
    this.stats.samples++;
    this.stats.lastSampleMs = atMs;
    try {
      this.stats.quotesWritten += await this.deps.store.write(quotes);
      this.stats.lastError = null;
    } catch (e) {
      this.stats.lastError = errorMessage(e);
    }
    this.stats.pending = this.deps.store.pendingCount;
    this.deps.onSample?.(quotes, { ...this.stats });
    return quotes;
  }
}
