import { describe, expect, it } from 'vitest';
import { BinanceClient, futuresKlineWeight, oiPeriodFor, parseKline } from '../../../src/core/feeds/binance.ts';
import { FeedError } from '../../../src/core/feeds/http.ts';
import { combineSeries, loadBinanceData, seriesFromCsv, seriesToCsv } from '../../../src/core/feeds/series.ts';
import { WeightLimiter } from '../../../src/core/feeds/rateLimit.ts';
import { InputError } from '../../../src/core/errors.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer, rejection } from '../../support/feeds.ts';
import { FakeClock } from '../../support/fakeClock.ts';

const srv = useReplayServer();

const H = 3_600_000;
const T0 = Date.UTC(2024, 11, 1);

function client(clock = new FakeClock(), extra = {}) {
  return new BinanceClient({ spotBaseUrl: srv.binanceSpotBase, futuresBaseUrl: srv.binanceFuturesBase, clock, timeoutMs: 2000, ...extra });
}

describe('Binance parsing', () => {
  it('parses the documented kline arrays, numeric strings included', () => {
    const rows = fixture<unknown[]>('binance_spot_klines').map((r, i) => parseKline(r, `row ${i}`, 'x'));
    expect(rows[0]).toMatchObject({ openTime: 1734667200000, open: 97310, close: 97662.52, volume: 1386.12459, closeTime: 1734670799999, trades: 57674 });
    expect(() => parseKline([1, 'abc', '1', '1', '1', '1', 2, '1', 1, '1', '1', '0'], 'row 3', 'x')).toThrow(/row 3: open: expected a number, got "abc"/);
  });
  it('maps intervals to open-interest periods and futures limits to weights', () => {
    expect(oiPeriodFor('1h')).toBe('1h');
    expect(oiPeriodFor('1m')).toBe('5m');
    expect(oiPeriodFor('1w')).toBe('1d');
    expect([futuresKlineWeight(99), futuresKlineWeight(499), futuresKlineWeight(1000), futuresKlineWeight(1500)]).toEqual([1, 2, 5, 10]);
  });
});

describe('BinanceClient', () => {
  it('pages spot klines over a long range without gaps or duplicates', async () => {
    const end = T0 + 2500 * H;
    const k = await client().klines('spot', 'BTCUSDT', '1h', T0, end);
    expect(k).toHaveLength(2501);
    expect(k.every((x, i) => x.openTime === T0 + i * H)).toBe(true);
    const pages = srv.requests.filter((r) => r.path === '/binance/api/v3/klines');
    expect(pages).toHaveLength(3);
    expect(pages.map((p) => p.query.limit)).toEqual(['1000', '1000', '1000']);
    expect(Number(pages[1]!.query.startTime)).toBe(T0 + 999 * H + 1);
  });
  it('pages futures klines at 1500 and funding / open interest', async () => {
    const c = client();
    const end = T0 + 2000 * H;
    expect(await c.klines('futures', 'BTCUSDT', '1h', T0, end)).toHaveLength(2001);
    const f = await c.fundingRates('BTCUSDT', T0, end);
    expect(f).toHaveLength(Math.floor(2000 / 8) + 1);
    expect(f[0]!.markPrice).toBeNaN(); // "" on old rows
    const oi = await c.openInterestHist('BTCUSDT', '1h', T0, T0 + 600 * H);
    expect(oi).toHaveLength(601); // 500 + 101, timestamps as numbers and as strings
    expect(oi.every((p, i) => p.timestamp === T0 + i * H)).toBe(true);
  });
  it('reads the premium index', async () => {
    const p = await client().premiumIndex('BTCUSDT');
    expect(p).toMatchObject({ markPrice: 97551.2, indexPrice: 97512.91234567, lastFundingRate: 0.00012345, nextFundingTime: 1734710400000 });
  });
  it('waits out Retry-After on 429 and on 418, then succeeds', async () => {
    srv.fail('/klines', { status: 429, headers: { 'retry-after': '3' }, body: { code: -1003, msg: 'Too many requests' } }, { status: 418, headers: { 'retry-after': '7' } });
    const clock = new FakeClock();
    const k = await client(clock).klines('spot', 'BTCUSDT', '1h', T0, T0 + 3 * H);
    expect(k).toHaveLength(4);
    expect(clock.sleeps).toEqual([3000, 7000]);
  });
  it('reports a Retry-After longer than it will wait (a long 418 ban) instead of hanging', async () => {
    srv.fail('/klines', { status: 418, headers: { 'retry-after': '7200' } });
    const e = await rejection<FeedError>(client().klines('spot', 'BTCUSDT', '1h', T0, T0 + H));
    expect(e.kind).toBe('rate-limit');
    expect(e.status).toBe(418);
    expect(e.message).toMatch(/IP banned.*7200 s/);
  });
  it('explains HTTP 451 as a geo-block with the mirror and CSV import ways round it', async () => {
    srv.fail('/klines', { status: 451, body: fixture('binance_error_restricted_location') });
    const c = client();
    const e = await rejection<FeedError>(c.klines('spot', 'BTCUSDT', '1h', T0, T0 + H));
    expect(e.kind).toBe('geo-blocked');
    expect(e.message).toMatch(/this location/);
    expect(e.message).toMatch(/data-api\.binance\.vision/);
    expect(e.message).toMatch(/CSV/);
    expect(c.status.lastError?.message).toBe(e.message);
  });
  it('surfaces Binance API errors with their code', async () => {
    const e = await rejection<FeedError>(client().klines('spot', 'NOPEUSDT', '1h', T0, T0 + H));
    expect(e.kind).toBe('api');
    expect(e.code).toBe(-1121);
    expect(e.message).toMatch(/Invalid symbol/);
  });
  it('retries 500s and reports malformed JSON', async () => {
    srv.fail('/premiumIndex', { status: 500 });
    expect((await client().premiumIndex('BTCUSDT')).markPrice).toBe(97551.2);
    srv.fail('/premiumIndex', { malformed: true });
    expect((await rejection<FeedError>(client().premiumIndex('BTCUSDT'))).kind).toBe('parse');
  });
  it('a CORS-less or unreachable host is a network error pointing at the import path', async () => {
    const e = await rejection<FeedError>(new BinanceClient({ spotBaseUrl: 'http://127.0.0.1:1', timeoutMs: 2000 }).klines('spot', 'BTCUSDT', '1h', T0, T0 + H));
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/CORS/);
  });
  it('throttles to the per-minute weight budget and trusts the server count', async () => {
    const clock = new FakeClock(T0);
    const lim = new WeightLimiter(10, clock);
    for (let i = 0; i < 5; i++) await lim.take(2);
    expect(clock.t).toBe(T0);
    await lim.take(2);
    expect(clock.t).toBe(T0 + 60_001); // waited for the next minute
    lim.observe('9');
    expect(lim.usedThisMinute()).toBe(9);
    await lim.take(2);
    expect(clock.t).toBeGreaterThanOrEqual(T0 + 120_000);
  });
});

describe('loadBinanceData / combined table', () => {
  it('joins spot and futures exactly and carries funding and open interest forward', async () => {
    const t = await loadBinanceData(client(), { symbol: 'BTCUSDT', interval: '1h', start: T0, end: T0 + 47 * H });
    expect(t.time).toHaveLength(48);
    expect(t.time[0]).toBe(T0 + H); // close time
    // Prices are sent with 2 decimals: the ratio is exact to ~1e-7.
    expect(t.closeFut[0]! / t.closeSpot[0]!).toBeCloseTo(1.0004, 6);
    expect(t.fundingRate.every(Number.isFinite)).toBe(true);
    // Funding changes only at 00/08/16 UTC: rows inside one funding period share the rate.
    expect(t.fundingRate[1]).toBe(t.fundingRate[6]);
    expect(t.openInterest.every(Number.isFinite)).toBe(true);
  });
  it('drops spot rows without a futures candle and leaves missing funding as NaN', () => {
    const k = (t: number, c: number) => ({ openTime: t, open: c, high: c, low: c, close: c, volume: 1, closeTime: t + H - 1, quoteVolume: 1, trades: 1, takerBuyBaseVolume: 1, takerBuyQuoteVolume: 1 });
    const spot = [k(2 * H, 3), k(0, 1), k(H, 2), k(H, 2)];
    const fut = [k(0, 1.1), k(2 * H, 3.1)];
    const t = combineSeries('X', '1h', spot, fut, [{ fundingTime: 2 * H, fundingRate: 0.001, markPrice: NaN }], []);
    expect(t.time).toEqual([H, 3 * H]);
    expect(t.closeFut).toEqual([1.1, 3.1]);
    expect(t.fundingRate[0]).toBeNaN();
    expect(t.fundingRate[1]).toBe(0.001);
    expect(t.openInterest.every(Number.isNaN)).toBe(true);
  });
  it('round-trips through CSV and names the row of a bad cell', async () => {
    const t = await loadBinanceData(client(), { symbol: 'BTCUSDT', interval: '1h', start: T0, end: T0 + 5 * H });
    t.openInterest[2] = NaN;
    const back = seriesFromCsv(seriesToCsv(t));
    expect(back).toEqual(t);
    expect(() => seriesFromCsv('time,close_spot\n1,2\n2,abc\n', 'f.csv')).toThrow(/f\.csv: row 2: close_spot "abc"/);
    expect(() => seriesFromCsv('a,b\n1,2\n', 'f.csv')).toThrow(InputError);
    expect(seriesFromCsv('time,close_spot\n2024-12-01T01:00:00Z,5\n').time).toEqual([T0 + H]);
  });
});
