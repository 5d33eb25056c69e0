/**
 * Pause / resume for a running job: the loop awaits `gate.wait()` between batches; another call
 * (a second worker job, a UI button) flips pause() / resume(). A cancel while paused ends the
 * wait with CancelledError, so a paused run can always be stopped.
 */
import { CancelledError } from '../jobs.ts';

export class PauseGate {
  private paused = false;
  private waiters: (() => void)[] = [];

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves at once when running; otherwise when resumed (or rejects when aborted). */
  wait(signal?: AbortSignal): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new CancelledError());
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
