import { describe, expect, it } from 'vitest';
import { SnapshotScheduler, type SnapshotSink } from '../../../src/core/feeds/scheduler.ts';
import { MemoryStore, type Store } from '../../../src/core/store/store.ts';
import type { Surface } from '../../../src/core/surface/types.ts';
import { FakeClock, FakeTimers } from '../../support/fakeClock.ts';

const MIN = 60_000;

/** A library stand-in that honours dedupKey the way SurfaceLibrary does. */
class Sink implements SnapshotSink {
  stored: { surface: Surface; dedupKey?: string }[] = [];
  constructor(private store: Store) {}
  async add(surface: Surface, meta: { dedupKey?: string }): Promise<string> {
    const existing = this.stored.findIndex((s) => s.dedupKey !== undefined && s.dedupKey === meta.dedupKey);
    if (existing >= 0) return `s${existing}`;
    this.stored.push({ surface, dedupKey: meta.dedupKey });
    await this.store.set(`s${this.stored.length - 1}`, surface);
    return `s${this.stored.length - 1}`;
  }
}

function surfaceAt(t: number): Surface {
  return { kGrid: [0], tGrid: [0.1], iv: new Float64Array([0.5]), spot: 1, timestamp: t, source: 'deribit:BTC' };
}

function setup(start = Date.UTC(2024, 11, 20, 8, 2), store: Store = new MemoryStore(), sink = new Sink(new MemoryStore())) {
  const clock = new FakeClock(start);
  const timers = new FakeTimers(clock);
  let fail = 0;
  const taken: number[] = [];
  const sched = new SnapshotScheduler('deribit:BTC', {
    store,
    sink,
    clock,
    timers,
    take: async () => {
      if (fail > 0) {
        fail--;
        throw new Error('HTTP 500');
      }
      taken.push(clock.now());
      return surfaceAt(clock.now());
    },
  });
  return { clock, timers, sched, sink, store, taken, failNext: (n: number) => (fail = n) };
}

describe('SnapshotScheduler', () => {
  it('takes one snapshot at once, then one per interval slot', async () => {
    const s = setup();
    await s.sched.start(5 * MIN);
    await s.timers.advanceTo(s.clock.t);
    expect(s.taken).toHaveLength(1);
    // 08:02 → slots start at 08:05, 08:10, 08:15.
    await s.timers.advanceTo(Date.UTC(2024, 11, 20, 8, 16));
    expect(s.taken.map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['08:02', '08:05', '08:10', '08:15']);
    expect(s.sched.current.taken).toBe(4);
  });
  it('survives a reload: no duplicate in the same slot, resumes in the next', async () => {
    const store = new MemoryStore();
    const sink = new Sink(new MemoryStore());
    const a = setup(Date.UTC(2024, 11, 20, 8, 2), store, sink);
    await a.sched.start(5 * MIN);
    await a.timers.advanceTo(a.clock.t);
    a.sched.dispose();
    // "Reload" one minute later, same slot.
    const b = setup(Date.UTC(2024, 11, 20, 8, 3), store, sink);
    const st = await b.sched.resume();
    expect(st.enabled).toBe(true);
    await b.timers.advanceTo(Date.UTC(2024, 11, 20, 8, 4, 59));
    expect(b.taken).toHaveLength(0);
    await b.timers.advanceTo(Date.UTC(2024, 11, 20, 8, 5));
    expect(b.taken).toHaveLength(1);
    expect(sink.stored).toHaveLength(2);
  });
  it('two tabs in the same slot store a single snapshot (library dedup key)', async () => {
    const sink = new Sink(new MemoryStore());
    const a = setup(undefined, new MemoryStore(), sink);
    const b = setup(undefined, new MemoryStore(), sink);
    await a.sched.start(5 * MIN);
    await b.sched.start(5 * MIN);
    await a.timers.advanceTo(a.clock.t);
    await b.timers.advanceTo(b.clock.t);
    expect(a.taken.length + b.taken.length).toBe(2);
    expect(sink.stored).toHaveLength(1);
  });
  it('records a failure, retries after a minute rather than in a loop, and clears the error on success', async () => {
    const s = setup();
    s.failNext(1);
    await s.sched.start(15 * MIN);
    await s.timers.advanceTo(s.clock.t);
    expect(s.sched.current.lastError?.message).toBe('HTTP 500');
    expect(s.sink.stored).toHaveLength(0);
    await s.timers.advanceTo(s.clock.t + 59_000);
    expect(s.taken).toHaveLength(0);
    await s.timers.advanceTo(s.clock.t + 1_000);
    expect(s.taken).toHaveLength(1);
    expect(s.sched.current.lastError).toBeUndefined();
  });
  it('stop() disarms and persists', async () => {
    const s = setup();
    await s.sched.start(5 * MIN);
    await s.timers.advanceTo(s.clock.t);
    await s.sched.stop();
    expect(s.timers.count).toBe(0);
    await s.timers.advanceTo(s.clock.t + 60 * MIN);
    expect(s.taken).toHaveLength(1);
    expect((await s.store.get<{ enabled: boolean }>('snapshotSchedule/deribit:BTC'))?.enabled).toBe(false);
    await expect(s.sched.start(1000)).rejects.toThrow(/at least 1 minute/);
  });
});
