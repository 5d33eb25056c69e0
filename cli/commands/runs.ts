/**
 * `runs list | show | export | import`: the experiment-tracking store (MLflow's FileStore layout)
 * from the command line. Every command takes --tracking-uri DIR (default ./mlruns). NaN and ±inf
 * metric values print as the strings "NaN", "Infinity", "-Infinity", as MLflow's REST API does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import { FileTree } from '../../src/core/tracking/fileTracker.ts';
import type { MetricPoint, RunSummary } from '../../src/core/tracking/model.ts';
import { exportRunsZip, treeFromZip } from '../../src/core/tracking/zip.ts';
import type { TreeIo } from '../../src/core/tracking/tree.ts';
import { parse, type CommandDef } from '../io.ts';
import { TRACKING_OPTIONS, trackerFromArgs } from '../tracking.ts';

const URI_HELP = '  --tracking-uri DIR   the store: a directory or a file: URI (default ./mlruns)';

function jsonNumber(x: number): number | string {
  return Number.isFinite(x) ? x : Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

function point(p: MetricPoint) {
  return { value: jsonNumber(p.value), step: p.step, timestamp: p.timestamp };
}

function runRow(s: RunSummary, experiments: Map<string, string>) {
  const i = s.info;
  return {
    run_id: i.runId,
    name: i.runName,
    experiment_id: i.experimentId,
    experiment: experiments.get(i.experimentId) ?? null,
    status: i.status,
    lifecycle_stage: i.lifecycleStage,
    start_time: i.startTime,
    end_time: i.endTime,
    duration_s: i.endTime === null ? null : (i.endTime - i.startTime) / 1000,
    params: s.params,
    metrics: Object.fromEntries(Object.entries(s.latest).map(([k, p]) => [k, jsonNumber(p.value)])),
  };
}

const list: CommandDef = {
  name: 'runs list',
  summary: 'list tracked runs (name, status, times, params, latest metrics) as JSON',
  usage: `npm run --silent cli -- runs list [--experiment NAME] [--all] [--tracking-uri DIR]

${URI_HELP}
  --experiment NAME    only this experiment's runs
  --all                include deleted runs`,
  async run(argv) {
    const { values: v } = parse(argv, { ...TRACKING_OPTIONS, all: { type: 'boolean' } });
    const tracker = await trackerFromArgs(v);
    const exps = new Map((await tracker.listExperiments({ includeDeleted: true })).map((e) => [e.experimentId, e.name]));
    const runs = await tracker.listRuns({ experimentName: v.experiment, includeDeleted: v.all });
    return runs.map((r) => runRow(r, exps));
  },
};

const show: CommandDef = {
  name: 'runs show',
  summary: 'one run: params, latest metrics (value, step, timestamp), tags, artifacts',
  usage: `npm run --silent cli -- runs show RUN_ID [--tracking-uri DIR]

${URI_HELP}`,
  async run(argv) {
    const { values: v, positionals } = parse(argv, { 'tracking-uri': TRACKING_OPTIONS['tracking-uri'] }, true);
    if (positionals.length !== 1) throw new InputError('give exactly one RUN_ID');
    const tracker = await trackerFromArgs(v);
    const s = await tracker.getRun(positionals[0]);
    const exps = new Map((await tracker.listExperiments({ includeDeleted: true })).map((e) => [e.experimentId, e.name]));
    const { params: _p, metrics: _m, ...row } = runRow(s, exps);
    return {
      ...row,
      artifact_uri: s.info.artifactUri,
      params: s.params,
      metrics: Object.fromEntries(Object.entries(s.latest).map(([k, p]) => [k, point(p)])),
      tags: s.tags,
      artifacts: await tracker.listArtifacts(s.info.runId),
    };
  },
};

const exportCmd: CommandDef = {
  name: 'runs export',
  summary: 'export runs as an MLflow FileStore tree (--out DIR) or one zip of mlruns/ (--zip FILE)',
  usage: `npm run --silent cli -- runs export (--out DIR | --zip FILE) [--run RUN_ID …] [--tracking-uri DIR]

${URI_HELP}
  --out DIR            DIR becomes the tree (it holds the experiment folders; must be empty or new).
                       Artifact URIs are relative: run \`mlflow ui --backend-store-uri ./<DIR name>\`
                       from DIR's parent folder
  --zip FILE           one zip whose top folder is mlruns/, with a README on opening it in MLflow
  --run RUN_ID         export only these runs (repeat); default all, deleted ones included`,
  async run(argv) {
    const { values: v } = parse(argv, { 'tracking-uri': TRACKING_OPTIONS['tracking-uri'], out: { type: 'string' }, zip: { type: 'string' }, run: { type: 'string', multiple: true } });
    if (!v.out === !v.zip) throw new InputError('give either --out DIR or --zip FILE');
    const tracker = await trackerFromArgs(v);
    if (v.zip) {
      const z = await exportRunsZip(tracker, v.run);
      const file = resolve(v.zip);
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, z.bytes);
      await rename(tmp, file);
      return { zip: v.zip, runs: z.runs, experiments: z.experiments, bytes: z.bytes.length };
    }
    const out = resolve(v.out!);
    let existing: string[] = [];
    try {
      existing = await readdir(out);
    } catch {
      // a new folder
    }
    if (existing.length) throw new InputError('the folder is not empty: export into a new or empty folder', v.out);
    const counts = await tracker.exportTree(new FileTree(out), { runIds: v.run, artifactRoot: `./${basename(out)}` });
    return { out: v.out, ...counts, open: `cd ${dirname(out)} && mlflow ui --backend-store-uri ./${basename(out)}` };
  },
};

const importCmd: CommandDef = {
  name: 'runs import',
  summary: 'import an MLflow FileStore tree (a folder or a zip); malformed runs are skipped and reported',
  usage: `npm run --silent cli -- runs import DIR|FILE.zip [--tracking-uri DIR]

${URI_HELP}
  DIR is a FileStore tree (the folder holding the experiment folders, or one that holds mlruns/).
  Prints {"imported": n, "skipped": [{"path", "line", "reason"}]}; exits 0 when anything was
  imported, 2 when nothing could be. Run ids are kept; an experiment id changes only when this
  store already uses it for another experiment.`,
  async run(argv) {
    const { values: v, positionals } = parse(argv, { 'tracking-uri': TRACKING_OPTIONS['tracking-uri'] }, true);
    if (positionals.length !== 1) throw new InputError('give exactly one DIR or FILE.zip to import');
    const src = positionals[0];
    let isDir: boolean;
    try {
      isDir = statSync(src).isDirectory();
    } catch {
      throw new InputError('no such file or folder', src);
    }
    let tree: TreeIo;
    if (isDir) {
      // A folder that holds mlruns/ (and no experiment of its own) means the tree inside it.
      const inner = resolve(src, 'mlruns');
      const topHasExperiments = readdirSync(src).some((n) => statSync(resolve(src, n, 'meta.yaml'), { throwIfNoEntry: false })?.isFile());
      const hasInner = !topHasExperiments && (statSync(inner, { throwIfNoEntry: false })?.isDirectory() ?? false);
      tree = new FileTree(hasInner ? inner : resolve(src));
    } else {
      tree = treeFromZip(new Uint8Array(readFileSync(src)), src);
    }
    const tracker = await trackerFromArgs(v);
    const res = await tracker.importTree(tree);
    const out = { imported: res.imported, skipped: res.skipped, run_ids: res.runIds, experiment_ids: res.experimentIds };
    if (res.imported === 0) {
      process.stdout.write(JSON.stringify(out) + '\n');
      throw new InputError(`nothing imported (${res.skipped.length} skipped)`, src);
    }
    return out;
  },
};

export const runsCommands: CommandDef[] = [list, show, exportCmd, importCmd];
