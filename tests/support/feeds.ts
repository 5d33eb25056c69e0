/** Set-up shared by the feed tests: one replay server per test file, and small async helpers. */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startReplayServer, type ReplayServer } from './replayServer.ts';

/**
 * Starts a replay server for the calling test file (reset before each test, closed after the
 * last). The server only exists once beforeAll has run, but tests name it at module scope, so
 * this returns a stand-in that forwards to it.
 */
export function useReplayServer(): ReplayServer {
  let srv: ReplayServer | undefined;
  beforeAll(async () => {
    srv = await startReplayServer();
  });
  afterAll(async () => {
    await srv?.close();
  });
  beforeEach(() => srv!.reset());
  const live = () => {
    if (!srv) throw new Error('the replay server is used before beforeAll started it');
    return srv;
  };
  return new Proxy({} as ReplayServer, {
    get(_, key) {
      const v = Reflect.get(live(), key) as unknown;
      return typeof v === 'function' ? v.bind(srv) : v;
    },
    set: (_, key, value) => Reflect.set(live(), key, value),
  });
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection<E = Error>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    return e as E;
  }
  throw new Error('expected a rejection');
}

/** Polls until `cond` holds (real sockets, real timers: a few hundred ms at most in these tests). */
export async function until(cond: () => boolean, ms = 4000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
