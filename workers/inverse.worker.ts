/**
 * Inverse-network jobs for the Inverse page: train (with pause / resume / cancel and a resumable
 * state in IndexedDB), evaluate, apply a checkpoint, and the checkpoint library. Thin adapter:
 * the only state here is the pause gate of the running training and the two stores.
 */
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { IdbStore } from '../src/core/store/idb.ts';
import { namespaced } from '../src/core/store/store.ts';
import { PauseGate } from '../src/core/inverse/pauseGate.ts';
import { CheckpointLibrary } from '../src/core/inverse/checkpointLibrary.ts';
import { checkSurface, makeData, runPredictJob, runTrainJob, savedRun, type DataSpec, type TrainJobArgs } from '../src/core/inverse/jobs.ts';
import { evaluateInverse } from '../src/core/inverse/evaluate.ts';
import { decodeCheckpoint } from '../src/core/inverse/checkpoint.ts';
import { evaluationHooks } from '../src/core/inverse/hooks.ts';
import type { Surface } from '../src/core/surface/types.ts';
import type { HestonParams } from '../src/core/heston/params.ts';

const gate = new PauseGate();
const store = namespaced(new IdbStore(), 'inverse');
const checkpoints = new CheckpointLibrary(namespaced(new IdbStore(), 'checkpoints'));
const hooks = evaluationHooks();

const jobs = {
  ...backendJobs,
  train: (a: TrainJobArgs, ctx: JobContext) => {
    gate.resume();
    return runTrainJob(a, { store, gate, hooks }, ctx);
  },
  pause: () => gate.pause(),
  resume: () => gate.resume(),
  savedRun: () => savedRun(store),
  evaluate: async (a: { bundle: Uint8Array; data: DataSpec; surfaceSamples?: number; lmSamples?: number }, ctx: JobContext) => {
    const ck = await decodeCheckpoint(a.bundle, 'checkpoint');
    return evaluateInverse(ck, await makeData(a.data, ctx), { surfaceSamples: a.surfaceSamples, lmSamples: a.lmSamples }, hooks, ctx);
  },
  predict: (a: { bundle: Uint8Array; surfaces: Surface[]; resample?: boolean }) => runPredictJob(a, hooks),
  checkSurface: (a: { kGrid: number[]; tGrid: number[] }) => checkSurface(a),
  refine: (a: { surface: Surface; start: HestonParams }, ctx: JobContext) => {
    if (!hooks.calibrate) throw new Error('the Levenberg–Marquardt calibrator is not available in this build');
    return hooks.calibrate(a.surface, a.start, ctx);
  },
  listCheckpoints: () => checkpoints.list(),
  addCheckpoint: (a: { bytes: Uint8Array; origin: string; fileName?: string }) => checkpoints.add(a.bytes, a.origin, a.fileName),
  checkpointBytes: (a: { hash: string }) => checkpoints.bytes(a.hash),
  deleteCheckpoint: (a: { hash: string }) => checkpoints.delete(a.hash),
};

export type InverseJobs = typeof jobs;
exposeJobs(jobs);
