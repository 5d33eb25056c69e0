import type { Clock } from '../../../src/core/feeds/http.ts';
import { CancelledError } from '../../../src/core/jobs.ts';

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
