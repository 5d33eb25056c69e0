// Entry for worker_threads running TypeScript modules: registers tsx's loader in the new thread
// (loader hooks do not cross into workers) and then imports the module named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.__module);
