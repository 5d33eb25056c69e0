/**
 * Worker side of the job plumbing. A worker module lists its jobs — plain core functions of the
 * form (args, ctx: JobContext) => result — and calls exposeJobs(jobs). Each call gets its own
 * AbortController, wired to a MessagePort the page transfers with the call, and a progress
 * callback proxied back with comlink. A thrown error travels back to the page as an Error with
 * its name and message (comlink's throw handler) and the worker stays usable for the next call.
 */
import * as Comlink from 'comlink';
import type { JobContext, Progress } from '../src/core/jobs.ts';

export type JobFn = (args: any, ctx: JobContext) => unknown;
export type JobTable = Record<string, JobFn>;

/** What the page sees of a job table: every job takes (args, onProgress?, abortPort?). */
export type RemoteJobs<T extends JobTable> = {
  [K in keyof T]: (
    args: Parameters<T[K]>[0],
    onProgress?: ((p: Progress) => void) | undefined,
    abortPort?: MessagePort,
  ) => Promise<Awaited<ReturnType<T[K]>>>;
};

/** `endpoint` defaults to the worker's global scope; tests pass one end of a MessageChannel. */
/** A progress report that could not be delivered (page gone, callback threw) must not fail the job. */
function ignoreLostProgress(): void {}

export function exposeJobs<T extends JobTable>(jobs: T, endpoint?: Comlink.Endpoint): void {
  const remote: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(jobs)) {
    remote[name] = async (args: unknown, onProgress?: (p: Progress) => void, abortPort?: MessagePort) => {
      const controller = new AbortController();
      if (abortPort) {
        abortPort.onmessage = () => controller.abort();
        abortPort.start?.();
      }
      try {
        return await fn(args, { signal: controller.signal, onProgress: onProgress ? (p) => void Promise.resolve(onProgress(p)).catch(ignoreLostProgress) : undefined });
      } finally {
        abortPort?.close();
      }
    };
  }
  Comlink.expose(remote, endpoint);
}
