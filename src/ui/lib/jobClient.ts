/**
 * Page side of the job plumbing (see workers/expose.ts). run() forwards an AbortSignal through a
 * transferred MessagePort and progress through a comlink proxy, so a view can show a progress
 * bar and a Cancel button for any job.
 */
import * as Comlink from 'comlink';
import type { JobTable, RemoteJobs } from '../../../workers/expose.ts';
import type { Progress } from '../../core/jobs.ts';

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface JobClient<T extends JobTable> {
  run<K extends keyof T & string>(name: K, args: Parameters<T[K]>[0], opts?: RunOptions): Promise<Awaited<ReturnType<T[K]>>>;
  terminate(): void;
}

export function jobClient<T extends JobTable>(worker: Worker): JobClient<T> {
  const remote = Comlink.wrap<RemoteJobs<T>>(worker);
  return {
    async run(name, args, opts = {}) {
      const { port1, port2 } = new MessageChannel();
      const onAbort = () => port1.postMessage('abort');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      try {
        const fn = remote[name] as unknown as (a: unknown, p: unknown, port: MessagePort) => Promise<never>;
        // Return nothing to the worker: a callback such as `(p) => (state = p)` would otherwise
        // hand back a Svelte $state proxy, which cannot be cloned, and the worker would see
        // "Unserializable return value" rejections.
        const report = opts.onProgress;
        const progress = report ? Comlink.proxy((p: Progress) => void report(p)) : undefined;
        return await fn(args, progress, Comlink.transfer(port2, [port2]));
      } finally {
        opts.signal?.removeEventListener('abort', onAbort);
        port1.close();
      }
    },
    terminate() {
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
