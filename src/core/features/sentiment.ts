/**
 * SentimentFeatureModule and its providers (seed II.7 and VIII.5). The seed's SentimentProvider
 * fetched one snapshot per step (sentiment_score, msg_rate, fear_greed) and the module copied it;
 * here a provider returns a history of records, each stamped with the time it became known, and
 * the module aligns them AS OF each step: step t sees the latest record at or before its time, never
 * a later one. Before the first record the features are NaN (the "window" has not filled).
 *
 * Providers:
 *  - NeutralSentimentProvider: zeros at every step, `neutral: true` — the default, and flagged as
 *    such in the feature matrix's notes so nobody mistakes it for a signal;
 *  - CsvSentimentProvider: a CSV with columns timestamp, sentiment_score, msg_rate, fear_greed
 *    (timestamp: ISO or epoch s/ms; rows in time order; any other column is ignored);
 *  - FearGreedProvider: the Crypto Fear & Greed Index history (alternative.me `/fng/?limit=0`:
 *    daily, values as strings, UNIX-second timestamps, newest first). fear_greed is the index
 *    (0–100), sentiment_score = (index − 50) / 50, msg_rate = 0 (the index has none). A refused
 *    call (network, CORS, HTTP error, bad body) falls back to a CSV provider when one is given,
 *    with a note saying why; without one it throws, naming the CSV path as the way out.
 */
import { InputError, LabError, errorMessage } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { normHeader, parseCsv, parseTimeMs, csvNumber } from '../io/csv.ts';
import type { FetchLike } from '../feeds/http.ts';
import type { MarketData } from '../market/marketData.ts';
import type { MarketFeatureModule } from './featureEngine.ts';

export interface SentimentSnapshot {
  sentimentScore: number;
  msgRate: number;
  fearGreed: number;
}

export interface SentimentRecord extends SentimentSnapshot {
  /** When the record became known (ms UTC). */
  timeMs: number;
}

export interface SentimentProvider {
  readonly name: string;
  /** True for a provider that carries no information (zeros). */
  readonly neutral: boolean;
  /** Records in time order covering [startMs, endMs] (earlier ones too, for as-of alignment). */
  records(range: { startMs: number; endMs: number }, ctx?: JobContext): Promise<SentimentRecord[]>;
  /** What happened while fetching (a fallback, …). */
  readonly notes?: string[];
}

export class NeutralSentimentProvider implements SentimentProvider {
  readonly name = 'neutral';
  readonly neutral = true;
  async records(range: { startMs: number }): Promise<SentimentRecord[]> {
    return [{ timeMs: range.startMs, sentimentScore: 0, msgRate: 0, fearGreed: 0 }];
  }
}

/** Parses the sentiment CSV (columns timestamp, sentiment_score, msg_rate, fear_greed). */
export function parseSentimentCsv(text: string, file: string): SentimentRecord[] {
  const csv = parseCsv(text, file);
  const cols = (csv.rows[0] ?? []).map(normHeader);
  const need = ['timestamp', 'sentiment_score', 'msg_rate', 'fear_greed'];
  const idx = need.map((c) => cols.indexOf(c));
  const missing = need.filter((_, i) => idx[i]! < 0);
  if (missing.length) throw new InputError(`missing column(s) ${missing.join(', ')} (the sentiment CSV has columns timestamp, sentiment_score, msg_rate, fear_greed)`, file);
  const out: SentimentRecord[] = csv.rows.slice(1).map((row, r) => {
    const where = (c: string) => `${file}: line ${csv.firstLine + r + 1}, column ${c}`;
    return {
      timeMs: parseTimeMs(row[idx[0]!] ?? '', where('timestamp')),
      sentimentScore: csvNumber(row[idx[1]!], where('sentiment_score')),
      msgRate: csvNumber(row[idx[2]!], where('msg_rate')),
      fearGreed: csvNumber(row[idx[3]!], where('fear_greed')),
    };
  });
  if (out.length === 0) throw new InputError('the sentiment CSV has no rows', file);
  for (let i = 1; i < out.length; i++) if (!(out[i]!.timeMs > out[i - 1]!.timeMs)) throw new InputError(`timestamps must increase: line ${csv.firstLine + i + 1} is not after line ${csv.firstLine + i}`, file);
  return out;
}

export class CsvSentimentProvider implements SentimentProvider {
  readonly neutral = false;
  readonly name: string;
  private readonly rows: SentimentRecord[];
  constructor(text: string, file: string) {
    this.name = `csv:${file}`;
    this.rows = parseSentimentCsv(text, file);
  }
  async records(): Promise<SentimentRecord[]> {
    return this.rows;
  }
}

/** alternative.me's public API (override for a mirror, a proxy or the test replay server). */
export const FEAR_GREED_BASE_URL = 'https://api.alternative.me';

export interface FearGreedOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  timeoutMs?: number;
  /** Used, with a note, when the API refuses. */
  fallback?: SentimentProvider;
}

/** A refused or malformed Fear & Greed call. */
export class SentimentFeedError extends LabError {
  constructor(message: string, url: string) {
    super(message, `fear&greed ${url.split('?')[0]}`);
    this.name = 'SentimentFeedError';
  }
}

/** Parses the /fng/ body (documented shape: data[] of {value, timestamp} strings, newest first). */
export function parseFearGreed(body: unknown, url: string): SentimentRecord[] {
  const b = body as { data?: unknown; metadata?: { error?: unknown } };
  if (b?.metadata?.error) throw new SentimentFeedError(`the API answered an error: ${String(b.metadata.error)}`, url);
  if (!Array.isArray(b?.data)) throw new SentimentFeedError('the answer has no data array (not the documented /fng/ format)', url);
  const out = b.data.map((d: { value?: unknown; timestamp?: unknown }, i: number) => {
    const value = Number(d?.value);
    const ts = Number(d?.timestamp);
    if (!Number.isFinite(value) || !Number.isFinite(ts)) throw new SentimentFeedError(`data[${i}]: value "${String(d?.value)}" or timestamp "${String(d?.timestamp)}" is not a number`, url);
    return { timeMs: ts * 1000, fearGreed: value, sentimentScore: (value - 50) / 50, msgRate: 0 };
  });
  out.sort((a, b2) => a.timeMs - b2.timeMs);
  return out;
}

export class FearGreedProvider implements SentimentProvider {
  readonly name = 'fear-greed';
  readonly neutral = false;
  readonly notes: string[] = [];
  constructor(private readonly opts: FearGreedOptions = {}) {}

  async records(range: { startMs: number; endMs: number }, ctx: JobContext = {}): Promise<SentimentRecord[]> {
    const url = `${(this.opts.baseUrl ?? FEAR_GREED_BASE_URL).replace(/\/+$/, '')}/fng/?limit=0&format=json`;
    try {
      return await this.fetchHistory(url, ctx);
    } catch (e) {
      if (!(e instanceof SentimentFeedError) || !this.opts.fallback) throw e instanceof SentimentFeedError ? new SentimentFeedError(`${e.message.replace(/^fear&greed [^:]*: /, '')}. Load a sentiment CSV (timestamp, sentiment_score, msg_rate, fear_greed) instead`, url) : e;
      this.notes.push(`the Fear & Greed API was refused (${errorMessage(e)}); using ${this.opts.fallback.name} instead`);
      return this.opts.fallback.records(range, ctx);
    }
  }

  private async fetchHistory(url: string, ctx: JobContext): Promise<SentimentRecord[]> {
    const f = this.opts.fetch ?? ((u, init) => fetch(u, init));
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), this.opts.timeoutMs ?? 15_000);
    let res: Response;
    let text: string;
    try {
      res = await f(url, { signal: controller.signal, headers: { accept: 'application/json' } });
      text = await res.text();
    } catch (e) {
      if (ctx.signal?.aborted) throw e;
      throw new SentimentFeedError(`request failed before any answer (${errorMessage(e)}): offline, unreachable, timed out or refused by CORS`, url);
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
    }
    if (!res.ok) throw new SentimentFeedError(`HTTP ${res.status}`, url);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SentimentFeedError(`HTTP ${res.status}: answer is not JSON ("${text.slice(0, 60)}")`, url);
    }
    return parseFearGreed(body, url);
  }
}

export interface SentimentContext {
  /** The latest record at or before the step, or null before the first. */
  record: SentimentSnapshot | null;
}

export class SentimentFeatureModule implements MarketFeatureModule<SentimentContext> {
  readonly name = 'sentiment';
  readonly featureNames = ['fear_greed', 'msg_rate', 'sentiment_score'] as const;
  readonly lookback = 1;
  readonly notes: string[] = [];
  private asof: Int32Array;
  private rows: SentimentRecord[] = [];

  constructor(
    private readonly market: MarketData,
    readonly provider: SentimentProvider,
  ) {
    this.asof = new Int32Array(market.timesMs.length).fill(-1);
  }

  async prepare(ctx: JobContext): Promise<void> {
    const t = this.market.timesMs;
    this.rows = await this.provider.records({ startMs: t[0]!, endMs: t[t.length - 1]! }, ctx);
    if (this.provider.neutral) {
      this.notes.push('neutral provider: every sentiment feature is 0 (no information); choose a CSV or the Fear & Greed provider for a signal');
      this.asof.fill(0);
      return;
    }
    this.notes.push(...(this.provider.notes ?? []));
    let j = -1;
    for (let s = 0; s < t.length; s++) {
      while (j + 1 < this.rows.length && this.rows[j + 1]!.timeMs <= t[s]!) j++;
      this.asof[s] = j;
    }
    if (this.asof[t.length - 1]! < 0) this.notes.push(`no sentiment record at or before the last step (${new Date(t[t.length - 1]!).toISOString()}): every sentiment feature is undefined`);
  }

  contextAt(t: number): SentimentContext {
    const j = this.asof[t]!;
    return { record: j >= 0 ? this.rows[j]! : null };
  }

  computeFeatures(c: SentimentContext): Record<string, number> {
    const r = c.record;
    return { fear_greed: r ? r.fearGreed : NaN, msg_rate: r ? r.msgRate : NaN, sentiment_score: r ? r.sentimentScore : NaN };
  }
}
