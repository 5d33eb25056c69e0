/**
 * Node-only splitter for synthetic data sets: worker_threads each generate a contiguous slice
 * (sample i always comes from Rng.stream(seed, i)), and the slices are merged in order, so the
 * result is bit-identical to a single-threaded run. Kept out of src/core so node:worker_threads
 * never reaches the browser bundle (the page splits across Web Workers instead).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { InputError, LabError } from '../src/core/errors.ts';
import { CancelledError, throttledProgress, type JobContext } from '../src/core/jobs.ts';
import { generateDataset, mergeDatasets, type GenerateOptions, type HestonDataset } from '../src/core/surface/synthetic.ts';
import { generationPlan } from '../src/core/surface/generationPlan.ts';

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

export async function generateDatasetThreaded(opts: GenerateOptions, threads: number, ctx: JobContext = {}): Promise<HestonDataset> {
  const n = opts.n;
  const { parts, slices } = generationPlan(n, opts.kind, threads);
  if (parts === 1) return generateDataset(opts, ctx);
  const progress = throttledProgress(ctx, 250);
  const done = new Array<number>(parts).fill(0);
  const workers: Worker[] = [];
  const t0 = Date.now();
  try {
    const results = await Promise.all(
      slices.map(
        (slice, w) =>
          new Promise<HestonDataset>((resolve, reject) => {
            const worker = new Worker(new URL('./threadBoot.mjs', import.meta.url), {
              workerData: { __module: new URL('./synthWorker.ts', import.meta.url).href, opts: { ...opts, ...slice } },
            });
            workers.push(worker);
            const onAbort = () => reject(new CancelledError());
            ctx.signal?.addEventListener('abort', onAbort, { once: true });
            worker.on('message', (m: { type: string; done?: number; ds?: HestonDataset; name?: string; message?: string }) => {
              if (m.type === 'progress') {
                done[w] = m.done!;
                const total = done.reduce((a, b) => a + b, 0);
                progress({ done: total, total: n, message: `generated ${total}/${n} ${opts.kind} surfaces on ${parts} threads`, metrics: { surfacesPerSecond: (total * 1000) / Math.max(1, Date.now() - t0) } });
              } else if (m.type === 'done') resolve(m.ds!);
              else if (m.type === 'error') reject(m.name === 'InputError' ? new InputError(m.message!) : new LabError(`thread ${w}: ${m.message}`));
            });
            worker.on('error', (e) => reject(e));
            worker.on('exit', (code) => {
              ctx.signal?.removeEventListener('abort', onAbort);
              if (code !== 0) reject(new LabError(`generator thread ${w} exited with code ${code}`));
            });
          }),
      ),
    );
    return mergeDatasets(results);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
