/**
 * Surface jobs for the pages: parse dropped files, write .npz / .csv, compare two surfaces,
 * generate synthetic surfaces (a data set is split across several of these workers by sample
 * index). Thin adapter: every job is a core function.
 */
import { exposeJobs } from './expose.ts';
import type { JobContext } from '../src/core/jobs.ts';
import { compareSurfaces, parseSurfaceBytes, surfaceToCsv, surfaceToNpz } from '../src/core/surface/files.ts';
import { datasetToNpz, generateDataset, mergeDatasets, namedSyntheticSurface, type GenerateOptions, type HestonDataset, type SynthKind } from '../src/core/surface/synthetic.ts';
import { atmTermStructure } from '../src/core/surface/resample.ts';
import type { CsvReadOptions } from '../src/core/surface/csv.ts';
import type { Surface } from '../src/core/surface/types.ts';

const jobs = {
  parseFile: (a: { name: string; bytes: Uint8Array; opts?: CsvReadOptions }) => parseSurfaceBytes(a.bytes, a.name, a.opts),
  toNpz: (a: { surface: Surface; compress?: boolean }) => surfaceToNpz(a.surface, { compress: a.compress ?? true }),
  toCsv: (a: { surface: Surface }) => surfaceToCsv(a.surface),
  compare: (a: { a: Surface; b: Surface }) => compareSurfaces(a.a, a.b),
  atmTerm: (a: { surface: Surface }) => atmTermStructure(a.surface),
  syntheticSurface: (a: { kind: SynthKind; seed: number }, ctx: JobContext) => namedSyntheticSurface(a.kind, a.seed, ctx),
  generate: (a: GenerateOptions, ctx: JobContext) => generateDataset(a, ctx),
  datasetNpz: (a: { parts: HestonDataset[]; compress?: boolean }) => datasetToNpz(mergeDatasets(a.parts), { compress: a.compress ?? false }),
};

export type SurfaceJobs = typeof jobs;
exposeJobs(jobs);
