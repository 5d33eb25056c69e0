/**
 * Binance's kline WebSocket (`wss://stream.binance.com:9443/ws/<symbol>@kline_<interval>`) as a
 * stream of CLOSED bars. The exchange pushes the open candle every ~1–2 s (k.x false) and once
 * more when it closes (k.x true); only the closed event is a bar — an open candle's close is a
 * price that can still move, and a decision on it would see the future of its own bar.
 *  - Parsing: numbers arrive as JSON strings (fixtures/api/README.md); a message that is not JSON,
 *    not a kline event, of another symbol/interval, or with a field that is not a finite number is
 *    SKIPPED with a reason (onSkipped + state.skipped), never thrown: one bad frame must not end a
 *    live session. A closed bar at or before the last one emitted (a replay after a reconnect) is
 *    skipped too; a bar after a hole says how many bars it missed (`missedBars`).
 *  - Staleness: nothing for `staleMs` (default 10 s: five open-candle updates) marks it stale; nothing
 *    for `deadMs` (default 60 s: Binance itself drops a client silent for a minute) closes the
 *    socket and reconnects.
 *  - Reconnection: exponential backoff with seeded jitter (rateLimit.ts), reset by the first
 *    message of a new connection; error sentences from streamErrors.ts. The socket lifecycle is
 *    reconnectingSocket.ts, shared with DeribitStream.
 * No subscription message: the stream is named in the URL. Binance pings every ~20 s at the
 * WebSocket level; browsers and `ws` answer pings themselves.
 */
import { systemClock } from './http.ts';
import { intervalMs } from './binance.ts';
import { ReconnectingSocket, type ReconnectingSocketConfig, type SocketState } from './reconnectingSocket.ts';
import { systemTimers } from './scheduler.ts';

/** The real endpoint (base; the stream name is appended). */
export const BINANCE_WS_URL = 'wss://stream.binance.com:9443/ws';

/** One closed candle. Binance quotes BTCUSDT in USDT, taken here as USD. */
export interface KlineBar {
  symbol: string;
  interval: string;
  openTimeMs: number;
  /** Last millisecond of the bar (openTime + interval − 1). */
  closeTimeMs: number;
  openUsd: number;
  highUsd: number;
  lowUsd: number;
  closeUsd: number;
  /** Base-asset volume (BTC for BTCUSDT). */
  volumeBase: number;
  quoteVolumeUsd: number;
  trades: number;
  /** Closed bars between the previous emitted bar and this one that never arrived (0 normally). */
  missedBars: number;
}

export interface KlineStreamState extends SocketState {
  /** Reconnect attempts since the last message of a live connection. */
  attempt: number;
  /** What went wrong last, as a sentence saying what to do; cleared by the next message. */
  lastError: string | undefined;
  /** Messages skipped so far, and why the last one was. */
  skipped: number;
  lastSkipReason: string | undefined;
  bars: number;
}

export interface KlineStreamHandlers {
  onState?(s: KlineStreamState): void;
  onBar?(bar: KlineBar): void;
  onSkipped?(reason: string): void;
}

/** The socket's settings (reconnectingSocket.ts), with `url` the base the stream name is appended to. */
export interface KlineStreamConfig extends ReconnectingSocketConfig {
  /** Base URL (BINANCE_WS_URL or a mirror); `/<symbol>@kline_<interval>` is appended. */
  url: string;
  symbol: string;
  interval: string;
}

/** The full stream URL: base + `/btcusdt@kline_1h` (Binance wants the symbol in lower case). */
export function klineStreamUrl(base: string, symbol: string, interval: string): string {
  return `${base.replace(/\/+$/, '')}/${symbol.toLowerCase()}@kline_${interval}`;
}

type Row = Record<string, unknown>;

/**
 * A closed bar from one message, or the reason it is not one (`null` for an open candle, which is
 * normal traffic, not a skip). Accepts the raw `/ws` event and the combined `/stream` wrapper.
 */
export function parseKlineMessage(data: unknown, symbol: string, interval: string): KlineBar | null | { skip: string } {
  let msg: Row;
  try {
    msg = JSON.parse(typeof data === 'string' ? data : String(data)) as Row;
  } catch {
    return { skip: 'a message was not JSON' };
  }
  if (msg && typeof msg === 'object' && 'stream' in msg && typeof msg.data === 'object') msg = msg.data as Row;
  if (!msg || typeof msg !== 'object' || msg.e !== 'kline' || typeof msg.k !== 'object' || msg.k === null) {
    return { skip: `a message was not a kline event (e = ${JSON.stringify((msg as Row | null)?.e ?? null)})` };
  }
  const k = msg.k as Row;
  if (String(k.s).toUpperCase() !== symbol.toUpperCase() || k.i !== interval) {
    return { skip: `a kline of ${String(k.s)} ${String(k.i)} arrived on the ${symbol.toUpperCase()} ${interval} stream` };
  }
  if (k.x !== true) return null;
  const fields: [string, string][] = [['t', 'openTimeMs'], ['T', 'closeTimeMs'], ['o', 'openUsd'], ['h', 'highUsd'], ['l', 'lowUsd'], ['c', 'closeUsd'], ['v', 'volumeBase']];
  const out: Record<string, number> = {};
  for (const [key, name] of fields) {
    const v = k[key];
    const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(x)) return { skip: `closed kline ${String(k.t)}: k.${key} (${name}) is not a number: ${JSON.stringify(v ?? null)}` };
    out[name] = x;
  }
  if (!(out.closeUsd! > 0)) return { skip: `closed kline ${String(k.t)}: k.c (closeUsd) must be > 0, got ${out.closeUsd}` };
  return {
    symbol: symbol.toUpperCase(),
    interval,
    openTimeMs: out.openTimeMs!,
    closeTimeMs: out.closeTimeMs!,
    openUsd: out.openUsd!,
    highUsd: out.highUsd!,
    lowUsd: out.lowUsd!,
    closeUsd: out.closeUsd!,
    volumeBase: out.volumeBase!,
    quoteVolumeUsd: Number(k.q) || 0,
    trades: Number(k.n) || 0,
    missedBars: 0,
  };
}

export class BinanceKlineStream {
  readonly config: KlineStreamConfig;
  readonly streamUrl: string;
  private readonly stepMs: number;
  private lastOpenTime = -Infinity;
  private readonly socket: ReconnectingSocket<KlineStreamState>;

  constructor(
    config: Partial<KlineStreamConfig> & Pick<KlineStreamConfig, 'url' | 'symbol' | 'interval' | 'WebSocket'>,
    private readonly handlers: KlineStreamHandlers = {},
  ) {
    this.config = {
      staleMs: 10_000,
      deadMs: 60_000,
      backoff: { baseMs: 500, maxMs: 30_000, maxRetries: Infinity },
      seed: 1,
      clock: systemClock,
      timers: systemTimers,
      ...config,
    };
    this.stepMs = intervalMs(this.config.interval);
    this.streamUrl = klineStreamUrl(this.config.url, this.config.symbol, this.config.interval);
    this.socket = new ReconnectingSocket<KlineStreamState>(
      { ...this.config, url: this.streamUrl },
      { status: 'idle', stale: false, attempt: 0, connects: 0, lastMessageAt: undefined, lastError: undefined, skipped: 0, lastSkipReason: undefined, bars: 0 },
      {
        onState: () => this.handlers.onState?.(this.state),
        onMessage: (data) => this.onMessage(data),
        // streamErrors.ts words its sentences for Deribit: name Binance's endpoint and what went silent.
        reword: (kind, sentence) =>
          kind === 'openFailure' ? sentence.replace('e.g. wss://www.deribit.com/ws/api/v2', `e.g. ${BINANCE_WS_URL}`) : sentence.replace('(heartbeat missed)', '(no kline update)'),
      },
    );
  }

  get state(): KlineStreamState {
    return { ...this.socket.state };
  }

  /** Bars at or before this open time are not emitted again (the caller's history ends there). */
  skipThrough(openTimeMs: number): void {
    this.lastOpenTime = Math.max(this.lastOpenTime, openTimeMs);
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.socket.stop();
  }

  private update(p: Partial<KlineStreamState>): void {
    this.socket.update(p);
  }

  private skip(reason: string): void {
    this.update({ skipped: this.socket.state.skipped + 1, lastSkipReason: reason });
    this.handlers.onSkipped?.(reason);
  }

  private onMessage(data: unknown): void {
    const s = this.socket.state;
    const first = s.attempt !== 0 || s.lastError !== undefined || s.stale;
    // Any message proves the connection live: the backoff restarts and the last error is cleared.
    if (first) this.update({ stale: false, attempt: 0, lastError: undefined });
    const r = parseKlineMessage(data, this.config.symbol, this.config.interval);
    if (r === null) return;
    if ('skip' in r) return this.skip(r.skip);
    if (r.openTimeMs <= this.lastOpenTime) return this.skip(`closed kline ${r.openTimeMs} was already seen (a replay after a reconnect)`);
    const missed = Number.isFinite(this.lastOpenTime) ? Math.max(0, Math.round((r.openTimeMs - this.lastOpenTime) / this.stepMs) - 1) : 0;
    this.lastOpenTime = r.openTimeMs;
    const bar = { ...r, missedBars: missed };
    this.update({ bars: this.socket.state.bars + 1 });
    this.handlers.onBar?.(bar);
  }
}
