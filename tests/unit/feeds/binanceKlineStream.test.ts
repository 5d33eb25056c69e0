import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BinanceKlineStream, klineStreamUrl, parseKlineMessage, type KlineBar, type KlineStreamState } from '../../../src/core/feeds/binanceKlineStream.ts';
import type { WebSocketCtor } from '../../../src/core/feeds/deribitStream.ts';
import { fixture } from '../../support/replayServer.ts';
import { useReplayServer, until } from '../../support/feeds.ts';

const srv = useReplayServer();
const WS = WebSocket as unknown as WebSocketCtor;

function open(extra: Partial<ConstructorParameters<typeof BinanceKlineStream>[0]> = {}) {
  const states: KlineStreamState[] = [];
  const bars: KlineBar[] = [];
  const skips: string[] = [];
  const s = new BinanceKlineStream(
    { url: srv.binanceWsUrl, symbol: 'BTCUSDT', interval: '1m', WebSocket: WS, staleMs: 200, deadMs: 500, backoff: { baseMs: 40, maxMs: 400, maxRetries: Infinity }, ...extra },
    { onState: (st) => states.push(st), onBar: (b) => bars.push(b), onSkipped: (r) => skips.push(r) },
  );
  s.start();
  return { s, states, bars, skips };
}

describe('parseKlineMessage (the documented fixture)', () => {
  const events = fixture<unknown[]>('binance_ws_kline');
  it('ignores open candles and parses the closed one with units in the names', () => {
    const r = events.map((e) => parseKlineMessage(JSON.stringify(e), 'BTCUSDT', '1m'));
    expect(r[0]).toBeNull();
    expect(r[2]).toBeNull();
    expect(r[1]).toEqual({
      symbol: 'BTCUSDT', interval: '1m', openTimeMs: 1734681600000, closeTimeMs: 1734681659999,
      openUsd: 97510, highUsd: 97544.9, lowUsd: 97490, closeUsd: 97538.7, volumeBase: 8.90211, quoteVolumeUsd: 868300.2367, trades: 851, missedBars: 0,
    });
    // The combined /stream wrapper carries the same event.
    expect(parseKlineMessage(JSON.stringify({ stream: 'btcusdt@kline_1m', data: events[1] }), 'BTCUSDT', '1m')).toEqual(r[1]);
  });
  it('gives a reason for what it skips', () => {
    const closed = events[1] as { k: Record<string, unknown> };
    expect(parseKlineMessage('{"e":"kl', 'BTCUSDT', '1m')).toEqual({ skip: 'a message was not JSON' });
    expect(parseKlineMessage('{"result":null,"id":1}', 'BTCUSDT', '1m')).toEqual({ skip: 'a message was not a kline event (e = null)' });
    expect(parseKlineMessage(JSON.stringify(closed), 'ETHUSDT', '1m')).toEqual({ skip: 'a kline of BTCUSDT 1m arrived on the ETHUSDT 1m stream' });
    const bad = { ...closed, k: { ...closed.k, c: 'n/a' } };
    expect(parseKlineMessage(JSON.stringify(bad), 'BTCUSDT', '1m')).toEqual({ skip: 'closed kline 1734681600000: k.c (closeUsd) is not a number: "n/a"' });
  });
  it('names the stream in lower case', () => {
    expect(klineStreamUrl('wss://stream.binance.com:9443/ws/', 'BTCUSDT', '1h')).toBe('wss://stream.binance.com:9443/ws/btcusdt@kline_1h');
  });
});

describe('BinanceKlineStream against the replay server', () => {
  it('emits closed bars one interval apart, in order', async () => {
    const { s, bars } = open();
    try {
      await until(() => bars.length >= 3);
      expect(srv.binanceWsPaths[0]).toBe('/ws/btcusdt@kline_1m');
      const t0 = Date.UTC(2024, 11, 20);
      expect(bars.slice(0, 3).map((b) => b.openTimeMs)).toEqual([t0, t0 + 60e3, t0 + 120e3]);
      expect(bars[0]!.closeTimeMs).toBe(t0 + 60e3 - 1);
      expect(bars.every((b) => b.closeUsd > 90000 && b.missedBars === 0)).toBe(true);
      expect(s.state).toMatchObject({ status: 'open', skipped: 0, stale: false });
    } finally {
      s.stop();
    }
  });
  it('skips a malformed message with a reason and keeps going', async () => {
    // Push 4 would be bar 1 closing: it is replaced by a broken frame, so bar 1 never arrives.
    srv.binanceWs = { pushMs: 20, malformedPushes: [4] };
    const { s, bars, skips } = open();
    try {
      await until(() => bars.length >= 3);
      expect(skips).toEqual(['a message was not JSON']);
      expect(s.state.skipped).toBe(1);
      const t0 = Date.UTC(2024, 11, 20);
      expect(bars.map((b) => b.openTimeMs).slice(0, 2)).toEqual([t0, t0 + 120e3]);
      // The hole is reported on the next bar, so a consumer can refill it from REST.
      expect(bars[1]!.missedBars).toBe(1);
    } finally {
      s.stop();
    }
  });
  it('reconnects after a dropped socket and continues the bars', async () => {
    srv.binanceWs = { pushMs: 20, dropAfterPushes: 3 };
    const { s, states, bars } = open();
    try {
      await until(() => s.state.connects >= 2 && bars.length >= 3);
      expect(states.some((st) => st.status === 'reconnecting' && /socket closed \(code 1006\)/.test(st.lastError ?? ''))).toBe(true);
      // Bars stay strictly one interval apart across the reconnect (pushes continue server-side).
      const gaps = bars.slice(1).map((b, i) => b.openTimeMs - bars[i]!.openTimeMs);
      expect(gaps.every((g) => g === 60e3)).toBe(true);
      // The first message of the new connection resets the backoff and clears the error (the
      // server drops every 3 pushes, so look at the states, not at this instant).
      expect(states.some((st) => st.connects >= 2 && st.attempt === 0 && st.lastError === undefined)).toBe(true);
    } finally {
      s.stop();
    }
  });
  it('reports a silent stream stale, then drops and reconnects it', async () => {
    srv.binanceWs = { pushMs: 20, silentAfterPushes: 2 };
    const { s, states } = open();
    try {
      await until(() => states.some((st) => st.stale));
      await until(() => s.state.connects >= 2);
      expect(states.some((st) => /no message for .* \(no kline update\): the connection is presumed dead; the stream reconnects by itself/.test(st.lastError ?? ''))).toBe(true);
    } finally {
      s.stop();
    }
  });
  it('says when nothing answers, and goes quiet after stop', async () => {
    const { s, states } = open({ url: 'ws://127.0.0.1:1/ws' });
    await until(() => s.state.attempt >= 2);
    expect(states.some((st) => /could not connect to ws:\/\/127\.0\.0\.1:1\/ws\/btcusdt@kline_1m/.test(st.lastError ?? ''))).toBe(true);
    s.stop();
    const n = states.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(states.length).toBe(n);
  });
});
