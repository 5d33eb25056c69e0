/**
 * Issue 14 item 3: on HTTP 429 with `Retry-After: 1` the Deribit client retried after 0.4 s (its
 * own backoff), and the Binance client read an ABSENT Retry-After as 0 s (Number(null) is 0) and
 * retried at once. Every feed now waits what the server asks — seconds or an HTTP date — reports
 * a wait longer than its cap instead of hanging, and says in the progress line which rule chose
 * the wait. Against tests/support/replayServer.ts, in virtual time except one real-time check.
 */
import { describe, expect, it } from 'vitest';
import { DeribitClient } from '../../../src/core/feeds/deribit.ts';
import { BinanceClient } from '../../../src/core/feeds/binance.ts';
import { FeedError, systemClock } from '../../../src/core/feeds/http.ts';
import { parseRetryAfter, planRetry, DEFAULT_BACKOFF } from '../../../src/core/feeds/rateLimit.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { useReplayServer, rejection } from '../../support/feeds.ts';
import { FakeClock } from '../../support/fakeClock.ts';

const srv = useReplayServer();
const T0 = Date.UTC(2024, 11, 20);
const H = 3_600_000;

const deribit = (clock: FakeClock | typeof systemClock = new FakeClock(), extra = {}) => new DeribitClient({ baseUrl: srv.deribitBase, clock, seed: 7, timeoutMs: 2000, ...extra });
const binance = (clock = new FakeClock(), extra = {}) => new BinanceClient({ spotBaseUrl: srv.binanceSpotBase, futuresBaseUrl: srv.binanceFuturesBase, clock, seed: 3, timeoutMs: 2000, ...extra });

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 11, 20, 8, 0, 0);
  it('reads delay-seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('1', now)).toBe(1000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter(new Date(now + 7000).toUTCString(), now)).toBe(7000); // "Fri, 20 Dec 2024 08:00:07 GMT"
    expect(parseRetryAfter('Fri, 20 Dec 2024 07:59:00 GMT', now)).toBe(0); // already past: retry now
    for (const h of [null, undefined, '', '-1', 'soon', '12abc', '1e3']) expect(parseRetryAfter(h, now)).toBeUndefined();
  });
  it('plans the server wait without drawing jitter, the seeded backoff otherwise', () => {
    const a = new Rng(5);
    expect(planRetry(0, '2', now, DEFAULT_BACKOFF, a)).toEqual({ waitMs: 2000, retryAfterMs: 2000, says: 'Retry-After 2 s' });
    const b = new Rng(5);
    const p = planRetry(0, null, now, DEFAULT_BACKOFF, b);
    expect(p.retryAfterMs).toBeUndefined();
    expect(p.waitMs).toBeGreaterThanOrEqual(250); // 500 ms base scaled into [0.5, 1)
    expect(p.waitMs).toBeLessThan(500);
    // The header path consumed nothing: a's next draw equals b's first.
    expect(planRetry(0, null, now, DEFAULT_BACKOFF, a).waitMs).toBe(p.waitMs);
  });
});

describe('Deribit honours Retry-After', () => {
  it('waits the 1 s a 429 asks for (not its 0.4 s backoff), then succeeds', async () => {
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': '1' }, body: '' });
    const clock = new FakeClock();
    const progress: string[] = [];
    const r = await deribit(clock).indexPrice('btc_usd', { onProgress: (p) => progress.push(p.message ?? '') });
    expect(r.indexPriceUsd).toBe(97512.34);
    expect(srv.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
    expect(progress).toEqual(['deribit: HTTP 429 (too many requests), Retry-After 1 s; retrying in 1000 ms']);
  });

  it('retries at least 1 s later in real time', async () => {
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': '1' }, body: '' });
    await deribit(systemClock).indexPrice('btc_usd');
    const [first, second] = srv.requests;
    // The server stamps arrivals with Date.now(); timers never fire early, so ≥ 1000 ms holds
    // exactly (the old client's 0.4 s backoff fails it by 600 ms).
    expect(second!.atMs - first!.atMs).toBeGreaterThanOrEqual(1000);
  });

  it('reads an HTTP-date Retry-After, and one on a 503', async () => {
    const clock = new FakeClock();
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': new Date(clock.t + 5000).toUTCString() }, body: '' }, { status: 503, headers: { 'retry-after': '2' }, body: '' });
    await deribit(clock).indexPrice('btc_usd');
    expect(clock.sleeps).toEqual([5000, 2000]);
  });

  it('reports a Retry-After above its cap instead of hanging, like the Binance client', async () => {
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': '600' }, body: '' });
    const clock = new FakeClock();
    const e = await rejection<FeedError>(deribit(clock).indexPrice('btc_usd'));
    expect(e).toBeInstanceOf(FeedError);
    expect(e.kind).toBe('rate-limit');
    expect(e.status).toBe(429);
    expect(e.message).toMatch(/HTTP 429 \(too many requests\); Retry-After 600 s, longer than this client waits \(2 min\)/);
    expect(clock.sleeps).toEqual([]);
    expect(srv.requests).toHaveLength(1);
    // The cap is configurable.
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': '600' }, body: '' });
    const c2 = new FakeClock();
    await deribit(c2, { maxRetryAfterMs: 3_600_000 }).indexPrice('btc_usd');
    expect(c2.sleeps).toEqual([600_000]);
  });

  it('says which wait it used when it gives up', async () => {
    srv.fail('get_index_price', { status: 429, headers: { 'retry-after': '1' }, body: '' }, { status: 429, headers: { 'retry-after': '1' }, body: '' });
    const e = await rejection<FeedError>(deribit(new FakeClock(), { backoff: { baseMs: 10, maxMs: 100, maxRetries: 1 } }).indexPrice('btc_usd'));
    expect(e.message).toMatch(/gave up after 2 attempts \(last Retry-After 1 s\)/);
  });
});

describe('Binance without a Retry-After', () => {
  it('backs off instead of retrying at once (an absent header once read as 0 s)', async () => {
    srv.fail('/klines', { status: 429, body: { code: -1003, msg: 'Too many requests' } });
    const clock = new FakeClock();
    await binance(clock).klines('spot', 'BTCUSDT', '1h', T0, T0 + 3 * H);
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(250); // 500 ms base · [0.5, 1)
    expect(clock.sleeps[0]).toBeLessThan(500);
  });
  it('honours an HTTP-date Retry-After', async () => {
    const clock = new FakeClock();
    srv.fail('/klines', { status: 429, headers: { 'retry-after': new Date(clock.t + 4000).toUTCString() }, body: { code: -1003, msg: 'Too many requests' } });
    await binance(clock).klines('spot', 'BTCUSDT', '1h', T0, T0 + 3 * H);
    expect(clock.sleeps).toEqual([4000]);
  });
});
