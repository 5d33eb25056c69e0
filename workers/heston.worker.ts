/**
 * Heston jobs for the Pricer & Calibration page: the IV surface of a parameter set, LM
 * calibration of a surface, and a float32-vs-Float64 parity check of the batched tfjs pricer on
 * the active backend. Thin adapter: every job is a core function.
 */
import * as tf from '@tensorflow/tfjs';
import { exposeJobs } from './expose.ts';
import { backendJobs } from './backend.ts';
import type { JobContext } from '../src/core/jobs.ts';
import type { HestonParams } from '../src/core/heston/params.ts';
import { hestonIvSurface } from '../src/core/heston/surface.ts';
import { calibrateSurface, type CalibrationOptions } from '../src/core/heston/calibrate.ts';
import { batchParity } from '../src/core/heston/parity.ts';
import type { Surface } from '../src/core/surface/types.ts';

const jobs = {
  ...backendJobs,
  ivSurface: (a: { params: HestonParams; kGrid: number[]; tGrid: number[] }) => hestonIvSurface(a.params, a.kGrid, a.tGrid),
  calibrate: async (a: { surface: Surface; options?: Omit<CalibrationOptions, 'signal' | 'onProgress' | 'engine'> }, ctx: JobContext) => {
    const { modelIv: _perSlice, ...res } = await calibrateSurface(a.surface, { ...a.options, ...ctx });
    return res;
  },
  parity: (a: { params: HestonParams[]; kGrid: number[]; tGrid: number[] }) => batchParity(a.params, a.kGrid, a.tGrid).then((r) => ({ ...r, backend: tf.getBackend() })),
};

export type HestonJobs = typeof jobs;
exposeJobs(jobs);
