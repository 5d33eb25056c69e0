import type { Clock } from '../../src/core/feeds/http.ts';
import type { Timers } from '../../src/core/feeds/scheduler.ts';
import { CancelledError } from '../../src/core/jobs.ts';

/** Virtual time: sleep() returns at once and advances now(), recording each wait. */
export class FakeClock implements Clock {
  sleeps: number[] = [];
  constructor(public t = Date.UTC(2024, 11, 20, 8)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new CancelledError();
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
  }
}

/** Virtual timers driven by the fake clock. */
export class FakeTimers implements Timers {
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  constructor(private clock: FakeClock) {}
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ at: this.clock.t + ms, fn, id });
    return id;
  }
  clearTimeout(id: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== id);
  }
  /** Advances time to `to`, firing due timers in order and letting their promises settle. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (!next || next.at > to) break;
      this.pending.shift();
      this.clock.t = Math.max(this.clock.t, next.at);
      next.fn();
      for (let i = 0; i < 20; i++) await Promise.resolve();
    }
    this.clock.t = to;
  }
  get count() {
    return this.pending.length;
  }
}
