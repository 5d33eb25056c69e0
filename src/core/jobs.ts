/**
 * The contract every long job in the core follows: it takes an AbortSignal and an onProgress
 * callback, yields to the event loop now and then so a cancel can arrive, and throws
 * CancelledError when cancelled. Workers forward both across the thread boundary
 * (workers/expose.ts); the CLI wires them to SIGINT and stderr.
 */

export interface Progress {
  /** Units of work done so far (epochs, surfaces, iterations …). */
  done: number;
  /** Units of work in total, when known. */
  total?: number;
  /** One short human line: "epoch 3/10", "priced 4000 surfaces". */
  message?: string;
  /** Numbers worth plotting live (losses, samples/s …). */
  metrics?: Record<string, number>;
  /**
   * Estimated milliseconds left, from the rate measured so far in this run (withEta); absent until
   * a rate is known or when the job has no known total.
   */
  etaMs?: number;
}

export interface JobContext {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Give the event loop a turn (lets an abort message or a UI paint through). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * A cancellation point for a hot loop: call `await tick()` once per iteration. It throws
 * CancelledError once the signal is aborted, and gives the event loop a real turn (a macrotask,
 * which is what lets a worker's abort message in) whenever `everyMs` have passed since the last
 * one — so an abort lands within everyMs plus one iteration, while a loop of 1 ms iterations pays
 * one setTimeout (≥ 1 ms in Node and browsers) per ~everyMs instead of one per iteration.
 */
export function cancellationPoint(signal: AbortSignal | undefined, everyMs = 10): () => Promise<void> {
  let last = performance.now();
  return async () => {
    throwIfAborted(signal);
    const now = performance.now();
    if (now - last < everyMs) return;
    await yieldToEventLoop();
    throwIfAborted(signal);
    last = performance.now();
  };
}

/**
 * The same context with `etaMs` filled into every progress report that has a total: the time
 * left at the rate measured since the first report (so a resumed run, whose first report is
 * already far along, is timed on what it does now, not on what an earlier run did).
 */
export function withEta(ctx: JobContext): JobContext {
  const report = ctx.onProgress;
  if (!report) return ctx;
  let first: { done: number; at: number } | undefined;
  return {
    ...ctx,
    onProgress: (p) => {
      const now = performance.now();
      if (!first) first = { done: p.done, at: now };
      if (p.etaMs === undefined && p.total !== undefined && p.done > first.done) {
        const rate = (p.done - first.done) / Math.max(now - first.at, 1e-9);
        report({ ...p, etaMs: Math.max(0, (p.total - p.done) / rate) });
      } else report(p);
    },
  };
}

/**
 * Calls onProgress at most every `minMs` milliseconds (and always for the last unit), so hot
 * loops can report on every item without flooding a postMessage channel.
 */
export function throttledProgress(ctx: JobContext, minMs = 100): (p: Progress) => void {
  let last = -Infinity;
  return (p) => {
    if (!ctx.onProgress) return;
    const now = Date.now();
    if (now - last >= minMs || (p.total !== undefined && p.done >= p.total)) {
      last = now;
      ctx.onProgress(p);
    }
  };
}
