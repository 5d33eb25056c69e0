/**
 * Jobs that exercise the worker plumbing itself, for the Diagnostics page and the tests: one that
 * fails the way real jobs fail (a LabError naming what was wrong) and one that reports progress
 * and honours cancellation. They prove, in the browser the user actually has, that an exception in
 * a worker reaches the page readable, that the worker survives it, and that Cancel works.
 */
import { LabError } from '../errors.ts';
import { throwIfAborted, type JobContext } from '../jobs.ts';

/** Always throws: the message the page must show, verbatim. */
export async function probeFailure(args: { message?: string }): Promise<never> {
  throw new LabError(args.message ?? 'deliberate failure raised inside the worker', 'probeFailure');
}

/**
 * Counts to `n`, reporting each step and waiting `stepMs` between steps; returns the count.
 * Cancelling stops it with CancelledError at the next step.
 */
export async function probeCount(args: { n: number; stepMs?: number }, ctx: JobContext): Promise<{ counted: number }> {
  const n = Math.max(0, Math.floor(args.n));
  for (let i = 1; i <= n; i++) {
    await new Promise((r) => setTimeout(r, args.stepMs ?? 10));
    throwIfAborted(ctx.signal);
    ctx.onProgress?.({ done: i, total: n, message: `step ${i}/${n}` });
  }
  return { counted: n };
}
