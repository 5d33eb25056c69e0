import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { DeribitStream, liveChannels, type StreamState, type WebSocketCtor } from '../../../src/core/feeds/deribitStream.ts';
import { LiveSmileBook } from '../../../src/core/feeds/liveSmile.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer, until } from '../../support/feeds.ts';

const srv = useReplayServer();

const WS = WebSocket as unknown as WebSocketCtor;

function open(extra: Partial<ConstructorParameters<typeof DeribitStream>[0]> = {}) {
  const states: StreamState[] = [];
  const book = new LiveSmileBook();
  let tickers = 0;
  const s = new DeribitStream(
    { url: srv.wsUrl, WebSocket: WS, channels: liveChannels('BTC', 'BTC-27DEC24-100000-C'), staleMs: 250, deadMs: 600, backoff: { baseMs: 40, maxMs: 400, maxRetries: Infinity }, ...extra },
    {
      onState: (st) => states.push(st),
      onTicker: (d) => {
        tickers++;
        book.applyTicker(d);
      },
      onMarkPrices: (rows) => book.applyMarkPrices(rows),
      onIndexPrice: (p) => book.applyIndex(p.price),
    },
  );
  s.start();
  return { s, states, book, tickers: () => tickers };
}

describe('DeribitStream', () => {
  it('sets the heartbeat, subscribes, and feeds a live smile (iv as a fraction)', async () => {
    const { s, book } = open();
    try {
      await until(() => s.state.subscribed.length === 3 && book.size === 3 && book.indexPrice !== undefined);
      const sent = srv.wsReceived.map((m) => m.method);
      expect(sent.slice(0, 2)).toEqual(['public/set_heartbeat', 'public/subscribe']);
      expect(srv.wsReceived[0]!.params).toEqual({ interval: 10 });
      const expiry = Date.UTC(2024, 11, 27, 8);
      await until(() => book.smile(expiry)?.forwardFrom === 'ticker');
      const sm = book.smile(expiry)!;
      expect(sm.forward).toBe(97804.5);
      // 95000-P and 100000-C, 110000-C: OTM side on each strike, k = ln(K/F).
      expect(sm.points.map((p) => p.strike)).toEqual([95000, 100000, 110000]);
      expect(sm.points[1]!.k).toBeCloseTo(Math.log(100000 / 97804.5), 12);
      // Fraction on this channel: ~0.551, not 55.1.
      expect(sm.points[1]!.iv).toBeGreaterThan(0.54);
      expect(sm.points[1]!.iv).toBeLessThan(0.56);
    } finally {
      s.stop();
    }
  });
  it('answers heartbeat test_request with public/test', async () => {
    srv.ws = { pushMs: 50, heartbeatMs: 60 };
    const { s } = open();
    try {
      await until(() => srv.wsReceived.filter((m) => m.method === 'public/test').length >= 2);
      expect(s.state.status).toBe('open');
    } finally {
      s.stop();
    }
  });
  it('reconnects after a drop mid-stream and subscribes again', async () => {
    srv.ws = { pushMs: 30, dropAfterPushes: 3 };
    const { s, states } = open();
    try {
      await until(() => s.state.connects >= 2 && s.state.subscribed.length === 3);
      expect(states.some((st) => st.status === 'reconnecting')).toBe(true);
      expect(srv.wsReceived.filter((m) => m.method === 'public/subscribe').length).toBeGreaterThanOrEqual(2);
      // A confirmed subscription resets the backoff.
      expect(s.state.attempt).toBe(0);
    } finally {
      s.stop();
    }
  });
  it('marks a silent stream stale, then drops and reconnects it when heartbeats stop', async () => {
    srv.ws = { pushMs: 30, silentAfterPushes: 2 };
    const { s, states } = open();
    try {
      await until(() => states.some((st) => st.stale));
      await until(() => s.state.connects >= 2);
      expect(states.some((st) => /heartbeat missed/.test(st.lastError ?? ''))).toBe(true);
    } finally {
      s.stop();
    }
  });
  it('keeps retrying while the server is unreachable, and stops cleanly', async () => {
    const { s, states } = open({ url: 'ws://127.0.0.1:1/ws' });
    await until(() => s.state.attempt >= 3);
    s.stop();
    expect(s.state.status).toBe('closed');
    const n = states.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(states.length).toBe(n); // no activity after stop
  });
});

describe('DeribitStream handshake', () => {
  it('treats a server that accepts TCP but never completes the handshake as a drop', async () => {
    const held: Socket[] = [];
    const tcp = createServer((sock) => held.push(sock));
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const port = (tcp.address() as AddressInfo).port;
    const { s, states } = open({ url: `ws://127.0.0.1:${port}/ws`, deadMs: 300 });
    try {
      await until(() => s.state.attempt >= 1);
      expect(states.some((st) => /no WebSocket handshake from ws:\/\/127\.0\.0\.1/.test(st.lastError ?? ''))).toBe(true);
      expect(s.state.connects).toBe(0);
    } finally {
      s.stop();
      for (const h of held) h.destroy();
      await new Promise((r) => tcp.close(r));
    }
  });
});

describe('LiveSmileBook', () => {
  it('uses the index as forward until a ticker gives the expiry’s own', () => {
    const b = new LiveSmileBook();
    const note = fixture<{ params: { data: { instrument_name: string; mark_price: number; iv: number; timestamp: number }[] } }>('deribit_ws_markprice_options_notification');
    b.applyMarkPrices(note.params.data.map((r) => ({ instrumentName: r.instrument_name, markPriceCoin: r.mark_price, iv: r.iv, timestamp: r.timestamp })));
    const e = Date.UTC(2024, 11, 27, 8);
    expect(b.smile(e)).toBeUndefined();
    b.applyIndex(97512.34);
    expect(b.smile(e)!.forwardFrom).toBe('index');
    b.applyTicker(fixture<{ params: { data: Record<string, unknown> } }>('deribit_ws_ticker_notification').params.data);
    expect(b.smile(e)).toMatchObject({ forwardFrom: 'ticker', forward: 97804.5 });
    expect(b.smile(e)!.points.map((p) => p.iv)).toEqual([0.579, 0.551, 0.613]);
  });
});
