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
