/**
 * Binance public market data (spot api/v3 and USD-M futures fapi), replacing the seed's ccxt
 * loader. Numbers arrive as JSON strings and are parsed here; times are ms. Long ranges are
 * paged; every request is charged its documented weight against a per-minute budget that the
 * server's X-MBX-USED-WEIGHT-1M header keeps honest; 429/418 wait out `Retry-After`; 451 (the
 * exchange refuses the caller's country) and CORS refusals get messages that say what to do.
 */
import { CancelledError, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import { InputError } from '../errors.ts';
import { buildUrl, FeedError, getRaw, num, optNum, parseJsonBody, systemClock, type Clock, type FetchLike } from './http.ts';
import { DEFAULT_BACKOFF, DEFAULT_MAX_RETRY_AFTER_MS, formatWaitCap, planRetry, WeightLimiter, type BackoffConfig } from './rateLimit.ts';
import type { FeedStatus } from './deribit.ts';

export const BINANCE_SPOT_URL = 'https://api.binance.com';
/** Market-data-only mirror of the spot endpoints, reachable from some places api.binance.com is not. */
export const BINANCE_SPOT_MIRROR_URL = 'https://data-api.binance.vision';
export const BINANCE_FUTURES_URL = 'https://fapi.binance.com';

export interface BinanceConfig {
  spotBaseUrl: string;
  futuresBaseUrl: string;
  fetch: FetchLike;
  clock: Clock;
  seed: number;
  timeoutMs: number;
  /** Documented IP limits: 6000 weight/min on api/v3, 2400 on fapi. */
  spotWeightPerMinute: number;
  futuresWeightPerMinute: number;
  /** A Retry-After longer than this (e.g. a 418 ban of hours) is reported instead of waited out. */
  maxRetryAfterMs: number;
  backoff: BackoffConfig;
}

export type BinanceMarket = 'spot' | 'futures';

export interface Kline {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  closeTime: number;
  quoteVolume: number;
  trades: number;
  takerBuyBaseVolume: number;
  takerBuyQuoteVolume: number;
}

export interface FundingRate {
  fundingTime: number;
  fundingRate: number;
  /** NaN on old rows, where Binance sends "". */
  markPrice: number;
}

export interface OpenInterestPoint {
  timestamp: number;
  /** Contracts (base coin). */
  sumOpenInterest: number;
  /** USD. */
  sumOpenInterestValue: number;
}

export interface PremiumIndex {
  symbol: string;
  markPrice: number;
  indexPrice: number;
  estimatedSettlePrice: number;
  lastFundingRate: number;
  interestRate: number;
  nextFundingTime: number;
  time: number;
}

export const INTERVALS_MS: Record<string, number> = {
  '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000,
  '1h': 3_600_000, '2h': 7_200_000, '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000,
  '1d': 86_400_000, '3d': 259_200_000, '1w': 604_800_000,
};

/** Periods openInterestHist accepts. */
const OI_PERIODS = ['5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'];

export function intervalMs(interval: string): number {
  const ms = INTERVALS_MS[interval];
  if (ms === undefined) throw new InputError(`unknown interval "${interval}" (use one of ${Object.keys(INTERVALS_MS).join(', ')})`, 'interval');
  return ms;
}

/**
 * Documented request weights (Binance API docs, 2024): spot klines 2; USD-M klines by limit
 * ([1,100) 1, [100,500) 2, [500,1000] 5, >1000 10); premiumIndex 1 per symbol; openInterest 1;
 * fundingRate and openInterestHist are limited by request count (500 and 1000 per 5 min) rather
 * than weight — charged 1 here so they still pace.
 */
export function futuresKlineWeight(limit: number): number {
  return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
}

type Row = Record<string, unknown>;

/**
 * Pages forward through [start, end]: each request starts 1 ms after the last row received,
 * until a short or empty page, or a page that does not move the cursor (a server ignoring
 * startTime would otherwise loop forever). Rows outside the range are dropped.
 */
async function pageForward<T>(start: number, end: number, limit: number, timeOf: (row: T) => number, fetchPage: (cursor: number, have: number) => Promise<T[]>, onPage?: (have: number) => void): Promise<T[]> {
  const out: T[] = [];
  let cursor = start;
  while (cursor <= end) {
    const page = await fetchPage(cursor, out.length);
    for (const r of page) if (timeOf(r) >= cursor && timeOf(r) <= end) out.push(r);
    onPage?.(out.length);
    const last = page[page.length - 1];
    if (page.length < limit || !last || timeOf(last) + 1 <= cursor) break;
    cursor = timeOf(last) + 1;
  }
  return out;
}

export class BinanceClient {
  readonly config: BinanceConfig;
  readonly status: FeedStatus = { lastOkAt: undefined, lastError: undefined };
  readonly spotLimiter: WeightLimiter;
  readonly futuresLimiter: WeightLimiter;
  private readonly rng: Rng;

  constructor(config: Partial<BinanceConfig> = {}) {
    this.config = {
      spotBaseUrl: BINANCE_SPOT_URL,
      futuresBaseUrl: BINANCE_FUTURES_URL,
      fetch: (input, init) => globalThis.fetch(input, init),
      clock: systemClock,
      seed: 1,
      timeoutMs: 15_000,
      spotWeightPerMinute: 6000,
      futuresWeightPerMinute: 2400,
      maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
      backoff: { ...DEFAULT_BACKOFF, maxRetries: 3 },
      ...config,
    };
    this.spotLimiter = new WeightLimiter(this.config.spotWeightPerMinute, this.config.clock);
    this.futuresLimiter = new WeightLimiter(this.config.futuresWeightPerMinute, this.config.clock);
    this.rng = new Rng(this.config.seed);
  }

  async get(market: BinanceMarket, path: string, params: Record<string, string | number | undefined>, weight: number, ctx: JobContext = {}): Promise<unknown> {
    try {
      const r = await this.getInner(market, path, params, weight, ctx);
      this.status.lastOkAt = this.config.clock.now();
      return r;
    } catch (e) {
      if (!(e instanceof CancelledError)) this.status.lastError = { message: (e as Error).message, at: this.config.clock.now() };
      throw e;
    }
  }

  private async getInner(market: BinanceMarket, path: string, params: Record<string, string | number | undefined>, weight: number, ctx: JobContext): Promise<unknown> {
    const base = market === 'spot' ? this.config.spotBaseUrl : this.config.futuresBaseUrl;
    const limiter = market === 'spot' ? this.spotLimiter : this.futuresLimiter;
    const url = buildUrl(base, path, params);
    for (let attempt = 0; ; attempt++) {
      await limiter.take(weight, ctx.signal);
      const raw = await getRaw('binance', url, this.config.fetch, this.config.timeoutMs, ctx.signal);
      limiter.observe(raw.headers.get('x-mbx-used-weight-1m'));
      const s = raw.status;
      if (s >= 200 && s < 300) return parseJsonBody('binance', url, raw);
      if (s === 451) {
        throw new FeedError(
          'binance',
          'geo-blocked',
          `HTTP 451: Binance refuses requests from this location. Set a mirror or proxy base URL (spot market data: ${BINANCE_SPOT_MIRROR_URL}) or import CSV files (data.binance.vision archives).`,
          url,
          { status: 451 },
        );
      }
      let wait: number;
      let why: string;
      if (s === 429 || s === 418 || s >= 500) {
        // Retry-After on 429/418 (rate limits) and on 503 (maintenance), else backoff.
        const plan = planRetry(attempt, raw.headers.get('retry-after'), this.config.clock.now(), this.config.backoff, this.rng);
        wait = plan.waitMs;
        why = s === 418 ? 'HTTP 418 (IP banned for ignoring 429s)' : s === 429 ? 'HTTP 429 (request weight exceeded)' : `HTTP ${s}`;
        const kind = s >= 500 ? 'http' : 'rate-limit';
        if (plan.retryAfterMs !== undefined && plan.retryAfterMs > this.config.maxRetryAfterMs) throw new FeedError('binance', kind, `${why}; ${plan.says}, longer than this client waits (${formatWaitCap(this.config.maxRetryAfterMs)})`, url, { status: s });
        if (attempt >= this.config.backoff.maxRetries) throw new FeedError('binance', kind, `${why}; gave up after ${attempt + 1} attempts (last ${plan.says})`, url, { status: s });
        why += `, ${plan.says}`;
      } else {
        let body: unknown;
        try {
          body = JSON.parse(raw.text);
        } catch {
          throw new FeedError('binance', 'http', `HTTP ${s}`, url, { status: s });
        }
        const b = body as Row;
        if (typeof b?.msg === 'string') throw new FeedError('binance', 'api', `HTTP ${s}, code ${String(b.code)}: ${b.msg}`, url, { status: s, code: Number(b.code) });
        throw new FeedError('binance', 'http', `HTTP ${s}`, url, { status: s });
      }
      ctx.onProgress?.({ done: attempt + 1, message: `binance: ${why}; retrying in ${wait} ms` });
      await this.config.clock.sleep(wait, ctx.signal);
    }
  }

  /**
   * Klines with openTime in [start, end], paged forward (1000 per page on spot, 1500 on
   * futures) until the range is covered or the exchange has no more.
   */
  async klines(market: BinanceMarket, symbol: string, interval: string, start: number, end: number, ctx: JobContext = {}): Promise<Kline[]> {
    const step = intervalMs(interval);
    const limit = market === 'spot' ? 1000 : 1500;
    const weight = market === 'spot' ? 2 : futuresKlineWeight(limit);
    const path = market === 'spot' ? 'api/v3/klines' : 'fapi/v1/klines';
    const total = Math.max(1, Math.floor((end - start) / step) + 1);
    const url = buildUrl(market === 'spot' ? this.config.spotBaseUrl : this.config.futuresBaseUrl, path, { symbol });
    return pageForward(
      start,
      end,
      limit,
      (k) => k.openTime,
      async (cursor, have) => {
        const body = await this.get(market, path, { symbol, interval, startTime: cursor, endTime: end, limit }, weight, ctx);
        if (!Array.isArray(body)) throw new FeedError('binance', 'parse', 'klines: expected a list', url);
        return body.map((r, i) => parseKline(r, () => `${market} klines row ${have + i}`, url));
      },
      (have) => ctx.onProgress?.({ done: Math.min(have, total), total, message: `${symbol} ${market} klines: ${have}` }),
    );
  }

  async fundingRates(symbol: string, start: number, end: number, ctx: JobContext = {}): Promise<FundingRate[]> {
    const limit = 1000;
    const url = buildUrl(this.config.futuresBaseUrl, 'fapi/v1/fundingRate', { symbol });
    return pageForward(start, end, limit, (f) => f.fundingTime, async (cursor, have) => {
      const body = await this.get('futures', 'fapi/v1/fundingRate', { symbol, startTime: cursor, endTime: end, limit }, 1, ctx);
      if (!Array.isArray(body)) throw new FeedError('binance', 'parse', 'fundingRate: expected a list', url);
      return body.map((r: Row, i) => ({
        fundingTime: num(r?.fundingTime, `fundingRate row ${have + i}: fundingTime`, 'binance', url),
        fundingRate: num(r?.fundingRate, `fundingRate row ${have + i}: fundingRate`, 'binance', url),
        markPrice: optNum(r?.markPrice),
      }));
    });
  }

  /** Open-interest history; Binance serves only about the last 30 days. */
  async openInterestHist(symbol: string, period: string, start: number, end: number, ctx: JobContext = {}): Promise<OpenInterestPoint[]> {
    if (!OI_PERIODS.includes(period)) throw new InputError(`open-interest period must be one of ${OI_PERIODS.join(', ')}`, 'period');
    const limit = 500;
    const url = buildUrl(this.config.futuresBaseUrl, 'futures/data/openInterestHist', { symbol });
    return pageForward(start, end, limit, (p) => p.timestamp, async (cursor, have) => {
      const body = await this.get('futures', 'futures/data/openInterestHist', { symbol, period, startTime: cursor, endTime: end, limit }, 1, ctx);
      if (!Array.isArray(body)) throw new FeedError('binance', 'parse', 'openInterestHist: expected a list', url);
      return body.map((r: Row, i) => ({
        // Documented as a number, shown as a string in the docs' example: Number() takes both.
        timestamp: num(r?.timestamp, `openInterestHist row ${have + i}: timestamp`, 'binance', url),
        sumOpenInterest: num(r?.sumOpenInterest, `openInterestHist row ${have + i}: sumOpenInterest`, 'binance', url),
        sumOpenInterestValue: optNum(r?.sumOpenInterestValue),
      }));
    });
  }

  async premiumIndex(symbol: string, ctx: JobContext = {}): Promise<PremiumIndex> {
    const body = (await this.get('futures', 'fapi/v1/premiumIndex', { symbol }, 1, ctx)) as Row;
    const url = buildUrl(this.config.futuresBaseUrl, 'fapi/v1/premiumIndex', { symbol });
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FeedError('binance', 'parse', 'premiumIndex: expected an object', url);
    return {
      symbol: String(body.symbol ?? symbol),
      markPrice: num(body.markPrice, 'markPrice', 'binance', url),
      indexPrice: num(body.indexPrice, 'indexPrice', 'binance', url),
      estimatedSettlePrice: optNum(body.estimatedSettlePrice),
      lastFundingRate: num(body.lastFundingRate, 'lastFundingRate', 'binance', url),
      interestRate: optNum(body.interestRate),
      nextFundingTime: optNum(body.nextFundingTime),
      time: num(body.time, 'time', 'binance', url),
    };
  }
}

export function parseKline(r: unknown, where: string | (() => string), url: string): Kline {
  // Hot path (tens of thousands of rows per load): the error text is built only on failure.
  const at = () => (typeof where === 'string' ? where : where());
  if (!Array.isArray(r) || r.length < 11) throw new FeedError('binance', 'parse', `${at()}: expected an array of 12 fields`, url);
  const f = (i: number, name: string) => {
    const v = r[i];
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(x)) throw new FeedError('binance', 'parse', `${at()}: ${name}: expected a number, got ${JSON.stringify(v)}`, url);
    return x;
  };
  return {
    openTime: f(0, 'openTime'),
    open: f(1, 'open'),
    high: f(2, 'high'),
    low: f(3, 'low'),
    close: f(4, 'close'),
    volume: f(5, 'volume'),
    closeTime: f(6, 'closeTime'),
    quoteVolume: optNum(r[7]),
    trades: optNum(r[8]),
    takerBuyBaseVolume: optNum(r[9]),
    takerBuyQuoteVolume: optNum(r[10]),
  };
}

/** Closest period openInterestHist accepts for a kline interval. */
export function oiPeriodFor(interval: string): string {
  const ms = intervalMs(interval);
  let best = OI_PERIODS[0]!;
  for (const p of OI_PERIODS) if (Math.abs(INTERVALS_MS[p]! - ms) < Math.abs(INTERVALS_MS[best]! - ms)) best = p;
  return best;
}
