/**
 * Recording option quotes from Deribit's WebSocket (src/core/feeds/deribitStream.ts, the channels
 * `markprice.options.{index}` for the whole chain and `deribit_price_index.{index}` for the spot)
 * into a QuoteStore, at a chosen sampling interval — the seed's TWS → Kafka → TimescaleDB leg.
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
import { errorMessage } from '../errors.ts';
import { parseInstrumentName } from '../io/instruments.ts';
import type { MarkPriceRow, StreamHandlers, StreamState } from '../feeds/deribitStream.ts';
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
      // Inverse options are priced in the coin; the mark is stored in the index's currency.
      quotes.push({ tsMs: atMs, underlying: this.config.underlying, expiryMs: inst.expiry, strike: inst.strike, right: inst.isCall ? 'C' : 'P', iv: m.iv, spot: this.index, mark: inst.linear ? m.markPriceCoin : m.markPriceCoin * this.index });
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
