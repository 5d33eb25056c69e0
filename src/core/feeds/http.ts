/**
 * What every feed client shares: an injectable fetch, clock and sleep (so tests of backoff and
 * throttling run in virtual time), request timeouts through AbortSignal, and FeedError — one
 * error type whose `kind` says what the user can do about it (wait, use a proxy, import files).
 */
import { CancelledError } from '../jobs.ts';
import { LabError } from '../errors.ts';

export type FetchLike = (input: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with CancelledError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new CancelledError());
      const onAbort = () => {
        clearTimeout(id);
        reject(new CancelledError());
      };
      const id = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export type Feed = 'deribit' | 'binance';

export type FeedErrorKind =
  /** The request never got an answer: offline, DNS, refused, or a CORS refusal in a browser. */
  | 'network'
  | 'timeout'
  /** Too many requests; retries were exhausted or the wait asked for was too long. */
  | 'rate-limit'
  /** HTTP 451: the exchange refuses this location. */
  | 'geo-blocked'
  /** Any other non-2xx HTTP status. */
  | 'http'
  /** A JSON-RPC error object (Deribit) or an API error {code, msg} (Binance). */
  | 'api'
  /** The answer arrived but is not what the documented format says. */
  | 'parse';

export class FeedError extends LabError {
  readonly feed: Feed;
  readonly kind: FeedErrorKind;
  readonly status: number | undefined;
  /** The exchange's own error code (Deribit JSON-RPC code, Binance `code`). */
  readonly code: number | undefined;
  readonly url: string;
  constructor(feed: Feed, kind: FeedErrorKind, message: string, url: string, extra: { status?: number; code?: number } = {}) {
    super(message, `${feed} ${redactQuery(url)}`);
    this.name = 'FeedError';
    this.feed = feed;
    this.kind = kind;
    this.status = extra.status;
    this.code = extra.code;
    this.url = url;
  }
}

function redactQuery(url: string): string {
  // The path names the endpoint; the query can be long (instrument lists) and adds nothing.
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * One GET with a timeout. A fetch that throws before any response is a network failure: in a
 * browser that is also how a CORS refusal looks (the page is told nothing more), so the message
 * says so and points at the two ways around it.
 */
export async function getRaw(feed: Feed, url: string, fetchImpl: FetchLike, timeoutMs: number, signal?: AbortSignal): Promise<RawResponse> {
  if (signal?.aborted) throw new CancelledError();
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetchImpl(url, { signal: controller.signal, headers: { accept: 'application/json' } });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (e) {
    if (signal?.aborted) throw new CancelledError();
    if (timedOut) throw new FeedError(feed, 'timeout', `no answer within ${timeoutMs} ms`, url);
    const detail = e instanceof Error ? e.message : String(e);
    throw new FeedError(
      feed,
      'network',
      `request failed before any answer (${detail}). Either the network is down, the host is unreachable, or the browser refused a cross-origin (CORS) answer. Set a proxy/mirror base URL, or import CSV/.npz files instead.`,
      url,
    );
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Parses a response body as JSON, or throws a parse FeedError quoting the start of the body. */
export function parseJsonBody(feed: Feed, url: string, raw: RawResponse): unknown {
  try {
    return JSON.parse(raw.text);
  } catch {
    const head = raw.text.slice(0, 80).replace(/\s+/g, ' ');
    throw new FeedError(feed, 'parse', `HTTP ${raw.status}: answer is not JSON ("${head}${raw.text.length > 80 ? '…' : ''}")`, url, { status: raw.status });
  }
}

export function buildUrl(base: string, path: string, params: Record<string, string | number | boolean | undefined>): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}${q ? `?${q}` : ''}`;
}

/** Reads a field that must be a finite number (Binance sends numbers as strings). */
export function num(value: unknown, where: string, feed: Feed, url: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : typeof value === 'number' ? value : NaN;
  if (!Number.isFinite(n)) throw new FeedError(feed, 'parse', `${where}: expected a number, got ${JSON.stringify(value)}`, url);
  return n;
}

/** Like num() but an absent, empty or null field reads as NaN (Binance's "" markPrice on old rows). */
export function optNum(value: unknown): number {
  if (value === null || value === undefined || value === '') return NaN;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}
