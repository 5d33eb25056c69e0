/**
 * WebSocket failures read as sentences that say what happened and what to do (issue 15 item 8):
 * the close-code table, and DeribitStream putting those sentences in lastError with the real
 * reconnect wait, for a socket that dropped after opening and one that never came up.
 */
import { describe, expect, it } from 'vitest';
import { closeMeaning, describeClose, formatRetryWait } from '../../../src/core/feeds/streamErrors.ts';
import { DeribitStream, type WebSocketLike } from '../../../src/core/feeds/deribitStream.ts';
import type { Timers } from '../../../src/core/feeds/scheduler.ts';

const URL_ = 'wss://www.deribit.com/ws/api/v2';

describe('closeMeaning / describeClose', () => {
  it('says what 1006 means, when it retries and what to check', () => {
    const m = describeClose(1006, '', { url: URL_, opened: true, retryInMs: 2000, attempt: 1 });
    expect(m).toBe(
      'socket closed (code 1006): the connection dropped without a close frame: the network, a proxy or the exchange closed it; ' +
        'the stream reconnects by itself in 2 s. If it keeps failing, check the WebSocket URL above, a firewall or proxy that blocks WebSockets, or use a mirror.',
    );
  });
  it('a socket that never opened is a connection that never came up, naming the URL', () => {
    const m = describeClose(1006, '', { url: URL_, opened: false, retryInMs: 500, attempt: 3 });
    expect(m).toMatch(/^could not connect to wss:\/\/www\.deribit\.com\/ws\/api\/v2 \(code 1006\): nothing answered there/);
    expect(m).toMatch(/reconnects by itself in 0\.5 s \(attempt 3\)/);
  });
  it('every registered code has its own sentence; others fall back without losing the reason', () => {
    const codes = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015];
    const whats = codes.map((c) => closeMeaning(c).what);
    expect(new Set(whats).size).toBe(codes.length);
    expect(closeMeaning(1008).todo).toMatch(/mirror or proxy/);
    expect(closeMeaning(4001, 'rate limited').what).toMatch(/its own code: “rate limited”/);
    expect(closeMeaning(3999).what).toMatch(/unregistered/);
    expect(closeMeaning(undefined)).toEqual(closeMeaning(1005));
    // A stopped stream (no retry) does not promise a reconnect.
    expect(describeClose(1001, '', { url: URL_, opened: true })).not.toMatch(/reconnects/);
  });
  it('formats waits: tenths under 10 s, whole seconds above', () => {
    expect([450, 500, 2000, 2340, 12_600].map(formatRetryWait)).toEqual(['0.5 s', '0.5 s', '2 s', '2.3 s', '13 s']);
  });
});

/** A socket the test drives by hand. */
class FakeSocket implements WebSocketLike {
  static last: FakeSocket | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(): void {}
  close(): void {}
}

/** Timers that never fire on their own: the test reads the scheduled delays. */
function manualTimers() {
  const delays: number[] = [];
  const timers: Timers = {
    setTimeout: (_fn, ms) => {
      delays.push(ms);
      return delays.length;
    },
    clearTimeout: () => undefined,
  };
  return { timers, delays };
}

describe('DeribitStream lastError', () => {
  it('a drop after open (1006) reads as a sentence with the scheduled wait', () => {
    const { timers, delays } = manualTimers();
    const s = new DeribitStream({ url: URL_, WebSocket: FakeSocket, channels: ['x'], timers, backoff: { baseMs: 1000, maxMs: 30_000, maxRetries: Infinity }, seed: 7 });
    s.start();
    const ws = FakeSocket.last!;
    ws.onopen!({});
    ws.onerror!({}); // browsers send an empty error first …
    ws.onclose!({ code: 1006, reason: '' }); // … then the close that says little more
    const st = s.state;
    expect(st.status).toBe('reconnecting');
    const wait = delays.at(-1)!; // the reconnect timer: backoff 1000 ms × [0.5, 1) jitter
    expect(wait).toBeGreaterThanOrEqual(500);
    expect(wait).toBeLessThan(1000);
    expect(st.lastError).toBe(describeClose(1006, '', { url: URL_, opened: true, retryInMs: wait, attempt: 1 }));
    expect(st.lastError).not.toMatch(/^WebSocket error/);
    s.stop();
  });
  it('a socket that never opened names the URL it could not reach', () => {
    const { timers } = manualTimers();
    const s = new DeribitStream({ url: URL_, WebSocket: FakeSocket, channels: ['x'], timers });
    s.start();
    FakeSocket.last!.onclose!({ code: 1006 });
    expect(s.state.lastError).toMatch(/^could not connect to wss:\/\/www\.deribit\.com\/ws\/api\/v2 \(code 1006\)/);
    s.stop();
  });
  it('a constructor that throws (a bad URL) says to check the URL', () => {
    const { timers } = manualTimers();
    const Throwing = class {
      constructor(url: string) {
        throw new SyntaxError(`The URL '${url}' is invalid.`);
      }
    } as unknown as typeof FakeSocket;
    const s = new DeribitStream({ url: 'htp:/nowhere', WebSocket: Throwing, channels: ['x'], timers });
    s.start();
    expect(s.state.lastError).toMatch(/^cannot open htp:\/nowhere: The URL 'htp:\/nowhere' is invalid\.; the stream reconnects by itself in .* s\. Check the WebSocket URL above/);
    s.stop();
  });
});
