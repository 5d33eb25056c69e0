/**
 * MLflow's FileStore layout on a TreeIo: where each experiment, run, param, tag, metric and
 * artifact lives, and how to read a whole tree (an import) leniently — a run with a malformed file
 * is reported {path, line, reason} and skipped, the rest is read.
 *
 *   <exp>/meta.yaml  <exp>/tags/<key>  <exp>/<run>/meta.yaml  <exp>/<run>/{params,tags,metrics}/<key>
 *   <exp>/<run>/artifacts/...
 * Under an experiment, `tags`, `datasets` and `traces` are MLflow's and never runs; at the top,
 * `.trash` and `models` are not experiments.
 */
import {
  experimentMetaYaml,
  formatMetricLine,
  parseExperimentMeta,
  parseMetricFile,
  parseRunMeta,
  runMetaYaml,
  TreeFormatError,
} from './mlflowFormat.ts';
import type { ArtifactEntry, Experiment, MetricPoint, RunInfo, RunRecord } from './model.ts';
import { fromUtf8, joinPath, utf8, type TreeIo } from './tree.ts';

export const RESERVED_EXP_CHILDREN = new Set(['tags', 'datasets', 'traces']);
export const RESERVED_TOP = new Set(['.trash', 'models']);

export interface Skipped {
  path: string;
  line: number | null;
  reason: string;
}

export const expDir = (expId: string) => expId;
export const runDir = (expId: string, runId: string) => joinPath(expId, runId);

/** Every file under dir, as paths relative to dir ('a/b/c'), sorted. */
export async function walkFiles(io: TreeIo, dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string) => {
    for (const e of await io.list(joinPath(dir, rel))) {
      const p = joinPath(rel, e.name);
      if (e.isDir) await visit(p);
      else out.push(p);
    }
  };
  await visit('');
  return out.sort();
}

/** Files under a folder as key → UTF-8 value (params/, tags/): the raw bytes, no newline stripped. */
export async function readKeyFiles(io: TreeIo, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of await walkFiles(io, dir)) {
    if (/\.tmp-[\w-]+$/.test(key)) continue; // a writer's temporary file, never a key
    const b = await io.read(joinPath(dir, key));
    if (b) out[key] = fromUtf8(b);
  }
  return out;
}

export async function readExperiment(io: TreeIo, folder: string): Promise<Experiment> {
  const path = joinPath(folder, 'meta.yaml');
  const b = await io.read(path);
  if (!b) throw new TreeFormatError(path, null, 'meta.yaml is missing (MLflow skips the folder)');
  const meta = parseExperimentMeta(fromUtf8(b), path, folder);
  return { ...meta, tags: await readKeyFiles(io, joinPath(folder, 'tags')) };
}

export async function listExperimentFolders(io: TreeIo): Promise<string[]> {
  return (await io.list('')).filter((e) => e.isDir && !RESERVED_TOP.has(e.name) && !e.name.startsWith('.')).map((e) => e.name);
}

export async function listRunFolders(io: TreeIo, expId: string): Promise<string[]> {
  return (await io.list(expDir(expId))).filter((e) => e.isDir && !RESERVED_EXP_CHILDREN.has(e.name)).map((e) => e.name);
}

export async function readRunInfo(io: TreeIo, expId: string, runId: string): Promise<RunInfo> {
  const path = joinPath(runDir(expId, runId), 'meta.yaml');
  const b = await io.read(path);
  if (!b) throw new TreeFormatError(path, null, 'meta.yaml is missing');
  return parseRunMeta(fromUtf8(b), path, expId, runId);
}

export async function readMetrics(io: TreeIo, expId: string, runId: string, only?: string): Promise<Record<string, MetricPoint[]>> {
  const dir = joinPath(runDir(expId, runId), 'metrics');
  const out: Record<string, MetricPoint[]> = {};
  const keys = only === undefined ? await walkFiles(io, dir) : [only];
  for (const key of keys) {
    const path = joinPath(dir, key);
    const b = await io.read(path);
    if (b) out[key] = parseMetricFile(fromUtf8(b), path);
  }
  return out;
}

export async function listArtifacts(io: TreeIo, expId: string, runId: string): Promise<ArtifactEntry[]> {
  const dir = joinPath(runDir(expId, runId), 'artifacts');
  const out: ArtifactEntry[] = [];
  for (const path of await walkFiles(io, dir)) {
    const b = await io.read(joinPath(dir, path));
    out.push({ path, size: b?.length ?? 0 });
  }
  return out;
}

/** A whole run from a tree; throws TreeFormatError naming the first bad file. */
export async function readRunRecord(io: TreeIo, expId: string, runId: string): Promise<RunRecord> {
  const info = await readRunInfo(io, expId, runId);
  const base = runDir(expId, runId);
  const artifacts: RunRecord['artifacts'] = [];
  for (const path of await walkFiles(io, joinPath(base, 'artifacts'))) {
    artifacts.push({ path, bytes: (await io.read(joinPath(base, 'artifacts', path)))! });
  }
  return {
    info,
    params: await readKeyFiles(io, joinPath(base, 'params')),
    tags: await readKeyFiles(io, joinPath(base, 'tags')),
    metrics: await readMetrics(io, expId, runId),
    artifacts,
  };
}

export interface ReadTree {
  experiments: { experiment: Experiment; runs: RunRecord[] }[];
  skipped: Skipped[];
}

function asSkipped(e: unknown, fallbackPath: string): Skipped {
  if (e instanceof TreeFormatError) return { path: e.path, line: e.line, reason: e.reason };
  return { path: fallbackPath, line: null, reason: e instanceof Error ? e.message : String(e) };
}

/** Reads every experiment and run of a tree MLflow (or this lab) wrote; bad runs go to skipped. */
export async function readTree(io: TreeIo): Promise<ReadTree> {
  const result: ReadTree = { experiments: [], skipped: [] };
  for (const folder of await listExperimentFolders(io)) {
    let experiment: Experiment;
    try {
      experiment = await readExperiment(io, folder);
    } catch (e) {
      result.skipped.push(asSkipped(e, folder));
      continue;
    }
    const runs: RunRecord[] = [];
    for (const runId of await listRunFolders(io, folder)) {
      try {
        runs.push(await readRunRecord(io, folder, runId));
      } catch (e) {
        result.skipped.push(asSkipped(e, runDir(folder, runId)));
      }
    }
    result.experiments.push({ experiment, runs });
  }
  return result;
}

// ------------------------------------------------------------------------------------- writing

export async function writeExperimentFiles(io: TreeIo, e: Experiment): Promise<void> {
  await io.write(joinPath(expDir(e.experimentId), 'meta.yaml'), utf8.encode(experimentMetaYaml(e)));
  for (const [k, v] of Object.entries(e.tags)) await io.write(joinPath(expDir(e.experimentId), 'tags', k), utf8.encode(v));
}

/** A whole run, as export writes it (metric files in full, in logging order). */
export async function writeRunFiles(io: TreeIo, r: RunRecord): Promise<void> {
  const base = runDir(r.info.experimentId, r.info.runId);
  await io.write(joinPath(base, 'meta.yaml'), utf8.encode(runMetaYaml(r.info)));
  for (const [k, v] of Object.entries(r.params)) await io.write(joinPath(base, 'params', k), utf8.encode(v));
  for (const [k, v] of Object.entries(r.tags)) await io.write(joinPath(base, 'tags', k), utf8.encode(v));
  for (const [k, pts] of Object.entries(r.metrics)) {
    if (pts.length) await io.write(joinPath(base, 'metrics', k), utf8.encode(pts.map(formatMetricLine).join('')));
  }
  for (const a of r.artifacts) await io.write(joinPath(base, 'artifacts', a.path), a.bytes);
}
