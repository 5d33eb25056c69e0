import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DeribitStream, liveChannels, type WebSocketCtor } from '../../../src/core/feeds/deribitStream.ts';
import { QuoteRecorder, recordChannels, type RecorderStats } from '../../../src/core/smile/recorder.ts';
import { QuoteStore } from '../../../src/core/smile/quoteStore.ts';
import { MemoryStore, QuotaError } from '../../../src/core/store/store.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer, until } from '../../support/feeds.ts';

const srv = useReplayServer();
// The fixture chain (BTC-27DEC24-…) expired in 2024, so the recorder's clock runs as on the
// fixture's day, 2024-12-20 (its sampling timers still tick in real time).
const OFFSET = Date.now() - Date.UTC(2024, 11, 20, 12);
const clock = { now: () => Date.now() - OFFSET };

function record(store = new QuoteStore(new MemoryStore()), channels = liveChannels('BTC')) {
  const written: { n: number; stats: RecorderStats }[] = [];
  const rec = new QuoteRecorder({ underlying: 'BTC', samplingMs: 100 }, { store, clock, onSample: (q, stats) => written.push({ n: q.length, stats }) });
  const h = rec.handlers();
  const stream = new DeribitStream({ url: srv.wsUrl, WebSocket: WebSocket as unknown as WebSocketCtor, channels, staleMs: 250, deadMs: 600, backoff: { baseMs: 40, maxMs: 400, maxRetries: Infinity } }, h);
  stream.start();
  rec.start();
  return { rec, stream, store, written, stop: () => (rec.stop(), stream.stop()) };
}

describe('QuoteRecorder on the Deribit stream (local replay server)', () => {
  it('records the chain at the sampling interval: one timestamp per sample, iv as a fraction, spot from the index', async () => {
    const r = record();
    try {
      await until(() => r.rec.stats.samples >= 3);
      const quotes = await r.store.query();
      const times = [...new Set(quotes.map((q) => q.tsMs))];
      expect(times.every((t) => t % 100 === 0)).toBe(true);
      for (const t of times) expect(quotes.filter((q) => q.tsMs === t).map((q) => `${q.strike}${q.right}`).sort()).toEqual(['100000C', '110000C', '95000P']);
      const index = fixture<{ params: { data: { price: number } } }>('deribit_ws_price_index_notification').params.data.price;
      expect(quotes.every((q) => q.spot === index && q.iv > 0.3 && q.iv < 1 && q.expiryMs === Date.UTC(2024, 11, 27, 8))).toBe(true);
      expect(quotes[0]!.mark).toBeGreaterThan(0);
    } finally {
      r.stop();
    }
  });

  it('keeps recording across a dropped socket, and never writes while the stream is not open', async () => {
    srv.ws = { pushMs: 30, dropAfterPushes: 3 };
    const r = record();
    try {
      await until(() => r.stream.state.connects >= 3 && r.written.length >= 4, 8000);
      expect(r.written.every((w) => w.stats.stream?.status === 'open' && !w.stats.stream.stale)).toBe(true);
      expect(r.rec.stats.quotesWritten).toBe((await r.store.query()).length);
    } finally {
      r.stop();
    }
  });

  it('skips samples while the stream is stale (silent server) instead of recording old marks as fresh', async () => {
    srv.ws = { pushMs: 30, silentAfterPushes: 2 };
    const r = record();
    try {
      await until(() => r.rec.stats.skippedStale >= 2, 8000);
      const before = (await r.store.query()).length;
      expect(r.written.every((w) => !w.stats.stream?.stale)).toBe(true);
      expect(r.rec.stats.quotesWritten).toBe(before);
    } finally {
      r.stop();
    }
  });

  it('a full store keeps the sample buffered and reports it; nothing stored is lost', async () => {
    const raw = new MemoryStore();
    let full = false;
    const setMany = raw.setMany.bind(raw);
    raw.setMany = async (e) => {
      if (full) throw new QuotaError('test');
      return setMany(e);
    };
    const r = record(new QuoteStore(raw));
    try {
      await until(() => r.rec.stats.quotesWritten >= 3);
      full = true;
      const stored = (await r.store.query()).length;
      await until(() => r.rec.stats.pending >= 6);
      expect(r.rec.stats.lastError).toMatch(/storage is full/);
      expect((await r.store.query()).length).toBe(stored);
      full = false;
      await until(() => r.rec.stats.pending === 0);
      expect((await r.store.query()).length).toBeGreaterThanOrEqual(stored + 6);
    } finally {
      r.stop();
    }
  });
});

describe('QuoteRecorder on chosen contracts (ticker.{instrument}.100ms, local replay server)', () => {
  const CHOSEN = ['BTC-27DEC24-100000-C', 'BTC-27DEC24-90000-P'];
  const tickers = () => recordChannels('BTC', CHOSEN);
  const ticker = fixture<{ params: { data: { mark_iv: number; mark_price: number; best_bid_price: number; best_ask_price: number } } }>('deribit_ws_ticker_notification').params.data;
  const index = fixture<{ params: { data: { price: number } } }>('deribit_ws_price_index_notification').params.data.price;

  it('subscribes one ticker per chosen contract plus the index; refuses a non-option or another currency', () => {
    expect(tickers()).toEqual(['ticker.BTC-27DEC24-100000-C.100ms', 'ticker.BTC-27DEC24-90000-P.100ms', 'deribit_price_index.btc_usd']);
    expect(recordChannels('BTC', [' ', ''])).toEqual(liveChannels('BTC'));
    expect(() => recordChannels('BTC', ['BTC-PERPETUAL'])).toThrow(/not an option/);
    expect(() => recordChannels('BTC', ['ETH-27DEC24-4000-C'])).toThrow(/not a BTC option/);
  });

  it('records only the chosen contracts: iv from mark_iv in percent, mark / bid / ask in USD at the index', async () => {
    const r = record(undefined, tickers());
    try {
      await until(() => r.rec.stats.samples >= 3);
      const quotes = await r.store.query();
      expect(quotes.length).toBeGreaterThanOrEqual(6);
      for (const t of new Set(quotes.map((q) => q.tsMs))) expect(quotes.filter((q) => q.tsMs === t).map((q) => `${q.strike}${q.right}`).sort()).toEqual(['100000C', '90000P']);
      // The replay server sends the fixture's numbers for every ticker: 55.1 % -> 0.551 exactly
      // (one division), and coin prices times the index to within float64 rounding.
      for (const q of quotes) {
        expect(q.iv).toBeCloseTo(ticker.mark_iv / 100, 12);
        expect(q.spot).toBe(index);
        expect(q.mark).toBeCloseTo(ticker.mark_price * index, 6);
        expect(q.bid).toBeCloseTo(ticker.best_bid_price * index, 6);
        expect(q.ask).toBeCloseTo(ticker.best_ask_price * index, 6);
        expect(q.expiryMs).toBe(Date.UTC(2024, 11, 27, 8));
      }
    } finally {
      r.stop();
    }
  });

  it('keeps recording the tickers across dropped sockets (resubscribing them) and skips stale samples', async () => {
    srv.ws = { pushMs: 30, dropAfterPushes: 3 };
    const r = record(undefined, tickers());
    try {
      await until(() => r.stream.state.connects >= 3 && r.written.length >= 4, 8000);
      expect(r.written.every((w) => w.stats.stream?.status === 'open' && !w.stats.stream.stale)).toBe(true);
      const subs = srv.wsReceived.filter((m) => m.method === 'public/subscribe');
      expect(subs.length).toBeGreaterThanOrEqual(3);
      for (const m of subs) expect((m.params as { channels?: string[] } | undefined)?.channels).toEqual(tickers());
      expect(r.rec.stats.quotesWritten).toBe((await r.store.query()).length);
    } finally {
      r.stop();
    }
    srv.reset();
    srv.ws = { pushMs: 30, silentAfterPushes: 2 };
    const s = record(undefined, tickers());
    try {
      await until(() => s.rec.stats.skippedStale >= 2, 8000);
      expect(s.written.every((w) => !w.stats.stream?.stale)).toBe(true);
      expect(s.rec.stats.quotesWritten).toBe((await s.store.query()).length);
    } finally {
      s.stop();
    }
  });
});
