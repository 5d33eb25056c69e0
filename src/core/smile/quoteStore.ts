/**
 * QuoteStore: the seed's TimescaleDB `option_features` table on the lab's Store (IndexedDB in the
 * browser, a directory of files in Node). Quotes are kept column-wise in time partitions (one key
 * per underlying and UTC day by default — a day of a 42-contract chain sampled every minute is
 * ~60k quotes, ~4 MB as float64 columns), so a time-range query reads only the days it spans.
 *
 * Writes are batched: append() buffers, flush() merges the buffer into its partitions and writes
 * every touched partition and the index in ONE setMany (atomic in both stores). A refused write
 * (QuotaError: the browser's quota or a full disk) therefore changes nothing that was stored, and
 * the batch stays buffered so a later flush (after the user frees space) can still land it.
 * Retention (maximum age and/or size) drops whole partitions, oldest first, after a write landed.
 */
import { defaultsOf, type ConfigSpec } from '../config.ts';
import { InputError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { compareQuotes, contractKey, type OptionRight, type QuoteRecord } from './quotes.ts';

const DAY_MS = 86_400_000;
const INDEX_KEY = 'index';

/** Column-wise partition as stored (NaN = unknown bid/ask/mark). */
interface Partition {
  underlying: string;
  startMs: number;
  tsMs: Float64Array;
  expiryMs: Float64Array;
  strike: Float64Array;
  /** 0 call, 1 put. */
  right: Uint8Array;
  iv: Float64Array;
  spot: Float64Array;
  bid: Float64Array;
  ask: Float64Array;
  mark: Float64Array;
}

export interface PartitionInfo {
  key: string;
  underlying: string;
  startMs: number;
  endMs: number;
  count: number;
  bytes: number;
}

interface Index {
  partitions: Record<string, PartitionInfo>;
}

export interface QuoteStoreConfig {
  /** Width of a time partition (default one UTC day). */
  partitionMs: number;
  /** Drop partitions that end more than this before the newest quote (null: keep all). */
  retentionMs: number | null;
  /** Drop the oldest partitions while the total exceeds this many bytes (null: no limit). */
  maxBytes: number | null;
}

export const DEFAULT_QUOTE_STORE_CONFIG: QuoteStoreConfig = { partitionMs: DAY_MS, retentionMs: null, maxBytes: null };

/** The retention limits as people set them (the Smile page's fields, `smile import`'s flags). */
export interface QuoteRetention {
  retentionDays: number | null;
  maxMb: number | null;
}

export const QUOTE_RETENTION_SPEC: ConfigSpec<QuoteRetention> = {
  // Partitions are whole UTC days, so a day count is the finest limit that drops anything.
  retentionDays: { default: null, nullable: true, min: 1, integer: true, unit: 'days', doc: 'keep the day partitions ending within this many days of the newest quote (none: keep all)' },
  // 1 MB holds ~16 000 quotes (65 bytes each): a 42-contract chain sampled every 10 s for ~1 h.
  maxMb: { default: null, nullable: true, min: 0.01, unit: 'MB', doc: 'drop the oldest day partitions while the store exceeds this size (none: no limit; the newest day is always kept)' },
};
export const DEFAULT_QUOTE_RETENTION: QuoteRetention = defaultsOf(QUOTE_RETENTION_SPEC);

/** Retention as QuoteStoreConfig limits (MB = 10^6 bytes, as the store's size is shown). */
export function retentionLimits(r: QuoteRetention): Pick<QuoteStoreConfig, 'retentionMs' | 'maxBytes'> {
  return { retentionMs: r.retentionDays === null ? null : r.retentionDays * DAY_MS, maxBytes: r.maxMb === null ? null : r.maxMb * 1e6 };
}

export interface QuoteQuery {
  fromMs?: number;
  /** Exclusive. */
  toMs?: number;
  underlying?: string;
  expiryMs?: number;
  contract?: { expiryMs: number; strike: number; right: OptionRight };
}

export interface StoreSummary {
  count: number;
  bytes: number;
  partitions: number;
  firstMs: number | null;
  lastMs: number | null;
  underlyings: string[];
  expiries: number[];
  /** Quotes still buffered (not yet written). */
  pending: number;
}

/** 8 bytes per float64 column (8 of them) + 1 for right. */
const BYTES_PER_QUOTE = 8 * 8 + 1;

function toPartition(underlying: string, startMs: number, qs: readonly QuoteRecord[]): Partition {
  const col = (f: (q: QuoteRecord) => number) => Float64Array.from(qs, f);
  return {
    underlying,
    startMs,
    tsMs: col((q) => q.tsMs),
    expiryMs: col((q) => q.expiryMs),
    strike: col((q) => q.strike),
    right: Uint8Array.from(qs, (q) => (q.right === 'P' ? 1 : 0)),
    iv: col((q) => q.iv),
    spot: col((q) => q.spot),
    bid: col((q) => q.bid ?? Number.NaN),
    ask: col((q) => q.ask ?? Number.NaN),
    mark: col((q) => q.mark ?? Number.NaN),
  };
}

function fromPartition(p: Partition): QuoteRecord[] {
  const out: QuoteRecord[] = [];
  for (let i = 0; i < p.tsMs.length; i++) {
    const q: QuoteRecord = { tsMs: p.tsMs[i]!, underlying: p.underlying, expiryMs: p.expiryMs[i]!, strike: p.strike[i]!, right: p.right[i] ? 'P' : 'C', iv: p.iv[i]!, spot: p.spot[i]! };
    if (!Number.isNaN(p.bid[i]!)) q.bid = p.bid[i]!;
    if (!Number.isNaN(p.ask[i]!)) q.ask = p.ask[i]!;
    if (!Number.isNaN(p.mark[i]!)) q.mark = p.mark[i]!;
    out.push(q);
  }
  return out;
}

export class QuoteStore {
  readonly config: QuoteStoreConfig;
  private pending: QuoteRecord[] = [];
  /** Quotes the retention limits have removed since this QuoteStore was opened. */
  droppedByRetention = 0;

  /** `store` should be a namespaced view (namespaced(store, 'smile/quotes')). */
  constructor(
    private readonly store: Store,
    config: Partial<QuoteStoreConfig> = {},
  ) {
    this.config = { ...DEFAULT_QUOTE_STORE_CONFIG, ...config };
    if (!(this.config.partitionMs >= 60_000)) throw new InputError('partitionMs must be at least one minute', 'QuoteStore');
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  private partitionKey(underlying: string, startMs: number): string {
    return `p/${underlying}/${new Date(startMs).toISOString()}`;
  }

  private async index(): Promise<Index> {
    return (await this.store.get<Index>(INDEX_KEY)) ?? { partitions: {} };
  }

  /** Buffers quotes; nothing is written until flush(). */
  append(quotes: readonly QuoteRecord[]): void {
    for (const q of quotes) {
      if (!Number.isFinite(q.tsMs) || !(q.iv > 0) || !(q.spot > 0) || !(q.strike > 0)) throw new InputError(`quote ${contractKey(q)} at ${q.tsMs} has a non-finite or non-positive field`, 'QuoteStore.append');
    }
    this.pending.push(...quotes);
  }

  /**
   * Writes the buffer in one atomic batch. On QuotaError nothing stored changes and the buffer is
   * kept (the error is rethrown for the caller to show). Returns the number of quotes written.
   */
  async flush(): Promise<number> {
    if (this.pending.length === 0) return 0;
    const batch = this.pending;
    const groups = new Map<string, { underlying: string; startMs: number; quotes: QuoteRecord[] }>();
    for (const q of batch) {
      const startMs = Math.floor(q.tsMs / this.config.partitionMs) * this.config.partitionMs;
      const key = this.partitionKey(q.underlying, startMs);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { underlying: q.underlying, startMs, quotes: [] }));
      g.quotes.push(q);
    }
    const index = await this.index();
    const next: Index = { partitions: { ...index.partitions } };
    const entries: [string, unknown][] = [];
    for (const [key, g] of groups) {
      const old = index.partitions[key] ? fromPartition((await this.store.get<Partition>(key))!) : [];
      // A later write of the same (time, contract) replaces the earlier one.
      const merged = new Map<string, QuoteRecord>();
      for (const q of [...old, ...g.quotes]) merged.set(`${q.tsMs}|${contractKey(q)}`, q);
      const all = [...merged.values()].sort(compareQuotes);
      entries.push([key, toPartition(g.underlying, g.startMs, all)]);
      next.partitions[key] = { key, underlying: g.underlying, startMs: g.startMs, endMs: g.startMs + this.config.partitionMs, count: all.length, bytes: all.length * BYTES_PER_QUOTE };
    }
    entries.push([INDEX_KEY, next]);
    await this.store.setMany(entries); // throws QuotaError with nothing changed; pending kept
    this.pending = this.pending.slice(batch.length);
    await this.applyRetention(next);
    return batch.length;
  }

  /** Appends and flushes; a QuotaError leaves these quotes buffered. */
  async write(quotes: readonly QuoteRecord[]): Promise<number> {
    this.append(quotes);
    return this.flush();
  }

  /**
   * Changes the retention limits (the page's and the CLI's settings) and applies them to what is
   * stored now; returns the number of quotes dropped. Limits are this QuoteStore's, not saved in
   * the store: whoever opens it says what to keep.
   */
  async setRetention(limits: Partial<Pick<QuoteStoreConfig, 'retentionMs' | 'maxBytes'>>): Promise<number> {
    for (const k of ['retentionMs', 'maxBytes'] as const) {
      const v = limits[k];
      if (v !== undefined && v !== null && !(v > 0 && Number.isFinite(v))) throw new InputError(`${k} must be a positive number or null (no limit), got ${v}`, 'QuoteStore.setRetention');
    }
    Object.assign(this.config, limits);
    const before = this.droppedByRetention;
    await this.applyRetention(await this.index());
    return this.droppedByRetention - before;
  }

  /** Drops the buffered quotes (after a QuotaError the user chose not to retry). */
  discardPending(): number {
    const n = this.pending.length;
    this.pending = [];
    return n;
  }

  private async applyRetention(index: Index): Promise<void> {
    const { retentionMs, maxBytes } = this.config;
    if (retentionMs === null && maxBytes === null) return;
    const parts = Object.values(index.partitions).sort((a, b) => a.startMs - b.startMs);
    const newest = Math.max(...parts.map((p) => p.endMs));
    const drop = new Set<string>();
    if (retentionMs !== null) for (const p of parts) if (p.endMs < newest - retentionMs) drop.add(p.key);
    if (maxBytes !== null) {
      let total = parts.filter((p) => !drop.has(p.key)).reduce((s, p) => s + p.bytes, 0);
      for (const p of parts) {
        if (total <= maxBytes || parts.length - drop.size <= 1) break;
        if (drop.has(p.key)) continue;
        drop.add(p.key);
        total -= p.bytes;
      }
    }
    if (drop.size === 0) return;
    const kept: Index = { partitions: {} };
    for (const p of parts) if (!drop.has(p.key)) kept.partitions[p.key] = p;
    // Index first: a crash between the two leaves orphan partitions, never an index entry
    // pointing at nothing.
    await this.store.set(INDEX_KEY, kept);
    for (const k of drop) await this.store.delete(k);
    for (const k of drop) this.droppedByRetention += index.partitions[k]!.count;
  }

  async partitions(): Promise<PartitionInfo[]> {
    return Object.values((await this.index()).partitions).sort((a, b) => a.startMs - b.startMs || (a.underlying < b.underlying ? -1 : 1));
  }

  /** Stored quotes matching `q`, sorted by time then contract (buffered ones are not included). */
  async query(q: QuoteQuery = {}): Promise<QuoteRecord[]> {
    const from = q.fromMs ?? -Infinity;
    const to = q.toMs ?? Infinity;
    const out: QuoteRecord[] = [];
    for (const info of await this.partitions()) {
      if (info.endMs <= from || info.startMs >= to) continue;
      if (q.underlying !== undefined && info.underlying !== q.underlying) continue;
      const p = await this.store.get<Partition>(info.key);
      if (!p) continue;
      for (const r of fromPartition(p)) {
        if (r.tsMs < from || r.tsMs >= to) continue;
        if (q.expiryMs !== undefined && r.expiryMs !== q.expiryMs) continue;
        if (q.contract && (r.expiryMs !== q.contract.expiryMs || r.strike !== q.contract.strike || r.right !== q.contract.right)) continue;
        out.push(r);
      }
    }
    return out.sort(compareQuotes);
  }

  async summary(): Promise<StoreSummary> {
    const parts = await this.partitions();
    const expiries = new Set<number>();
    let firstMs: number | null = null;
    let lastMs: number | null = null;
    for (const info of parts) {
      const p = await this.store.get<Partition>(info.key);
      if (!p || p.tsMs.length === 0) continue;
      for (const e of p.expiryMs) expiries.add(e);
      firstMs = Math.min(firstMs ?? Infinity, p.tsMs[0]!);
      lastMs = Math.max(lastMs ?? -Infinity, p.tsMs[p.tsMs.length - 1]!);
    }
    return {
      count: parts.reduce((s, p) => s + p.count, 0),
      bytes: parts.reduce((s, p) => s + p.bytes, 0),
      partitions: parts.length,
      firstMs,
      lastMs,
      underlyings: [...new Set(parts.map((p) => p.underlying))].sort(),
      expiries: [...expiries].sort((a, b) => a - b),
      pending: this.pending.length,
    };
  }

  /** Deletes everything stored (the buffer too). */
  async clear(): Promise<void> {
    const parts = await this.partitions();
    await this.store.set(INDEX_KEY, { partitions: {} });
    for (const p of parts) await this.store.delete(p.key);
    this.pending = [];
  }
}

