/**
 * A JobClient for a tfjs-using worker that first puts the worker on the page's active backend
 * (the worker spreads backendJobs from workers/backend.ts into its table), and re-applies it when
 * the user switches backend. Use jobClient() directly for workers that do not use tfjs.
 */
import type { JobTable } from '../../../workers/expose.ts';
import { jobClient, type JobClient, type RunOptions } from './jobClient.ts';
import { activeBackend } from './backend.ts';
import type { BackendName } from '../../core/backend/names.ts';

export function labWorker<T extends JobTable>(worker: Worker): JobClient<T> {
  const inner = jobClient<T>(worker);
  let applied: BackendName | undefined;
  let applying: Promise<void> | undefined;

  async function apply(name: BackendName): Promise<void> {
    const run = inner.run as unknown as (n: string, a: unknown) => Promise<{ active: BackendName; attempts: { name: string; error?: string }[] }>;
    const r = await run('setBackend', { name });
    applied = name;
    if (r.active !== name) console.warn(`worker could not use ${name} (${r.attempts[0]?.error}); it runs on ${r.active}`);
  }

  async function run<K extends keyof T & string>(name: K, args: Parameters<T[K]>[0], opts?: RunOptions): Promise<Awaited<ReturnType<T[K]>>> {
    const want = await activeBackend();
    if (applied !== want) {
      applying ??= apply(want).finally(() => (applying = undefined));
      await applying;
    }
    return inner.run(name, args, opts);
  }
  return { run, terminate: () => inner.terminate() };
}
