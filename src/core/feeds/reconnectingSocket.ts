/**
 * One WebSocket kept alive: the lifecycle DeribitStream and BinanceKlineStream share, so a fix to
 * the watchdog or the backoff lands in both.
 *  - Connect: the constructor is injected (browser global, `ws` in Node 20); a constructor that
 *    throws (a malformed URL) schedules a retry like a drop.
 *  - Handshake: a socket not open within `deadMs` (a proxy that accepts TCP and then stalls) is
 *    closed and retried.
 *  - Staleness: once open, a watchdog ticks every min(staleMs, deadMs)/4 (at least 20 ms, so a
 *    verdict lands within a quarter of the threshold): silence past `staleMs` sets `stale`, past
 *    `deadMs` closes the socket and reconnects.
 *  - Reconnection: exponential backoff with seeded jitter (rateLimit.ts), every error a sentence
 *    from streamErrors.ts carrying the real wait. The owner decides when a connection is proven
 *    live and resets `attempt` (Deribit: a confirmed subscription; Binance: any message).
 * The owner keeps the protocol (what to send on open, what a message means) and its own state
 * fields; `S` is its whole state, of which this piece writes the SocketState part.
 */
import { Rng } from '../math/rng.ts';
import type { Clock } from './http.ts';
import { backoffDelay, type BackoffConfig } from './rateLimit.ts';
import type { Timers } from './scheduler.ts';
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

/** The lifecycle fields every stream state carries. */
export interface SocketState {
  status: StreamStatus;
  /** True when nothing arrived for staleMs. */
  stale: boolean;
  /** Reconnect attempts since the connection was last proven live. */
  attempt: number;
  connects: number;
  lastMessageAt: number | undefined;
  /** What went wrong last, as a sentence saying what to do (see streamErrors.ts). */
  lastError: string | undefined;
}

/** Builds the error sentence once the wait before the next attempt is known. */
export type ReconnectReason = (next: { retryInMs: number; attempt: number }) => string;

export interface ReconnectingSocketConfig {
  url: string;
  WebSocket: WebSocketCtor;
  staleMs: number;
  /** Silence (or a handshake this long) after which the socket is presumed dead. */
  deadMs: number;
  backoff: BackoffConfig;
  seed: number;
  clock: Pick<Clock, 'now'>;
  timers: Timers;
}

export interface ReconnectingSocketHooks<S extends SocketState> {
  /** Called after every state change; read `socket.state`. */
  onState(): void;
  /** The socket opened (status is already 'open'): send subscriptions here. */
  onOpen?(): void;
  /** A message arrived; `lastMessageAt` is already set (without an onState of its own). */
  onMessage(data: unknown): void;
  /** Owner fields reset in the same update that schedules a reconnect (Deribit: subscribed: []). */
  resetOnReconnect?: Partial<S>;
  /** Rewords a streamErrors.ts sentence for this exchange (its example URL, what went silent). */
  reword?: (kind: 'openFailure' | 'silence', sentence: string) => string;
}

export class ReconnectingSocket<S extends SocketState> {
  private ws: WebSocketLike | undefined;
  private watchdog: unknown;
  private reconnectTimer: unknown;
  private stopped = true;
  private readonly rng: Rng;
  private st: S;

  constructor(
    private readonly cfg: ReconnectingSocketConfig,
    initial: S,
    private readonly hooks: ReconnectingSocketHooks<S>,
  ) {
    this.st = initial;
    this.rng = new Rng(cfg.seed);
  }

  /** The live state object (the owner copies it before handing it out). */
  get state(): S {
    return this.st;
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
    this.update({ status: 'closed', stale: false } as Partial<S>);
  }

  update(p: Partial<S>): void {
    this.st = { ...this.st, ...p };
    this.hooks.onState();
  }

  /** Sends on the open socket; a throwing send becomes lastError, never an exception. */
  send(text: string): void {
    try {
      this.ws?.send(text);
    } catch (e) {
      this.update({ lastError: `send failed: ${(e as Error).message}` } as Partial<S>);
    }
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

  private reword(kind: 'openFailure' | 'silence', sentence: string): string {
    return this.hooks.reword ? this.hooks.reword(kind, sentence) : sentence;
  }

  private connect(): void {
    const { url, deadMs } = this.cfg;
    this.update({ status: this.st.connects === 0 ? 'connecting' : 'reconnecting', stale: false } as Partial<S>);
    let ws: WebSocketLike;
    try {
      ws = new this.cfg.WebSocket(url);
    } catch (e) {
      this.scheduleReconnect((n) => this.reword('openFailure', describeOpenFailure(url, (e as Error).message, n)));
      return;
    }
    this.ws = ws;
    // A handshake that never completes counts as a drop.
    this.watchdog = this.cfg.timers.setTimeout(() => {
      this.watchdog = undefined;
      if (this.ws !== ws || this.st.status === 'open') return;
      this.detachAndClose();
      this.scheduleReconnect((n) => describeHandshakeTimeout(url, deadMs, n));
    }, deadMs);
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.update({ status: 'open', connects: this.st.connects + 1, lastMessageAt: this.cfg.clock.now() } as Partial<S>);
      this.hooks.onOpen?.();
      this.armWatchdog();
    };
    ws.onmessage = (ev) => {
      this.st.lastMessageAt = this.cfg.clock.now();
      this.hooks.onMessage(ev.data);
    };
    ws.onerror = () => {
      // Browsers give no detail here (a refused or CORS-blocked socket looks the same); the
      // close event that follows drives the reconnect.
      this.update({ lastError: `WebSocket error on ${url}` } as Partial<S>);
    };
    ws.onclose = (ev) => {
      const { code, reason } = (ev ?? {}) as { code?: number; reason?: string };
      this.ws = undefined;
      this.scheduleReconnect((n) => describeClose(code || undefined, reason, { url, opened, ...n }));
    };
  }

  private scheduleReconnect(why: ReconnectReason): void {
    if (this.stopped) return;
    this.clearTimers();
    const wait = backoffDelay(this.st.attempt, this.cfg.backoff, this.rng);
    const attempt = this.st.attempt + 1;
    this.update({ status: 'reconnecting', attempt, ...this.hooks.resetOnReconnect, lastError: why({ retryInMs: wait, attempt }) } as Partial<S>);
    this.reconnectTimer = this.cfg.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) this.connect();
    }, wait);
  }

  private armWatchdog(): void {
    if (this.watchdog !== undefined) this.cfg.timers.clearTimeout(this.watchdog);
    const { staleMs, deadMs } = this.cfg;
    const every = Math.max(20, Math.min(staleMs, deadMs) / 4);
    this.watchdog = this.cfg.timers.setTimeout(() => {
      this.watchdog = undefined;
      if (this.stopped || !this.ws) return;
      const silent = this.cfg.clock.now() - (this.st.lastMessageAt ?? 0);
      if (silent > deadMs) {
        this.detachAndClose();
        this.scheduleReconnect((n) => this.reword('silence', describeSilence(silent, n)));
        return;
      }
      if (silent > staleMs && !this.st.stale) this.update({ stale: true } as Partial<S>);
      this.armWatchdog();
    }, every);
  }
}
