/**
 * Client-side throttles for the two exchanges, and the backoff both use after a refusal.
 * Neither limit could be checked against the live endpoints from here; the defaults are the
 * values the exchanges document (see each config) and every one is configurable.
 */
import type { Rng } from '../math/rng.ts';
import type { Clock } from './http.ts';

/**
 * Deribit's credit scheme: each request costs credits, the pool refills continuously up to a
 * cap, and a request that finds the pool empty is refused with error 10028. Defaults are
 * Deribit's documented "non-matching-engine" tier for public requests: 500 credits per request,
 * at most 50 000 credits, refilled at 10 000 credits/s — i.e. bursts of 100 requests, then
 * 20 requests/s. Some endpoints (get_book_summary_by_currency is one) are documented with their
 * own stricter limit; lower `refillPerSec` for those if 10028s appear.
 */
export interface CreditConfig {
  maxCredits: number;
  refillPerSec: number;
  costPerRequest: number;
}

export const DERIBIT_CREDITS: CreditConfig = { maxCredits: 50_000, refillPerSec: 10_000, costPerRequest: 500 };

export class CreditPool {
  private credits: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    readonly config: CreditConfig,
    private readonly clock: Clock,
  ) {
    this.credits = config.maxCredits;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.credits = Math.min(this.config.maxCredits, this.credits + ((now - this.last) / 1000) * this.config.refillPerSec);
    this.last = now;
  }

  /** Waits until `cost` credits are available and spends them. Callers are served in order. */
  take(cost = this.config.costPerRequest, signal?: AbortSignal): Promise<void> {
    const run = async () => {
      this.refill();
      if (this.credits < cost) {
        const waitMs = Math.ceil(((cost - this.credits) / this.config.refillPerSec) * 1000);
        await this.clock.sleep(waitMs, signal);
        this.refill();
      }
      this.credits -= cost;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** After a 10028 the server's pool is empty whatever we counted: start again from zero. */
  drain(): void {
    this.refill();
    this.credits = 0;
  }

  available(): number {
    this.refill();
    return this.credits;
  }
}

/**
 * Binance's request-weight limit: each endpoint has a weight, the IP may spend `limitPerMinute`
 * per calendar minute (fixed windows), and every answer reports the weight used so far in
 * X-MBX-USED-WEIGHT-1M, which we trust over our own count (other tabs/tools share the IP).
 * Documented limits: 6000/min for spot api/v3, 2400/min for USD-M fapi.
 */
export class WeightLimiter {
  private windowStart = -1;
  private used = 0;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    public limitPerMinute: number,
    private readonly clock: Clock,
  ) {}

  private roll(): void {
    const w = Math.floor(this.clock.now() / 60_000) * 60_000;
    if (w !== this.windowStart) {
      this.windowStart = w;
      this.used = 0;
    }
  }

  take(weight: number, signal?: AbortSignal): Promise<void> {
    const run = async () => {
      this.roll();
      if (this.used + weight > this.limitPerMinute) {
        await this.clock.sleep(this.windowStart + 60_000 - this.clock.now() + 1, signal);
        this.roll();
      }
      this.used += weight;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Feeds back the server's count (X-MBX-USED-WEIGHT-1M). */
  observe(usedHeader: string | null): void {
    if (usedHeader === null) return;
    const n = Number(usedHeader);
    if (!Number.isFinite(n)) return;
    this.roll();
    this.used = Math.max(this.used, n);
  }

  usedThisMinute(): number {
    this.roll();
    return this.used;
  }
}

export interface BackoffConfig {
  baseMs: number;
  maxMs: number;
  maxRetries: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { baseMs: 500, maxMs: 30_000, maxRetries: 5 };

/**
 * Exponential backoff with "full jitter" scaled to [0.5, 1): attempt 0 waits ~base, each further
 * attempt doubles, capped. Jitter comes from a seeded Rng so a test can predict every wait, and
 * many tabs retrying together do not retry in lockstep.
 */
export function backoffDelay(attempt: number, cfg: BackoffConfig, rng: Rng): number {
  const raw = Math.min(cfg.maxMs, cfg.baseMs * 2 ** attempt);
  return Math.round(raw * (0.5 + 0.5 * rng.uniform()));
}

/** A Retry-After longer than this is reported as a rate-limit error instead of waited out (2 min). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;

/**
 * Retry-After (RFC 9110 §10.2.3): delay-seconds ("1", also "1.5" from lenient servers) or an
 * HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", a time already past waits 0). Milliseconds to wait,
 * or undefined when the header is absent or unreadable (then the caller's backoff applies).
 * `Number(null)` is 0, so an absent header must not go through Number().
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const h = header.trim();
  if (h === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(h)) return Math.round(Number(h) * 1000);
  // HTTP-dates always name a weekday and GMT; requiring the letters keeps "12" or "-1" from
  // reaching Date.parse, which reads bare numbers as years.
  if (!/[a-z]/i.test(h)) return undefined;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

export interface RetryPlan {
  /** What to wait before the next attempt. */
  waitMs: number;
  /** The server's Retry-After in ms, when it sent a readable one. */
  retryAfterMs: number | undefined;
  /** For the progress line and the error: "Retry-After 1 s" or "backoff 412 ms". */
  says: string;
}

/**
 * The wait before retry `attempt` (0 = after the first refusal): the server's Retry-After when it
 * sent one — it knows when its window reopens, and retrying sooner is what gets an IP banned —
 * else jittered exponential backoff. No random draw when the header decides, so seeded waits stay
 * reproducible either way.
 */
export function planRetry(attempt: number, retryAfterHeader: string | null | undefined, nowMs: number, backoff: BackoffConfig, rng: Rng): RetryPlan {
  const retryAfterMs = parseRetryAfter(retryAfterHeader, nowMs);
  if (retryAfterMs !== undefined) return { waitMs: retryAfterMs, retryAfterMs, says: `Retry-After ${formatSeconds(retryAfterMs)}` };
  const waitMs = backoffDelay(attempt, backoff, rng);
  return { waitMs, retryAfterMs: undefined, says: `backoff ${waitMs} ms` };
}

/** "2 min", "90 s": the cap in an error message. */
export function formatWaitCap(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : formatSeconds(ms);
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
