import { describe, expect, it } from 'vitest';
import { DeribitClient, TOO_MANY_REQUESTS } from '../../../src/core/feeds/deribit.ts';
import { FeedError } from '../../../src/core/feeds/http.ts';
import { CreditPool } from '../../../src/core/feeds/rateLimit.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { useReplayServer, rejection } from '../../support/feeds.ts';
import { FakeClock } from '../../support/fakeClock.ts';

const srv = useReplayServer();

function client(clock = new FakeClock(), extra = {}) {
  return new DeribitClient({ baseUrl: srv.deribitBase, clock, seed: 7, timeoutMs: 2000, ...extra });
}

describe('DeribitClient parsing', () => {
  it('parses the book summary with units explicit (mark_iv percent, prices in coin)', async () => {
    const rows = await client().bookSummary('BTC');
    expect(rows).toHaveLength(3);
    const c = rows.find((r) => r.instrumentName === 'BTC-27DEC24-100000-C')!;
    expect(c.markIvPct).toBe(55.1);
    expect(c.markPriceCoin).toBe(0.0208);
    expect(c.underlyingPriceUsd).toBe(97804.5);
    expect(c.instrument).toMatchObject({ strike: 100000, isCall: true, expiry: Date.UTC(2024, 11, 27, 8) });
    expect(srv.requests[0]).toMatchObject({ path: '/deribit/api/v2/public/get_book_summary_by_currency', query: { currency: 'BTC', kind: 'option' } });
  });
  it('parses instruments, index price, ticker, historical vol and DVOL', async () => {
    const c = client();
    const inst = await c.instruments('BTC');
    expect(inst[0]).toMatchObject({ instrumentName: 'BTC-27DEC24-100000-C', optionType: 'call', strike: 100000, expirationTimestamp: 1735286400000, instrumentType: 'reversed' });
    expect(await c.indexPrice('btc_usd')).toEqual({ indexPriceUsd: 97512.34, estimatedDeliveryPriceUsd: 97512.34 });
    const t = await c.ticker('BTC-27DEC24-100000-C');
    expect(t).toMatchObject({ markIvPct: 55.1, bidIvPct: 54.2, askIvPct: 56, underlyingPriceUsd: 97804.5 });
    expect(t.greeks?.delta).toBeCloseTo(0.37942, 10);
    const hv = await c.historicalVolatility('BTC');
    expect(hv).toHaveLength(6);
    expect(hv[5]).toEqual({ timestamp: 1734681600000, volPct: 43.529771 });
    const dvol = await c.volatilityIndex('BTC', 1734663600000, 1734681600000, 3600);
    expect(dvol.map((d) => d.closePct)).toEqual([58.26, 57.76, 57.9, 57.08, 56.44, 57.01]);
  });
  it('follows DVOL continuation backwards and stops when it does not move', async () => {
    const c = client();
    srv.setDeribitResult('get_volatility_index_data', { data: [[1000, 1, 2, 0.5, 1.5]], continuation: 999 });
    // Every page returns the same row with continuation 999: the second page asks until=999,
    // gets continuation 999 again (not earlier) and stops — no infinite loop.
    const out = await c.volatilityIndex('BTC', 0, 5000, 60);
    expect(out).toHaveLength(1);
    const pages = srv.requests.filter((r) => r.path.endsWith('get_volatility_index_data'));
    expect(pages.map((p) => p.query.end_timestamp)).toEqual(['5000', '999']);
  });
  it('keeps rows with missing fields, reading NaN there', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', [{ instrument_name: 'BTC-27DEC24-100000-C', underlying_price: 97000 }]);
    const [r] = await client().bookSummary('BTC');
    expect(r!.markIvPct).toBeNaN();
    expect(r!.underlyingPriceUsd).toBe(97000);
  });
  it('names the row of an unparseable instrument', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', [{ instrument_name: 'BTC-27DEC24-100000-C' }, { instrument_name: 'NOPE-1-2' }]);
    const e = await rejection<FeedError>(client().bookSummary('BTC'));
    expect(e.kind).toBe('parse');
    expect(e.message).toMatch(/row 1/);
  });
  it('returns an empty list for an empty book', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', []);
    expect(await client().bookSummary('BTC')).toEqual([]);
  });
});

describe('DeribitClient errors and retries', () => {
  it('surfaces a JSON-RPC error with its code, without retrying', async () => {
    srv.fail('get_index_price', { rpcError: { code: 10001, message: 'error' } });
    const c = client();
    const e = await rejection<FeedError>(c.indexPrice('btc_usd'));
    expect(e).toBeInstanceOf(FeedError);
    expect(e.kind).toBe('api');
    expect(e.code).toBe(10001);
    expect(e.message).toMatch(/error 10001/);
    expect(c.status.lastError?.message).toBe(e.message);
    expect(srv.requests).toHaveLength(1);
  });
  it('backs off exponentially with seeded jitter on 10028 and on HTTP 429, then succeeds', async () => {
    srv.fail('get_index_price', { rpcError: { code: TOO_MANY_REQUESTS, message: 'too_many_requests' } }, { status: 429, body: '' }, { rpcError: { code: TOO_MANY_REQUESTS, message: 'too_many_requests' } });
    const clock = new FakeClock();
    const c = client(clock, { backoff: { baseMs: 100, maxMs: 10_000, maxRetries: 5 } });
    expect((await c.indexPrice('btc_usd')).indexPriceUsd).toBe(97512.34);
    expect(srv.requests).toHaveLength(4);
    // Waits are the backoff (100·2^a scaled into [0.5, 1)) plus, after a 10028 drained the pool,
    // the credit refill wait (500 credits at 10 000/s = 50 ms).
    const backoffs = clock.sleeps.filter((s) => s !== 50);
    expect(backoffs).toHaveLength(3);
    backoffs.forEach((w, a) => {
      expect(w).toBeGreaterThanOrEqual(0.5 * 100 * 2 ** a);
      expect(w).toBeLessThanOrEqual(100 * 2 ** a);
    });
    // Same seed, same waits.
    srv.fail('get_index_price', { status: 429, body: '' }, { status: 429, body: '' });
    const clock2 = new FakeClock();
    await client(clock2, { backoff: { baseMs: 100, maxMs: 10_000, maxRetries: 5 } }).indexPrice('btc_usd');
    srv.fail('get_index_price', { status: 429, body: '' }, { status: 429, body: '' });
    const clock3 = new FakeClock();
    await client(clock3, { backoff: { baseMs: 100, maxMs: 10_000, maxRetries: 5 } }).indexPrice('btc_usd');
    expect(clock3.sleeps).toEqual(clock2.sleeps);
  });
  it('gives up after maxRetries with a rate-limit error', async () => {
    srv.fail('ticker', ...Array.from({ length: 5 }, () => ({ rpcError: { code: TOO_MANY_REQUESTS, message: 'too_many_requests' } })));
    const e = await rejection<FeedError>(client(new FakeClock(), { backoff: { baseMs: 10, maxMs: 100, maxRetries: 2 } }).ticker('BTC-27DEC24-100000-C'));
    expect(e.kind).toBe('rate-limit');
    expect(e.code).toBe(TOO_MANY_REQUESTS);
    expect(e.message).toMatch(/gave up after 3 attempts/);
  });
  it('retries a 500 and reports a persistent one as an HTTP error', async () => {
    srv.fail('get_index_price', { status: 500, body: 'oops' });
    expect((await client().indexPrice('btc_usd')).indexPriceUsd).toBe(97512.34);
    srv.fail('get_index_price', { status: 500 }, { status: 500 }, { status: 502 });
    const e = await rejection<FeedError>(client(new FakeClock(), { backoff: { baseMs: 1, maxMs: 1, maxRetries: 2 } }).indexPrice('btc_usd'));
    expect(e.kind).toBe('http');
    expect(e.status).toBe(502);
  });
  it('reports malformed JSON as a parse error quoting the body', async () => {
    srv.fail('get_book_summary_by_currency', { malformed: true });
    const e = await rejection<FeedError>(client().bookSummary('BTC'));
    expect(e.kind).toBe('parse');
    expect(e.message).toMatch(/not JSON .*instrument_na/);
  });
  it('times out a request that never answers', async () => {
    srv.fail('get_index_price', { hang: true });
    const e = await rejection<FeedError>(client(new FakeClock(), { timeoutMs: 150 }).indexPrice('btc_usd'));
    expect(e.kind).toBe('timeout');
  });
  it('reports an unreachable host as a network error that mentions CORS and the import path', async () => {
    const e = await rejection<FeedError>(new DeribitClient({ baseUrl: 'http://127.0.0.1:1/api/v2', timeoutMs: 2000 }).indexPrice('btc_usd'));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/CORS/);
    expect(e.message).toMatch(/import CSV\/\.npz/);
  });
  it('cancels through the AbortSignal', async () => {
    srv.fail('get_index_price', { hang: true });
    const ac = new AbortController();
    const p = client(new FakeClock(), { timeoutMs: 10_000 }).indexPrice('btc_usd', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('CreditPool', () => {
  it('allows a burst of max/cost requests, then paces at refill/cost per second', async () => {
    const clock = new FakeClock(0);
    const pool = new CreditPool({ maxCredits: 50_000, refillPerSec: 10_000, costPerRequest: 500 }, clock);
    for (let i = 0; i < 100; i++) await pool.take();
    expect(clock.t).toBe(0);
    for (let i = 0; i < 20; i++) await pool.take();
    // 20 more requests need 10 000 credits = 1 s of refill.
    expect(clock.t).toBeGreaterThanOrEqual(999);
    expect(clock.t).toBeLessThanOrEqual(1020);
  });
});
