/**
 * Deribit public REST (JSON-RPC over HTTP GET, api/v2). Units are made explicit in field names at
 * this boundary: `...Pct` is percent as Deribit sends it (mark_iv 55.1 = 55.1 %), `...Coin` is
 * an option price in the base coin (BTC/ETH options are quoted in coin, strikes in USD), `Usd`
 * is dollars. Rows that lack a field read NaN there rather than being dropped, so a snapshot can
 * mask them and say how many were missing.
 */
import { CancelledError, type JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import { buildUrl, FeedError, getRaw, optNum, parseJsonBody, systemClock, type Clock, type FetchLike } from './http.ts';
import { parseInstrumentName, type Instrument } from '../io/instruments.ts';
import { CreditPool, DEFAULT_BACKOFF, DEFAULT_MAX_RETRY_AFTER_MS, DERIBIT_CREDITS, formatWaitCap, planRetry, type BackoffConfig, type CreditConfig } from './rateLimit.ts';

export const DERIBIT_BASE_URL = 'https://www.deribit.com/api/v2';
export const DERIBIT_WS_URL = 'wss://www.deribit.com/ws/api/v2';

/** JSON-RPC error code Deribit returns when the credit pool is empty. */
export const TOO_MANY_REQUESTS = 10028;

export interface DeribitConfig {
  baseUrl: string;
  fetch: FetchLike;
  clock: Clock;
  /** Seed for backoff jitter. */
  seed: number;
  timeoutMs: number;
  credits: CreditConfig;
  backoff: BackoffConfig;
  /** A Retry-After longer than this is reported instead of waited out (as the Binance client does). */
  maxRetryAfterMs: number;
}

export interface BookSummaryRow {
  instrumentName: string;
  instrument: Instrument;
  /** Price of the underlying the option is struck on (the expiry's future or synthetic), USD. */
  underlyingPriceUsd: number;
  underlyingIndex: string;
  markIvPct: number;
  markPriceCoin: number;
  bidPriceCoin: number;
  askPriceCoin: number;
  openInterest: number;
  volume: number;
  interestRate: number;
  estimatedDeliveryPriceUsd: number;
  creationTimestamp: number;
}

export interface InstrumentInfo {
  instrumentName: string;
  kind: string;
  optionType: 'call' | 'put' | undefined;
  strike: number;
  expirationTimestamp: number;
  settlementCurrency: string;
  /** "reversed" (inverse, coin-settled) or "linear". */
  instrumentType: string;
  isActive: boolean;
}

export interface IndexPrice {
  indexPriceUsd: number;
  estimatedDeliveryPriceUsd: number;
}

export interface Ticker {
  instrumentName: string;
  timestamp: number;
  markPriceCoin: number;
  markIvPct: number;
  bidIvPct: number;
  askIvPct: number;
  underlyingPriceUsd: number;
  indexPriceUsd: number;
  bestBidCoin: number;
  bestAskCoin: number;
  openInterest: number;
  greeks: { delta: number; gamma: number; vega: number; theta: number; rho: number } | undefined;
}

export interface VolPoint {
  timestamp: number;
  volPct: number;
}

export interface DvolCandle {
  timestamp: number;
  openPct: number;
  highPct: number;
  lowPct: number;
  closePct: number;
}

export interface FeedStatus {
  lastOkAt: number | undefined;
  lastError: { message: string; at: number } | undefined;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class DeribitClient {
  readonly config: DeribitConfig;
  readonly status: FeedStatus = { lastOkAt: undefined, lastError: undefined };
  private readonly pool: CreditPool;
  private readonly rng: Rng;

  constructor(config: Partial<DeribitConfig> = {}) {
    this.config = {
      baseUrl: DERIBIT_BASE_URL,
      fetch: (input, init) => globalThis.fetch(input, init),
      clock: systemClock,
      seed: 1,
      timeoutMs: 15_000,
      credits: DERIBIT_CREDITS,
      backoff: DEFAULT_BACKOFF,
      maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
      ...config,
    };
    this.pool = new CreditPool(this.config.credits, this.config.clock);
    this.rng = new Rng(this.config.seed);
  }

  /**
   * One public method call. Retries on error 10028, HTTP 429 and 5xx — after the server's
   * Retry-After when it sends one (seconds or an HTTP date; issue 14: a 429 with Retry-After: 1
   * was retried after 0.4 s), else after jittered exponential backoff. A Retry-After above
   * `maxRetryAfterMs` is reported, not waited out. Any other JSON-RPC error is thrown at once with
   * Deribit's code and message.
   */
  async call(method: string, params: Record<string, string | number | boolean | undefined>, ctx: JobContext = {}): Promise<unknown> {
    try {
      const r = await this.callInner(method, params, ctx);
      this.status.lastOkAt = this.config.clock.now();
      return r;
    } catch (e) {
      if (!(e instanceof CancelledError)) this.status.lastError = { message: (e as Error).message, at: this.config.clock.now() };
      throw e;
    }
  }

  private async callInner(method: string, params: Record<string, string | number | boolean | undefined>, ctx: JobContext): Promise<unknown> {
    const url = buildUrl(this.config.baseUrl, `public/${method}`, params);
    const { backoff, clock } = this.config;
    for (let attempt = 0; ; attempt++) {
      await this.pool.take(undefined, ctx.signal);
      const raw = await getRaw('deribit', url, this.config.fetch, this.config.timeoutMs, ctx.signal);
      let retryWhy: string | undefined;
      let body: unknown;
      if (raw.status === 429) {
        retryWhy = 'HTTP 429 (too many requests)';
      } else if (raw.status >= 500) {
        retryWhy = `HTTP ${raw.status}`;
      } else {
        body = parseJsonBody('deribit', url, raw);
        if (isObj(body) && isObj(body.error)) {
          const code = typeof body.error.code === 'number' ? body.error.code : undefined;
          const msg = String(body.error.message ?? 'unknown error');
          if (code === TOO_MANY_REQUESTS) {
            this.pool.drain();
            retryWhy = `error ${code} ${msg}`;
          } else {
            const data = body.error.data !== undefined ? ` (${JSON.stringify(body.error.data)})` : '';
            throw new FeedError('deribit', 'api', `error ${code ?? '?'}: ${msg}${data}`, url, { status: raw.status, code });
          }
        } else if (raw.status < 200 || raw.status >= 300) {
          throw new FeedError('deribit', 'http', `HTTP ${raw.status}`, url, { status: raw.status });
        } else if (!isObj(body) || !('result' in body)) {
          throw new FeedError('deribit', 'parse', 'answer has neither "result" nor "error"', url, { status: raw.status });
        } else {
          return body.result;
        }
      }
      const kind = raw.status >= 500 ? 'http' : 'rate-limit';
      const extra = { status: raw.status, code: kind === 'rate-limit' ? TOO_MANY_REQUESTS : undefined };
      const plan = planRetry(attempt, raw.headers.get('retry-after'), clock.now(), backoff, this.rng);
      if (plan.retryAfterMs !== undefined && plan.retryAfterMs > this.config.maxRetryAfterMs) {
        throw new FeedError('deribit', kind, `${retryWhy}; ${plan.says}, longer than this client waits (${formatWaitCap(this.config.maxRetryAfterMs)})`, url, extra);
      }
      if (attempt >= backoff.maxRetries) throw new FeedError('deribit', kind, `${retryWhy}; gave up after ${attempt + 1} attempts (last ${plan.says})`, url, extra);
      ctx.onProgress?.({ done: attempt + 1, message: `deribit: ${retryWhy}, ${plan.says}; retrying in ${plan.waitMs} ms` });
      await clock.sleep(plan.waitMs, ctx.signal);
    }
  }

  async bookSummary(currency: string, ctx: JobContext = {}): Promise<BookSummaryRow[]> {
    const result = await this.call('get_book_summary_by_currency', { currency, kind: 'option' }, ctx);
    const url = buildUrl(this.config.baseUrl, 'public/get_book_summary_by_currency', { currency, kind: 'option' });
    return parseBookSummary(result, url);
  }

  async instruments(currency: string, ctx: JobContext = {}, kind = 'option'): Promise<InstrumentInfo[]> {
    const result = await this.call('get_instruments', { currency, kind, expired: false }, ctx);
    const url = buildUrl(this.config.baseUrl, 'public/get_instruments', { currency });
    if (!Array.isArray(result)) throw new FeedError('deribit', 'parse', 'result is not a list', url);
    return result.map((r, i) => {
      if (!isObj(r) || typeof r.instrument_name !== 'string') throw new FeedError('deribit', 'parse', `row ${i}: no instrument_name`, url);
      return {
        instrumentName: r.instrument_name,
        kind: String(r.kind ?? ''),
        optionType: r.option_type === 'call' || r.option_type === 'put' ? r.option_type : undefined,
        strike: optNum(r.strike),
        expirationTimestamp: optNum(r.expiration_timestamp),
        settlementCurrency: String(r.settlement_currency ?? ''),
        instrumentType: String(r.instrument_type ?? ''),
        isActive: r.is_active !== false,
      };
    });
  }

  /** index_name like "btc_usd". */
  async indexPrice(indexName: string, ctx: JobContext = {}): Promise<IndexPrice> {
    const result = await this.call('get_index_price', { index_name: indexName }, ctx);
    const url = buildUrl(this.config.baseUrl, 'public/get_index_price', { index_name: indexName });
    if (!isObj(result)) throw new FeedError('deribit', 'parse', 'result is not an object', url);
    const indexPriceUsd = optNum(result.index_price);
    if (!(indexPriceUsd > 0)) throw new FeedError('deribit', 'parse', `index_price missing or not positive (${JSON.stringify(result.index_price)})`, url);
    return { indexPriceUsd, estimatedDeliveryPriceUsd: optNum(result.estimated_delivery_price) };
  }

  async ticker(instrumentName: string, ctx: JobContext = {}): Promise<Ticker> {
    const result = await this.call('ticker', { instrument_name: instrumentName }, ctx);
    return parseTicker(result, buildUrl(this.config.baseUrl, 'public/ticker', { instrument_name: instrumentName }));
  }

  /** Hourly realised volatility, percent. */
  async historicalVolatility(currency: string, ctx: JobContext = {}): Promise<VolPoint[]> {
    const result = await this.call('get_historical_volatility', { currency }, ctx);
    const url = buildUrl(this.config.baseUrl, 'public/get_historical_volatility', { currency });
    if (!Array.isArray(result)) throw new FeedError('deribit', 'parse', 'result is not a list', url);
    return result.map((r, i) => {
      if (!Array.isArray(r) || r.length < 2) throw new FeedError('deribit', 'parse', `row ${i}: expected [timestamp, vol]`, url);
      return { timestamp: optNum(r[0]), volPct: optNum(r[1]) };
    });
  }

  /**
   * DVOL candles (percent) over [start, end], following `continuation` backwards until the range
   * is covered. resolution in seconds ("1", "60", "3600", "43200" or "1D" as Deribit accepts).
   */
  async volatilityIndex(currency: string, start: number, end: number, resolution: string | number, ctx: JobContext = {}): Promise<DvolCandle[]> {
    const out = new Map<number, DvolCandle>();
    let until: number | null = end;
    for (let page = 0; until !== null && until >= start && page < 10_000; page++) {
      const params = { currency, start_timestamp: start, end_timestamp: until, resolution };
      const result = await this.call('get_volatility_index_data', params, ctx);
      const url = buildUrl(this.config.baseUrl, 'public/get_volatility_index_data', params);
      if (!isObj(result) || !Array.isArray(result.data)) throw new FeedError('deribit', 'parse', 'result.data is not a list', url);
      for (const [i, r] of result.data.entries()) {
        if (!Array.isArray(r) || r.length < 5) throw new FeedError('deribit', 'parse', `data row ${i}: expected [timestamp, open, high, low, close]`, url);
        const c = { timestamp: optNum(r[0]), openPct: optNum(r[1]), highPct: optNum(r[2]), lowPct: optNum(r[3]), closePct: optNum(r[4]) };
        out.set(c.timestamp, c);
      }
      const cont = result.continuation;
      const next = typeof cont === 'number' ? cont : null;
      // A continuation that does not move back would loop forever.
      until = next !== null && next < until ? next : null;
      ctx.onProgress?.({ done: out.size, message: `DVOL: ${out.size} candles` });
    }
    return [...out.values()].sort((a, b) => a.timestamp - b.timestamp);
  }
}

export function parseBookSummary(result: unknown, url: string): BookSummaryRow[] {
  if (!Array.isArray(result)) throw new FeedError('deribit', 'parse', 'result is not a list', url);
  const rows: BookSummaryRow[] = [];
  for (const [i, r] of result.entries()) {
    if (!isObj(r) || typeof r.instrument_name !== 'string') throw new FeedError('deribit', 'parse', `row ${i}: no instrument_name`, url);
    let instrument: Instrument;
    try {
      instrument = parseInstrumentName(r.instrument_name);
    } catch (e) {
      throw new FeedError('deribit', 'parse', `row ${i}: ${(e as Error).message}`, url);
    }
    rows.push({
      instrumentName: r.instrument_name,
      instrument,
      underlyingPriceUsd: optNum(r.underlying_price),
      underlyingIndex: String(r.underlying_index ?? ''),
      markIvPct: optNum(r.mark_iv),
      markPriceCoin: optNum(r.mark_price),
      bidPriceCoin: optNum(r.bid_price),
      askPriceCoin: optNum(r.ask_price),
      openInterest: optNum(r.open_interest),
      volume: optNum(r.volume),
      interestRate: optNum(r.interest_rate),
      estimatedDeliveryPriceUsd: optNum(r.estimated_delivery_price),
      creationTimestamp: optNum(r.creation_timestamp),
    });
  }
  return rows;
}

export function parseTicker(result: unknown, url: string): Ticker {
  if (!isObj(result) || typeof result.instrument_name !== 'string') throw new FeedError('deribit', 'parse', 'ticker has no instrument_name', url);
  const g = isObj(result.greeks) ? result.greeks : undefined;
  return {
    instrumentName: result.instrument_name,
    timestamp: optNum(result.timestamp),
    markPriceCoin: optNum(result.mark_price),
    markIvPct: optNum(result.mark_iv),
    bidIvPct: optNum(result.bid_iv),
    askIvPct: optNum(result.ask_iv),
    underlyingPriceUsd: optNum(result.underlying_price),
    indexPriceUsd: optNum(result.index_price),
    bestBidCoin: optNum(result.best_bid_price),
    bestAskCoin: optNum(result.best_ask_price),
    openInterest: optNum(result.open_interest),
    greeks: g ? { delta: optNum(g.delta), gamma: optNum(g.gamma), vega: optNum(g.vega), theta: optNum(g.theta), rho: optNum(g.rho) } : undefined,
  };
}
