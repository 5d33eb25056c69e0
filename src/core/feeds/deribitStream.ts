/**
 * Deribit's WebSocket (JSON-RPC 2.0): subscribes to channels, keeps the connection provably alive
 * and comes back after a drop.
 *  - Heartbeat: after public/set_heartbeat the server sends {method:"heartbeat",
 *    params:{type:"test_request"}} every interval and closes the socket unless the client answers
 *    with public/test; we answer each one.
 *  - Staleness: no message for `staleMs` marks the stream stale (shown in the UI); none for
 *    `deadMs` (a heartbeat interval and then some, so a silent server is caught even when the
 *    socket still looks open) closes it and reconnects.
 *  - Reconnection: exponential backoff with seeded jitter, reset once a subscription is confirmed;
 *    every reconnect re-sends set_heartbeat and the subscriptions.
 * The WebSocket constructor is injected: the browser passes its global, Node 20 passes `ws`. The
 * socket lifecycle (handshake and silence watchdogs, backoff reconnect) is reconnectingSocket.ts,
 * shared with BinanceKlineStream; this class keeps the JSON-RPC protocol.
 */
import { systemClock } from './http.ts';
import { ReconnectingSocket, type ReconnectingSocketConfig, type SocketState } from './reconnectingSocket.ts';
import { systemTimers } from './scheduler.ts';

export type { StreamStatus, WebSocketCtor, WebSocketLike } from './reconnectingSocket.ts';

export interface StreamState extends SocketState {
  /** Reconnect attempts since the last confirmed subscription. */
  attempt: number;
  /** What went wrong last, as a sentence saying what to do (see streamErrors.ts); cleared by a confirmed subscription. */
  lastError: string | undefined;
  subscribed: string[];
}

export interface MarkPriceRow {
  instrumentName: string;
  markPriceCoin: number;
  /** FRACTION on this channel (0.551 = 55.1 %), unlike mark_iv elsewhere. */
  iv: number;
  timestamp: number;
}

export interface StreamHandlers {
  onState?(s: StreamState): void;
  /** ticker.{instrument}.{interval}: raw data object (mark_iv in percent). */
  onTicker?(data: Record<string, unknown>): void;
  onMarkPrices?(rows: MarkPriceRow[]): void;
  onIndexPrice?(p: { indexName: string; price: number; timestamp: number }): void;
  onVolatilityIndex?(p: { indexName: string; volatilityPct: number; timestamp: number }): void;
}

/** The socket's settings (reconnectingSocket.ts) plus the JSON-RPC subscription. */
export interface StreamConfig extends Omit<ReconnectingSocketConfig, 'deadMs'> {
  channels: string[];
  /** Seconds asked of public/set_heartbeat (Deribit's minimum is 10). */
  heartbeatSec: number;
  /** Silence after which the socket is presumed dead; default 2 heartbeats + 5 s. */
  deadMs?: number;
}

const HEARTBEAT_ID = 1;
const SUBSCRIBE_ID = 2;
const TEST_ID = 3;

export class DeribitStream {
  private readonly cfg: StreamConfig;
  private readonly socket: ReconnectingSocket<StreamState>;

  constructor(
    config: Partial<StreamConfig> & Pick<StreamConfig, 'url' | 'WebSocket' | 'channels'>,
    private readonly handlers: StreamHandlers = {},
  ) {
    this.cfg = {
      heartbeatSec: 10,
      staleMs: 5_000,
      backoff: { baseMs: 500, maxMs: 30_000, maxRetries: Infinity },
      seed: 1,
      clock: systemClock,
      timers: systemTimers,
      ...config,
    };
    const c = this.cfg;
    this.socket = new ReconnectingSocket<StreamState>(
      { ...c, deadMs: c.deadMs ?? 2 * c.heartbeatSec * 1000 + 5_000 },
      { status: 'idle', stale: false, attempt: 0, connects: 0, lastMessageAt: undefined, lastError: undefined, subscribed: [] },
      {
        onState: () => this.handlers.onState?.(this.state),
        onOpen: () => {
          this.send({ id: HEARTBEAT_ID, method: 'public/set_heartbeat', params: { interval: c.heartbeatSec } });
          this.send({ id: SUBSCRIBE_ID, method: 'public/subscribe', params: { channels: c.channels } });
        },
        onMessage: (data) => this.onMessage(data),
        // A reconnect re-subscribes: nothing is subscribed until the server confirms again.
        resetOnReconnect: { subscribed: [] },
      },
    );
  }

  get state(): StreamState {
    const s = this.socket.state;
    return { ...s, subscribed: [...s.subscribed] };
  }

  start(): void {
    this.socket.start();
  }

  stop(): void {
    this.socket.stop();
  }

  private update(p: Partial<StreamState>): void {
    this.socket.update(p);
  }

  private send(msg: object): void {
    this.socket.send(JSON.stringify({ jsonrpc: '2.0', ...msg }));
  }

  private onMessage(data: unknown): void {
    if (this.socket.state.stale) this.update({ stale: false });
    let msg: { id?: number; method?: string; params?: { type?: string; channel?: string; data?: unknown }; result?: unknown; error?: { code?: number; message?: string } };
    try {
      msg = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      this.update({ lastError: 'a message was not JSON' });
      return;
    }
    if (msg.method === 'heartbeat') {
      if (msg.params?.type === 'test_request') this.send({ id: TEST_ID, method: 'public/test', params: {} });
      return;
    }
    if (msg.error) {
      this.update({ lastError: `error ${msg.error.code ?? '?'}: ${msg.error.message ?? ''}` });
      return;
    }
    if (msg.id === SUBSCRIBE_ID && Array.isArray(msg.result)) {
      this.update({ subscribed: msg.result.map(String), attempt: 0, lastError: undefined });
      return;
    }
    if (msg.method === 'subscription' && msg.params?.channel) this.dispatch(msg.params.channel, msg.params.data);
  }

  private dispatch(channel: string, data: unknown): void {
    const h = this.handlers;
    const obj = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    if (channel.startsWith('ticker.')) h.onTicker?.(obj);
    else if (channel.startsWith('markprice.options.') && Array.isArray(data)) {
      h.onMarkPrices?.(
        data.map((r: Record<string, unknown>) => ({ instrumentName: String(r.instrument_name), markPriceCoin: Number(r.mark_price), iv: Number(r.iv), timestamp: Number(r.timestamp) })),
      );
    } else if (channel.startsWith('deribit_price_index.')) h.onIndexPrice?.({ indexName: String(obj.index_name), price: Number(obj.price), timestamp: Number(obj.timestamp) });
    else if (channel.startsWith('deribit_volatility_index.')) h.onVolatilityIndex?.({ indexName: String(obj.index_name), volatilityPct: Number(obj.volatility), timestamp: Number(obj.timestamp) });
  }
}

/** Channels for a live smile of one currency: one instrument's ticker, all marks, the index. */
export function liveChannels(currency: string, tickerInstrument?: string): string[] {
  const idx = `${currency.toLowerCase()}_usd`;
  return [...(tickerInstrument ? [`ticker.${tickerInstrument}.100ms`] : []), `markprice.options.${idx}`, `deribit_price_index.${idx}`];
}
