import { describe, expect, it } from 'vitest';
import { DataDesk, MARKET_NAMESPACE, outcome } from '../../../src/core/app/dataDesk.ts';
import { FeedError } from '../../../src/core/feeds/http.ts';
import type { SeriesTable } from '../../../src/core/feeds/series.ts';
import { loadRealMarketData } from '../../../src/core/market/realMarketData.ts';
import { MemoryStore, namespaced } from '../../../src/core/store/store.ts';
import { surfaceFromNpz } from '../../../src/core/surface/files.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { InputError } from '../../../src/core/errors.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer } from '../../support/feeds.ts';
import { FakeClock, FakeTimers } from '../../support/fakeClock.ts';
import { BOOK_TIME, syntheticBook } from '../feeds/book.ts';

const srv = useReplayServer();
const MIN = 60_000;
const H = 3_600_000;

function desk(root = new MemoryStore(), clock = new FakeClock(BOOK_TIME + MIN)) {
  const timers = new FakeTimers(clock);
  return { desk: new DataDesk(root, { clock, timers }), root, clock, timers };
}

const snapArgs = () => ({ baseUrl: srv.deribitBase, currency: 'BTC' });

/** Hourly series whose candle closes run from `from` for `n` steps. */
function series(from: number, n: number, symbol = 'BTCUSDT'): SeriesTable {
  const time = Array.from({ length: n }, (_, i) => from + i * H);
  const ones = time.map(() => 1);
  return { symbol, interval: '1h', time, closeSpot: time.map((_, i) => 97000 + i), volumeSpot: ones, closeFut: ones, fundingRate: ones, openInterest: ones };
}

describe('DataDesk: snapshots into the library', () => {
  it('stores a book once: a second snapshot of the same book is a duplicate of the first', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const { desk: d } = desk();
    const a = await d.snapshot(snapArgs());
    const b = await d.snapshot(snapArgs());
    expect(a.duplicate).toBe(false);
    expect(b).toMatchObject({ id: a.id, duplicate: true, expiries: 5 });
    const latest = await d.latestSnapshot('BTC');
    expect(latest).toMatchObject({ id: a.id, count: 1 });
    expect(latest!.surface.timestamp).toBe(BOOK_TIME);
    expect(await d.latestSnapshot('ETH')).toBeNull();
    // The download is the same surface in the seed's .npz keys.
    const back = surfaceFromNpz((await d.exportNpz(a.id))!, 'x.npz');
    expect(Array.from(back.iv)).toEqual(Array.from(latest!.surface.iv));
    expect(await d.exportNpz('nope')).toBeNull();
  });

  it('takes the newest snapshot of the currency as the latest', async () => {
    const { desk: d } = desk();
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook(BOOK_TIME + H));
    const newer = await d.snapshot(snapArgs());
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook(BOOK_TIME));
    await d.snapshot(snapArgs());
    expect(await d.latestSnapshot('BTC')).toMatchObject({ id: newer.id, count: 2 });
  });

  it('imports a surface .npz and tags Deribit ones so they count as snapshots', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const src = desk().desk;
    const bytes = (await src.exportNpz((await src.snapshot(snapArgs())).id))!;
    const { desk: d } = desk();
    const r = await d.importSurfaceNpz(bytes, 'BTC_iv_1734681600.npz');
    expect(r.duplicate).toBe(false);
    expect((await d.library.entry(r.id))!.tags).toEqual(['deribit', 'imported']);
    expect(await d.latestSnapshot('BTC')).toMatchObject({ id: r.id, count: 1 });
  });
});

describe('DataDesk: series', () => {
  it('stores fetched series under symbol-interval and CSV imports under the file name when unnamed', async () => {
    const { desk: d } = desk();
    const T0 = Date.UTC(2024, 11, 1);
    const r = await d.fetchSeries({ spotBaseUrl: srv.binanceSpotBase, futuresBaseUrl: srv.binanceFuturesBase, symbol: 'BTCUSDT', interval: '1h', start: T0, end: T0 + 5 * H });
    expect(r.name).toBe('BTCUSDT-1h');
    expect(await d.loadSeries('BTCUSDT-1h')).toEqual(r.table);
    const csv = await d.importSeriesCsv('time,close_spot\n1000,5\n2000,6\n', 'my prices.CSV');
    expect(csv.name).toBe('my prices');
    expect((await d.listSeries()).sort()).toEqual(['BTCUSDT-1h', 'my prices']);
    expect(await d.loadSeries('missing')).toBeNull();
  });
});

describe('DataDesk outcomes', () => {
  it('keeps the kind of a feed error, and reads other errors as input or cancelled', async () => {
    srv.fail('/klines', { status: 451, body: fixture('binance_error_restricted_location') });
    const { desk: d } = desk();
    const T0 = Date.UTC(2024, 11, 1);
    const r = await outcome(() => d.fetchSeries({ spotBaseUrl: srv.binanceSpotBase, futuresBaseUrl: srv.binanceFuturesBase, symbol: 'BTCUSDT', interval: '1h', start: T0, end: T0 + H }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'geo-blocked', feed: 'binance' });
    const bad = await outcome(() => d.importSeriesCsv('a,b\n1,2\n', 'f.csv'));
    expect(bad).toMatchObject({ ok: false, error: { kind: 'input', message: expect.stringContaining('f.csv') } });
    expect(await outcome(() => Promise.reject(new CancelledError()))).toMatchObject({ ok: false, error: { kind: 'cancelled' } });
    expect(await outcome(async () => 3)).toEqual({ ok: true, value: 3 });
    expect(new FeedError('deribit', 'parse', 'x', 'u')).toBeInstanceOf(Error);
  });
});

describe('DataDesk: snapshot schedule', () => {
  it('runs at once, keeps its settings in the store, and resumes on a new desk over that store', async () => {
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook());
    const { desk: d, root, clock, timers } = desk();
    const st = await d.scheduleStart({ ...snapArgs(), intervalMs: 15 * MIN });
    expect(st).toMatchObject({ enabled: true, intervalMs: 15 * MIN, source: 'deribit:BTC' });
    await timers.advanceTo(clock.t);
    await (await d.scheduler('BTC')).tick(); // the run the timer started fetches over real sockets
    expect(await d.scheduleState('BTC')).toMatchObject({ taken: 1 });
    expect(await d.latestSnapshot('BTC')).toMatchObject({ count: 1 });
    await d.dispose();

    // A reload: the schedule is found enabled and goes on with the saved settings.
    const again = new DataDesk(root, { clock, timers: new FakeTimers(clock) });
    expect(await again.scheduleState('BTC')).toMatchObject({ enabled: true, taken: 1 });
    expect(await again.scheduleStop('BTC')).toMatchObject({ enabled: false });
    await again.dispose();
  });

  it('refuses an interval under a minute without storing a schedule', async () => {
    const { desk: d } = desk();
    const r = await outcome(() => d.scheduleStart({ ...snapArgs(), intervalMs: 1000 }));
    expect(r).toMatchObject({ ok: false, error: { kind: 'input' } });
    expect(await d.scheduleState('BTC')).toMatchObject({ enabled: false, taken: 0 });
    await d.dispose();
  });
});

describe('DataDesk: RealMarketData', () => {
  it('aligns a stored series with the snapshots on the newest grid, leaving others out', async () => {
    const { desk: d, root } = desk();
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook(BOOK_TIME));
    await d.snapshot(snapArgs());
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook(BOOK_TIME + 2 * H));
    await d.snapshot(snapArgs());
    // An older snapshot on another grid (an earlier setting) must not enter the data set.
    srv.setDeribitResult('get_book_summary_by_currency', syntheticBook(BOOK_TIME - H));
    await d.snapshot({ ...snapArgs(), kGrid: [-0.2, 0, 0.2] });
    await d.saveSeries(series(BOOK_TIME - H, 6), 'btc');
    const r = await d.buildMarketData({ seriesName: 'btc', currency: 'BTC', toleranceMs: H, name: 'btc-BTC' });
    // Steps at -1 h (only the other-grid snapshot), 0, +1 h, +2 h, +3 h, +4 h (> 1 h after the last).
    expect(r).toEqual({ name: 'btc-BTC', steps: 6, matched: 4, surfaces: 2, skippedOtherGrid: 1 });
    const stored = await loadRealMarketData(namespaced(root, MARKET_NAMESPACE), 'btc-BTC');
    expect(Array.from(stored.hasSurface)).toEqual([0, 1, 1, 1, 1, 0]);
    expect(stored.kGrid).toEqual([-0.4, -0.2, 0, 0.2, 0.4]);
    await expect(d.buildMarketData({ seriesName: 'nope', currency: 'BTC', toleranceMs: H, name: 'x' })).rejects.toThrow(InputError);
  });
});
