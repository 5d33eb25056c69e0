/** worker_threads side of cli/synthThreads.ts: generates one slice and posts it back. */
import { parentPort, workerData } from 'node:worker_threads';
import { generateDataset, type GenerateOptions } from '../src/core/surface/synthetic.ts';

const opts = workerData.opts as GenerateOptions;
try {
  const ds = await generateDataset(opts, { onProgress: (p) => parentPort!.postMessage({ type: 'progress', done: p.done }) });
  parentPort!.postMessage({ type: 'done', ds }, [ds.params.buffer as ArrayBuffer, ds.iv.buffer as ArrayBuffer, ds.mask.buffer as ArrayBuffer]);
} catch (e) {
  parentPort!.postMessage({ type: 'error', name: (e as Error).name, message: (e as Error).message });
}
