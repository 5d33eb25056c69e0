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
 * The WebSocket constructor is injected: the browser passes its global, Node 20 passes `ws`.
 */
import { Rng } from '../math/rng.ts';
import type { Clock } from './http.ts';
import { systemClock } from './http.ts';
import { backoffDelay, type BackoffConfig } from './rateLimit.ts';
import type { Timers } from './scheduler.ts';
import { systemTimers } from './scheduler.ts';
import { describeClose, describeHandshakeTimeout, describeOpenFailure, describeSilence } from './streamErrors.ts';

/** The part of the WebSocket API used here (browser WebSocket and `ws` both have it). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

export type StreamStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StreamState {
  status: StreamStatus;
  /** True when nothing arrived for staleMs. */
  stale: boolean;
  /** Reconnect attempts since the last confirmed subscription. */
  attempt: number;
  connects: number;
  lastMessageAt: number | undefined;
  /** What went wrong last, as a sentence saying what to do (see streamErrors.ts); cleared by a confirmed subscription. */
  lastError: string | undefined;
  subscribed: string[];
}

/** Builds the error sentence once the wait before the next attempt is known. */
type ReconnectReason = (next: { retryInMs: number; attempt: number }) => string;

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

export interface StreamConfig {
  url: string;
  WebSocket: WebSocketCtor;
  channels: string[];
  /** Seconds asked of public/set_heartbeat (Deribit's minimum is 10). */
  heartbeatSec: number;
  staleMs: number;
  /** Silence after which the socket is presumed dead; default 2 heartbeats + 5 s. */
  deadMs?: number;
  backoff: BackoffConfig;
  seed: number;
  clock: Pick<Clock, 'now'>;
  timers: Timers;
}

const HEARTBEAT_ID = 1;
const SUBSCRIBE_ID = 2;
const TEST_ID = 3;

export class DeribitStream {
  private readonly cfg: StreamConfig;
  private ws: WebSocketLike | undefined;
  private watchdog: unknown;
  private reconnectTimer: unknown;
  private stopped = true;
  private readonly rng: Rng;
  private st: StreamState = { status: 'idle', stale: false, attempt: 0, connects: 0, lastMessageAt: undefined, lastError: undefined, subscribed: [] };

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
    this.rng = new Rng(this.cfg.seed);
  }

  get state(): StreamState {
    return { ...this.st, subscribed: [...this.st.subscribed] };
  }

  private get deadMs(): number {
    return this.cfg.deadMs ?? 2 * this.cfg.heartbeatSec * 1000 + 5_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    this.detachAndClose();
    this.update({ status: 'closed', stale: false });
  }

  private update(p: Partial<StreamState>): void {
    this.st = { ...this.st, ...p };
    this.handlers.onState?.(this.state);
  }

  private clearTimers(): void {
    if (this.watchdog !== undefined) this.cfg.timers.clearTimeout(this.watchdog);
    if (this.reconnectTimer !== undefined) this.cfg.timers.clearTimeout(this.reconnectTimer);
    this.watchdog = this.reconnectTimer = undefined;
  }

  private detachAndClose(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep an error listener: closing a socket still connecting makes `ws` emit an error, and an
    // EventEmitter error with no listener would crash Node.
    ws.onerror = () => undefined;
    try {
      ws.close();
    } catch {
      // A socket still connecting may refuse close(); it is detached either way.
    }
  }

  private send(msg: object): void {
    try {
      this.ws?.send(JSON.stringify({ jsonrpc: '2.0', ...msg }));
    } catch (e) {
      this.update({ lastError: `send failed: ${(e as Error).message}` });
    }
  }

  private connect(): void {
    this.update({ status: this.st.connects === 0 ? 'connecting' : 'reconnecting', stale: false });
    let ws: WebSocketLike;
    try {
      ws = new this.cfg.WebSocket(this.cfg.url);
    } catch (e) {
      this.scheduleReconnect((n) => describeOpenFailure(this.cfg.url, (e as Error).message, n));
      return;
    }
    this.ws = ws;
    // A handshake that never completes (a proxy that accepts TCP and then stalls) counts as a drop.
    this.watchdog = this.cfg.timers.setTimeout(() => {
      this.watchdog = undefined;
      if (this.ws !== ws || this.st.status === 'open') return;
      this.detachAndClose();
      this.scheduleReconnect((n) => describeHandshakeTimeout(this.cfg.url, this.deadMs, n));
    }, this.deadMs);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.update({ status: 'open', connects: this.st.connects + 1, lastMessageAt: this.cfg.clock.now() });
      this.send({ id: HEARTBEAT_ID, method: 'public/set_heartbeat', params: { interval: this.cfg.heartbeatSec } });
      this.send({ id: SUBSCRIBE_ID, method: 'public/subscribe', params: { channels: this.cfg.channels } });
      this.armWatchdog();
    };
    ws.onmessage = (ev) => this.onMessage(ev.data);
    ws.onerror = () => {
      // Browsers give no detail here (a refused or CORS-blocked socket looks the same); the
      // close event that follows drives the reconnect.
      this.update({ lastError: `WebSocket error on ${this.cfg.url}` });
    };
    ws.onclose = (ev) => {
      const { code, reason } = (ev ?? {}) as { code?: number; reason?: string };
      this.ws = undefined;
      this.scheduleReconnect((n) => describeClose(code || undefined, reason, { url: this.cfg.url, opened, ...n }));
    };
  }

  private scheduleReconnect(why?: ReconnectReason): void {
    if (this.stopped) return;
    this.clearTimers();
    const wait = backoffDelay(this.st.attempt, this.cfg.backoff, this.rng);
    const attempt = this.st.attempt + 1;
    this.update({ status: 'reconnecting', attempt, subscribed: [], ...(why ? { lastError: why({ retryInMs: wait, attempt }) } : {}) });
    this.reconnectTimer = this.cfg.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.connect();
    }, wait);
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) this.cfg.timers.clearTimeout(this.watchdog);
    const every = Math.max(20, Math.min(this.cfg.staleMs, this.deadMs) / 4);
    this.watchdog = this.cfg.timers.setTimeout(() => {
      this.watchdog = undefined;
      if (this.stopped || !this.ws) return;
      const silent = this.cfg.clock.now() - (this.st.lastMessageAt ?? 0);
      if (silent > this.deadMs) {
        this.detachAndClose();
        this.scheduleReconnect((n) => describeSilence(silent, n));
        return;
      }
      if (silent > this.cfg.staleMs && !this.st.stale) this.update({ stale: true });
      this.armWatchdog();
    }, every);
  }

  private onMessage(data: unknown): void {
    const now = this.cfg.clock.now();
    this.st.lastMessageAt = now;
    if (this.st.stale) this.update({ stale: false });
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
