/**
 * WebSocket failures as sentences a user can act on. A browser says almost nothing about a failed
 * socket: the error event carries no detail (a refused port, a CORS/origin refusal, a proxy that
 * strips the Upgrade header and a dropped Wi-Fi all look the same), and the close event gives only
 * a code — 1006 for nearly everything that is not a clean close. So the message says what the code
 * means (RFC 6455 §7.4.1 and the IANA registry), whether the socket ever opened, when the stream
 * retries by itself, and what to check if it keeps failing.
 */

export interface CloseMeaning {
  /** What happened, in words. */
  what: string;
  /** What to do if it keeps happening. */
  todo: string;
}

const CHECK_PATH = 'check the WebSocket URL above, a firewall or proxy that blocks WebSockets, or use a mirror';

/** RFC 6455 §7.4.1 codes plus the IANA-registered 1012-1015. */
const MEANINGS: Record<number, CloseMeaning> = {
  1000: { what: 'the server closed the connection normally', todo: 'nothing: if it repeats, the server is ending sessions (a missed heartbeat answer, maintenance)' },
  1001: { what: 'the server is going away (a restart or maintenance)', todo: 'wait: the exchange comes back after a restart' },
  1002: { what: 'the server or a proxy rejected the WebSocket protocol', todo: 'check that the URL is a WebSocket endpoint (Deribit: wss://www.deribit.com/ws/api/v2)' },
  1003: { what: 'the server refused the kind of data sent', todo: 'check that the URL is Deribit’s JSON-RPC WebSocket endpoint' },
  1005: { what: 'the connection closed without a status code', todo: CHECK_PATH },
  1006: { what: 'the connection dropped without a close frame: the network, a proxy or the exchange closed it', todo: CHECK_PATH },
  1007: { what: 'the server refused a message as malformed', todo: 'check that the URL is Deribit’s JSON-RPC WebSocket endpoint' },
  1008: { what: 'the server refused this client by policy (its origin, location or request rate)', todo: 'use a mirror or proxy, or import snapshot files instead' },
  1009: { what: 'a message was too large for the server', todo: 'subscribe to fewer channels' },
  1010: { what: 'the server did not offer an extension the client required', todo: CHECK_PATH },
  1011: { what: 'the exchange hit an internal error', todo: 'wait: it is the exchange’s side; try again later' },
  1012: { what: 'the exchange is restarting the service', todo: 'wait: the exchange comes back after a restart' },
  1013: { what: 'the exchange is overloaded and asks to try again later', todo: 'wait, or use a longer interval between connections' },
  1014: { what: 'a gateway or proxy got a bad answer from the exchange', todo: 'check the proxy, or use another mirror' },
  1015: { what: 'the TLS handshake failed (a certificate problem, or a proxy that intercepts TLS)', todo: 'check wss:// against ws:// in the URL and the proxy’s certificate' },
};

/** What a close code means and what to do about it; application codes (4000-4999) carry the server's reason. */
export function closeMeaning(code: number | undefined, reason = ''): CloseMeaning {
  const known = code !== undefined ? MEANINGS[code] : undefined;
  if (known) return known;
  const why = reason.trim() ? `: “${reason.trim()}”` : '';
  if (code !== undefined && code >= 4000 && code <= 4999) return { what: `the server closed it with its own code${why}`, todo: 'read the server’s reason; ' + CHECK_PATH };
  if (code === undefined) return MEANINGS[1005]!;
  return { what: `the connection closed with an unregistered code${why}`, todo: CHECK_PATH };
}

/** "0.5 s", "2 s", "30 s". */
export function formatRetryWait(ms: number): string {
  const s = ms / 1000;
  // Under 10 s a tenth matters (backoff starts at 0.5 s); above, whole seconds.
  return `${s < 10 ? String(Math.round(s * 10) / 10) : String(Math.round(s))} s`;
}

export interface CloseContext {
  url: string;
  /** Whether this socket ever opened: a close before `open` means the connection never came up. */
  opened: boolean;
  /** When the stream tries again by itself; undefined when it will not (stopped). */
  retryInMs?: number;
  /** Which reconnect attempt comes next (1 = the first retry). */
  attempt?: number;
}

function retrySentence(ctx: { retryInMs?: number; attempt?: number }): string {
  if (ctx.retryInMs === undefined) return '';
  return `; the stream reconnects by itself in ${formatRetryWait(ctx.retryInMs)}${ctx.attempt && ctx.attempt > 1 ? ` (attempt ${ctx.attempt})` : ''}`;
}

/**
 * The message for a closed socket, e.g. for 1006 after a drop: "socket closed (code 1006): the
 * connection dropped without a close frame: the network, a proxy or the exchange closed it; the
 * stream reconnects by itself in 2 s. If it keeps failing, check the WebSocket URL above, …".
 */
export function describeClose(code: number | undefined, reason: string | undefined, ctx: CloseContext): string {
  const m = closeMeaning(code, reason);
  const c = code !== undefined ? ` (code ${code})` : '';
  // A socket that never opened and closed with 1006 (or nothing) is a connection that never came
  // up: a wrong address, a refused port or a blocked origin, not a drop.
  const neverUp = code === undefined || code === 1006;
  const head = ctx.opened
    ? `socket closed${c}: ${m.what}`
    : `could not connect to ${ctx.url}${c}: ${neverUp ? 'nothing answered there, or a firewall, a proxy or the exchange refused the connection' : m.what}`;
  return `${head}${retrySentence(ctx)}. If it keeps failing, ${m.todo}.`;
}

/** A handshake that never completed within `waitedMs`. */
export function describeHandshakeTimeout(url: string, waitedMs: number, ctx: { retryInMs?: number; attempt?: number }): string {
  return `no WebSocket handshake from ${url} within ${formatRetryWait(waitedMs)}: a proxy or firewall may accept the connection and then hold it${retrySentence(ctx)}. If it keeps failing, ${CHECK_PATH}.`;
}

/** A socket that went silent (no data, no heartbeat) for `silentMs` and was dropped. */
export function describeSilence(silentMs: number, ctx: { retryInMs?: number; attempt?: number }): string {
  return `no message for ${formatRetryWait(silentMs)} (heartbeat missed): the connection is presumed dead${retrySentence(ctx)}. If it keeps failing, ${CHECK_PATH}.`;
}

/** The WebSocket constructor itself threw (a malformed URL, a scheme other than ws:/wss:). */
export function describeOpenFailure(url: string, message: string, ctx: { retryInMs?: number; attempt?: number }): string {
  return `cannot open ${url}: ${message}${retrySentence(ctx)}. Check the WebSocket URL above: it starts with wss:// (or ws://), e.g. wss://www.deribit.com/ws/api/v2.`;
}
