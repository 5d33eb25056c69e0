/**
 * The tracking API every trainer logs through (contract C2): startRun → ActiveRun → logParams,
 * logMetrics (buffered), setTags, logArtifact, end(status). Runs are stored in MLflow's FileStore
 * layout on a TreeIo — a directory in Node (fileTracker.ts, Node only), the lab's Store in the
 * browser (openStoreTracker below) — so `mlflow ui --backend-store-uri ./mlruns` reads them.
 *
 * Metrics are buffered and written every `flushIntervalMs` (1 s) or every `flushPoints` (1000)
 * points, one append per key per flush: a training loop logging every batch costs an array push.
 * A failed flush (QuotaError) keeps its points in the buffer for the next try and reports through
 * onError; what was written before stays (each flush is a separate append).
 *
 * A RUNNING run carries a tag `heston-lab.owner` naming its writer (`node:<host>:<pid>`, or
 * `browser:<page session>`). Opening a tracker sweeps runs whose owner is gone and marks them
 * KILLED, so a crashed process or a closed tab never leaves a run RUNNING for ever.
 *
 * This module is browser-safe: no Node imports.
 */
import { InputError } from '../errors.ts';
import { namespaced, type Store } from '../store/store.ts';
import {
  checkKeyNesting,
  cryptoBytes,
  latestPoint,
  LIMITS,
  newExperimentId,
  newRunId,
  paramString,
  TAG,
  validateArtifactPath,
  validateExperimentName,
  validateKey,
  type ArtifactEntry,
  type RandomBytes,
  type Experiment,
  type MetricPoint,
  type RunInfo,
  type RunRecord,
  type RunStatus,
  type RunSummary,
} from './model.ts';
import { formatMetricLine, runMetaYaml, experimentMetaYaml } from './mlflowFormat.ts';
import {
  expDir,
  listArtifacts,
  listExperimentFolders,
  listRunFolders,
  readExperiment,
  readKeyFiles,
  readMetrics,
  readRunInfo,
  readRunRecord,
  readTree,
  runDir,
  writeExperimentFiles,
  writeRunFiles,
  type Skipped,
} from './layout.ts';
import { joinPath, MemoryTree, StoreTree, utf8, type TreeIo } from './tree.ts';

export type { RunStatus } from './model.ts';

export interface StartRunOptions {
  /** Experiment NAME (created if missing). */
  experiment: string;
  /** Run name (mlflow.runName). */
  name?: string;
  params?: Record<string, string | number | boolean>;
  tags?: Record<string, string>;
}

export interface ActiveRun {
  readonly runId: string;
  readonly experimentId: string;
  /** Set-once: the same value again is fine, another value is an InputError. */
  logParams(p: Record<string, string | number | boolean>): Promise<void>;
  /** Buffered, never blocks; keys are validated at once (InputError). */
  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void;
  flush(): Promise<void>;
  setTags(t: Record<string, string>): Promise<void>;
  /** path like 'checkpoints/agent.hlckpt' */
  logArtifact(path: string, bytes: Uint8Array): Promise<void>;
  /** Flushes, then records the status (default FINISHED) and the end time. */
  end(status?: RunStatus): Promise<void>;
}

export interface Tracker {
  startRun(o: StartRunOptions): Promise<ActiveRun>;
  listExperiments(opts?: { includeDeleted?: boolean }): Promise<Experiment[]>;
  listRuns(opts?: { experimentId?: string; experimentName?: string; includeDeleted?: boolean }): Promise<RunSummary[]>;
  getRun(runId: string): Promise<RunSummary>;
}

export interface ImportResult {
  imported: number;
  runIds: string[];
  skipped: Skipped[];
  /** Source experiment id → id here (differs only where the id was taken by another name). */
  experimentIds: Record<string, string>;
}

export interface TrackerOptions {
  /** This writer, recorded on RUNNING runs: `node:<host>:<pid>` or `browser:<session>`. */
  owner: string;
  /** Whether a run's owner still runs: true, false (gone: mark KILLED), undefined (cannot tell). */
  isOwnerAlive: (owner: string) => Promise<boolean | undefined> | boolean | undefined;
  /** An experiment's artifact_location (runs get `<location>/<run>/artifacts`). */
  artifactLocation: (experimentId: string) => string;
  /** mlflow.user (default 'lab'). */
  user?: string;
  /** mlflow.source.name (the entry point: 'heston-lab inverse train', 'Inverse page'). */
  sourceName?: string;
  /** mlflow.source.type: MLflow's LOCAL, NOTEBOOK, JOB, PROJECT or UNKNOWN (default LOCAL). */
  sourceType?: string;
  now?: () => number;
  randomBytes?: RandomBytes;
  /** Metric buffer flush period (default 1000 ms). */
  flushIntervalMs?: number;
  /** Flush as soon as this many points wait (default 1000, MLflow's batch limit). */
  flushPoints?: number;
  /** A background flush failed (its points stay buffered). Default: console.warn. */
  onError?: (e: unknown, runId: string) => void;
}

export const DEFAULT_EXPERIMENT = 'Default';
const KILL_REASON_TAG = 'heston-lab.killed_reason';

/** Run tags as MLflow validates them: key rules, string values of at most LIMITS.runTagValue. */
function checkTags(tags: Record<string, string>): void {
  for (const [k, v] of Object.entries(tags)) {
    validateKey(k, 'tag');
    if (typeof v !== 'string') throw new InputError(`tag ${k} must be a string`, 'tag');
    if (v.length > LIMITS.runTagValue) throw new InputError(`tag ${k} is ${v.length} characters; MLflow allows ${LIMITS.runTagValue}`, 'tag');
  }
}
export class LabTracker implements Tracker {
  private readonly now: () => number;
  private readonly rand: RandomBytes;
  private readonly runExp = new Map<string, string>();
  private readonly active = new Set<ActiveRunImpl>();

  constructor(
    readonly io: TreeIo,
    readonly opts: TrackerOptions,
  ) {
    this.now = opts.now ?? (() => Date.now());
    this.rand = opts.randomBytes ?? cryptoBytes;
  }

  /** Opens a tracker and marks the runs of gone owners KILLED. */
  static async open(io: TreeIo, opts: TrackerOptions): Promise<LabTracker> {
    const t = new LabTracker(io, opts);
    await t.sweepStale();
    return t;
  }

  get activeRuns(): number {
    return this.active.size;
  }

  // --------------------------------------------------------------------------- experiments

  async listExperiments(opts: { includeDeleted?: boolean } = {}): Promise<Experiment[]> {
    const out: Experiment[] = [];
    for (const f of await listExperimentFolders(this.io)) {
      try {
        const e = await readExperiment(this.io, f);
        if (opts.includeDeleted || e.lifecycleStage === 'active') out.push(e);
      } catch {
        // a folder MLflow would skip too (no or bad meta.yaml)
      }
    }
    return out.sort((a, b) => a.creationTime - b.creationTime || a.name.localeCompare(b.name));
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    return (await this.listExperiments({ includeDeleted: true })).find((e) => e.name === name);
  }

  /**
   * The experiment of that name, created if missing. Creation runs under the tree's
   * 'experiments' lock and re-reads the tree inside it, so two writers starting the first run of
   * a new experiment at once end up in one experiment.
   */
  async getOrCreateExperiment(name: string, id?: string): Promise<Experiment> {
    validateExperimentName(name);
    return this.io.withLock('experiments', async () => {
      const found = await this.getExperimentByName(name);
      if (found) return found;
      const taken = new Set(await listExperimentFolders(this.io));
      let experimentId = id ?? (name === DEFAULT_EXPERIMENT && !taken.has('0') ? '0' : newExperimentId(this.rand));
      while (taken.has(experimentId)) experimentId = newExperimentId(this.rand);
      const t = this.now();
      const e: Experiment = {
        experimentId,
        name,
        artifactLocation: this.opts.artifactLocation(experimentId),
        lifecycleStage: 'active',
        creationTime: t,
        lastUpdateTime: t,
        tags: {},
      };
      await writeExperimentFiles(this.io, e);
      return e;
    });
  }

  private async ensureDefaultExperiment(): Promise<void> {
    if (!(await listExperimentFolders(this.io)).includes('0')) {
      const existing = await this.getExperimentByName(DEFAULT_EXPERIMENT);
      if (!existing) await this.getOrCreateExperiment(DEFAULT_EXPERIMENT, '0');
    }
  }

  // --------------------------------------------------------------------------- runs: reading

  /** The experiment holding a run (cached; scans the tree on a miss). */
  async locate(runId: string): Promise<string> {
    const cached = this.runExp.get(runId);
    if (cached !== undefined) return cached;
    for (const f of await listExperimentFolders(this.io)) {
      for (const r of await listRunFolders(this.io, f)) this.runExp.set(r, f);
    }
    const exp = this.runExp.get(runId);
    if (exp === undefined) throw new InputError(`no run ${runId} in this store`, 'run');
    return exp;
  }

  private async summary(expId: string, runId: string): Promise<RunSummary> {
    const base = runDir(expId, runId);
    const info = await readRunInfo(this.io, expId, runId);
    const metrics = await readMetrics(this.io, expId, runId);
    const latest: Record<string, MetricPoint> = {};
    for (const [k, pts] of Object.entries(metrics)) {
      const p = latestPoint(pts);
      if (p) latest[k] = p;
    }
    return {
      info,
      params: await readKeyFiles(this.io, joinPath(base, 'params')),
      tags: await readKeyFiles(this.io, joinPath(base, 'tags')),
      latest,
    };
  }

  /** Runs, newest first. A run whose files cannot be read is left out (import reports those). */
  async listRuns(opts: { experimentId?: string; experimentName?: string; includeDeleted?: boolean } = {}): Promise<RunSummary[]> {
    await this.io.refresh?.();
    let exps = await listExperimentFolders(this.io);
    if (opts.experimentName !== undefined) {
      const e = await this.getExperimentByName(opts.experimentName);
      if (!e) throw new InputError(`no experiment named "${opts.experimentName}"`, 'experiment');
      exps = [e.experimentId];
    }
    if (opts.experimentId !== undefined) exps = exps.filter((e) => e === opts.experimentId);
    const out: RunSummary[] = [];
    for (const exp of exps) {
      for (const runId of await listRunFolders(this.io, exp)) {
        this.runExp.set(runId, exp);
        try {
          const s = await this.summary(exp, runId);
          if (opts.includeDeleted || s.info.lifecycleStage === 'active') out.push(s);
        } catch {
          // unreadable run: skipped here, reported by import
        }
      }
    }
    return out.sort((a, b) => b.info.startTime - a.info.startTime);
  }

  // Readers re-read the tree's listing first (a no-op on disk): another tab or a worker may have written.
  async getRun(runId: string): Promise<RunSummary> {
    await this.io.refresh?.();
    return this.summary(await this.locate(runId), runId);
  }

  async getRecord(runId: string): Promise<RunRecord> {
    return readRunRecord(this.io, await this.locate(runId), runId);
  }

  async metricHistory(runId: string, key?: string): Promise<Record<string, MetricPoint[]>> {
    await this.io.refresh?.();
    return readMetrics(this.io, await this.locate(runId), runId, key);
  }

  async listArtifacts(runId: string): Promise<ArtifactEntry[]> {
    return listArtifacts(this.io, await this.locate(runId), runId);
  }

  async readArtifact(runId: string, path: string): Promise<Uint8Array> {
    validateArtifactPath(path);
    const b = await this.io.read(joinPath(runDir(await this.locate(runId), runId), 'artifacts', path));
    if (!b) throw new InputError(`run ${runId} has no artifact ${path}`, 'artifact');
    return b;
  }

  // --------------------------------------------------------------------------- runs: editing

  private async writeInfo(info: RunInfo): Promise<void> {
    await this.io.write(joinPath(runDir(info.experimentId, info.runId), 'meta.yaml'), utf8.encode(runMetaYaml(info)));
  }

  async renameRun(runId: string, name: string): Promise<void> {
    const exp = await this.locate(runId);
    const info = await readRunInfo(this.io, exp, runId);
    await this.writeInfo({ ...info, runName: name });
    await this.writeTags(exp, runId, { [TAG.runName]: name });
  }

  async setRunTags(runId: string, tags: Record<string, string>): Promise<void> {
    await this.writeTags(await this.locate(runId), runId, tags);
  }

  async deleteRunTag(runId: string, key: string): Promise<void> {
    validateKey(key, 'tag');
    await this.io.remove(joinPath(runDir(await this.locate(runId), runId), 'tags', key));
  }

  /** MLflow's delete: the run stays on disk, lifecycle_stage deleted (restoreRun undoes it). */
  async deleteRun(runId: string): Promise<void> {
    const exp = await this.locate(runId);
    const info = await readRunInfo(this.io, exp, runId);
    await this.writeInfo({ ...info, lifecycleStage: 'deleted', deletedTime: this.now() });
  }

  async restoreRun(runId: string): Promise<void> {
    const exp = await this.locate(runId);
    const info = await readRunInfo(this.io, exp, runId);
    const { deletedTime: _dropped, ...rest } = info;
    await this.writeInfo({ ...rest, lifecycleStage: 'active' });
  }

  /** Removes a run and its files for good (MLflow's `mlflow gc`). */
  async purgeRun(runId: string): Promise<void> {
    const exp = await this.locate(runId);
    await this.io.remove(runDir(exp, runId));
    this.runExp.delete(runId);
  }

  /** @internal used by ActiveRun too */
  async writeTags(expId: string, runId: string, tags: Record<string, string>): Promise<void> {
    checkTags(tags);
    for (const [k, v] of Object.entries(tags)) await this.io.write(joinPath(runDir(expId, runId), 'tags', k), utf8.encode(v));
  }

  // --------------------------------------------------------------------------- stale runs

  /** Marks KILLED every RUNNING run whose owner is known to be gone; returns their ids. */
  async sweepStale(): Promise<string[]> {
    const killed: string[] = [];
    for (const exp of await listExperimentFolders(this.io)) {
      for (const runId of await listRunFolders(this.io, exp)) {
        let info: RunInfo;
        try {
          info = await readRunInfo(this.io, exp, runId);
        } catch {
          continue;
        }
        if (info.status !== 'RUNNING') continue;
        const ownerBytes = await this.io.read(joinPath(runDir(exp, runId), 'tags', TAG.owner));
        if (!ownerBytes) continue; // not ours (written by MLflow or another tool): leave it
        const owner = new TextDecoder().decode(ownerBytes);
        if (owner === this.opts.owner || (await this.opts.isOwnerAlive(owner)) !== false) continue;
        // End time: the last moment the run is known to have been alive.
        let end = info.startTime;
        try {
          for (const pts of Object.values(await readMetrics(this.io, exp, runId))) for (const p of pts) end = Math.max(end, p.timestamp);
        } catch {
          // unreadable metrics: keep the start time
        }
        await this.writeInfo({ ...info, status: 'KILLED', endTime: end });
        await this.writeTags(exp, runId, { [KILL_REASON_TAG]: `its writer ${owner} was gone when the store was next opened` });
        await this.io.remove(joinPath(runDir(exp, runId), 'tags', TAG.owner));
        killed.push(runId);
      }
    }
    return killed;
  }

  // --------------------------------------------------------------------------- logging

  async startRun(o: StartRunOptions): Promise<ActiveRun> {
    validateExperimentName(o.experiment);
    await this.ensureDefaultExperiment();
    const exp = await this.getOrCreateExperiment(o.experiment);
    if (exp.lifecycleStage !== 'active') throw new InputError(`experiment "${o.experiment}" is deleted; restore it or use another name`, 'experiment');
    // Everything that can be refused is checked before meta.yaml exists: a refusal after it would
    // leave a RUNNING run with no owner tag, which no sweep could ever mark KILLED.
    checkTags({ ...(o.name !== undefined ? { [TAG.runName]: o.name } : {}), ...(o.tags ?? {}) });
    for (const k of Object.keys(o.params ?? {})) validateKey(k, 'param');
    let runId = newRunId(this.rand);
    const taken = new Set(await listRunFolders(this.io, exp.experimentId));
    while (taken.has(runId)) runId = newRunId(this.rand);
    const start = this.now();
    const runName = o.name ?? `run-${new Date(start).toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
    const user = this.opts.user ?? 'lab';
    const info: RunInfo = {
      runId,
      experimentId: exp.experimentId,
      runName,
      status: 'RUNNING',
      startTime: start,
      endTime: null,
      lifecycleStage: 'active',
      userId: user,
      artifactUri: `${exp.artifactLocation}/${runId}/artifacts`,
    };
    await this.writeInfo(info);
    this.runExp.set(runId, exp.experimentId);
    await this.writeTags(exp.experimentId, runId, {
      [TAG.runName]: runName,
      [TAG.user]: user,
      [TAG.sourceName]: this.opts.sourceName ?? 'heston-lab',
      [TAG.sourceType]: this.opts.sourceType ?? 'LOCAL',
      [TAG.owner]: this.opts.owner,
      ...(o.tags ?? {}),
    });
    const run = new ActiveRunImpl(this, info, {
      now: this.now,
      flushIntervalMs: this.opts.flushIntervalMs ?? 1000,
      flushPoints: this.opts.flushPoints ?? 1000,
      onError: this.opts.onError ?? ((e, id) => console.warn(`tracking: run ${id}: metrics not written yet (${(e as Error)?.message ?? e}); kept for the next flush`)),
    });
    this.active.add(run);
    if (o.params) await run.logParams(o.params);
    return run;
  }

  /** @internal */
  released(run: ActiveRunImpl): void {
    this.active.delete(run);
  }

  /** @internal */
  async writeRunInfo(info: RunInfo): Promise<void> {
    await this.writeInfo(info);
  }

  // --------------------------------------------------------------------------- export / import

  /**
   * Copies runs (all, or runIds) into `dest` as a FileStore tree. `artifactRoot` is how the
   * exported artifact URIs begin: './mlruns' makes `./mlruns/<exp>/<run>/artifacts`, which MLflow
   * resolves from the folder that contains mlruns/ (an absolute file:// URI would point at this
   * machine's store and break once the tree is moved). Deleted runs go too (they stay deleted).
   */
  async exportTree(dest: TreeIo, opts: { runIds?: string[]; artifactRoot: string }): Promise<{ runs: number; experiments: number }> {
    const wanted = opts.runIds ? new Set(opts.runIds) : undefined;
    if (wanted) for (const id of wanted) await this.locate(id); // InputError for an unknown id
    const exps = await this.listExperiments({ includeDeleted: true });
    let runs = 0;
    let experiments = 0;
    const loc = (expId: string) => `${opts.artifactRoot}/${expId}`;
    for (const e of exps) {
      const ids = (await listRunFolders(this.io, e.experimentId)).filter((r) => !wanted || wanted.has(r));
      // MLflow expects the Default experiment in every store; the others only where they hold runs.
      if (ids.length === 0 && e.experimentId !== '0' && wanted) continue;
      await writeExperimentFiles(dest, { ...e, artifactLocation: loc(e.experimentId) });
      experiments++;
      for (const runId of ids) {
        let rec: RunRecord;
        try {
          rec = await readRunRecord(this.io, e.experimentId, runId);
        } catch {
          continue; // unreadable here: nothing MLflow could read either
        }
        await writeRunFiles(dest, { ...rec, info: { ...rec.info, artifactUri: `${loc(e.experimentId)}/${runId}/artifacts` } });
        runs++;
      }
    }
    if (!exps.some((e) => e.experimentId === '0')) {
      const t = this.now();
      await dest.write('0/meta.yaml', utf8.encode(experimentMetaYaml({
        experimentId: '0', name: DEFAULT_EXPERIMENT, artifactLocation: loc('0'), lifecycleStage: 'active', creationTime: t, lastUpdateTime: t, tags: {},
      })));
      experiments++;
    }
    return { runs, experiments };
  }

  /**
   * Imports every readable run of a FileStore tree (MLflow's own or an export). Experiments are
   * matched by name; a source id is kept unless another experiment here already has it. A run
   * whose id is already here, or with a malformed file, is skipped and reported.
   */
  async importTree(src: TreeIo): Promise<ImportResult> {
    const tree = await readTree(src);
    const result: ImportResult = { imported: 0, runIds: [], skipped: [...tree.skipped], experimentIds: {} };
    for (const { experiment, runs } of tree.experiments) {
      const here = await this.importExperiment(experiment);
      result.experimentIds[experiment.experimentId] = here.experimentId;
      for (const rec of runs) {
        const where = runDir(experiment.experimentId, rec.info.runId);
        try {
          await this.locate(rec.info.runId);
          result.skipped.push({ path: where, line: null, reason: `run ${rec.info.runId} is already in this store` });
          continue;
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
        }
        const info: RunInfo = { ...rec.info, experimentId: here.experimentId, artifactUri: `${here.artifactLocation}/${rec.info.runId}/artifacts` };
        await writeRunFiles(this.io, { ...rec, info });
        this.runExp.set(info.runId, here.experimentId);
        result.imported++;
        result.runIds.push(info.runId);
      }
    }
    return result;
  }

  private async importExperiment(src: Experiment): Promise<Experiment> {
    return this.io.withLock('experiments', async () => {
      const all = await this.listExperiments({ includeDeleted: true });
      const byName = all.find((e) => e.name === src.name);
      if (byName) {
        // Experiment tags the store lacks come along; its own are kept.
        const add = Object.fromEntries(Object.entries(src.tags).filter(([k]) => !(k in byName.tags)));
        for (const [k, v] of Object.entries(add)) await this.io.write(joinPath(expDir(byName.experimentId), 'tags', k), utf8.encode(v));
        return byName;
      }
      const taken = new Set(await listExperimentFolders(this.io));
      let id = src.experimentId;
      while (taken.has(id)) id = newExperimentId(this.rand);
      const e: Experiment = { ...src, experimentId: id, artifactLocation: this.opts.artifactLocation(id) };
      await writeExperimentFiles(this.io, e);
      return e;
    });
  }
}

interface RunTiming {
  now: () => number;
  flushIntervalMs: number;
  flushPoints: number;
  onError: (e: unknown, runId: string) => void;
}

class ActiveRunImpl implements ActiveRun {
  readonly runId: string;
  readonly experimentId: string;
  private readonly base: string;
  private params = new Map<string, string>();
  private paramsLoaded = false;
  private readonly metricKeys = new Set<string>();
  private buffer: { key: string; p: MetricPoint }[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private queued = false;
  private ended = false;
  /** The last background flush failure, cleared by a successful flush. */
  lastError: unknown;

  constructor(
    private readonly tracker: LabTracker,
    private info: RunInfo,
    private readonly timing: RunTiming,
  ) {
    this.runId = info.runId;
    this.experimentId = info.experimentId;
    this.base = runDir(info.experimentId, info.runId);
  }

  private assertOpen() {
    if (this.ended) throw new InputError(`run ${this.runId} has ended; start a new run to log more`, 'run');
  }

  async logParams(p: Record<string, string | number | boolean>): Promise<void> {
    this.assertOpen();
    const io = this.tracker.io;
    if (!this.paramsLoaded) {
      this.params = new Map(Object.entries(await readKeyFiles(io, joinPath(this.base, 'params'))));
      this.paramsLoaded = true;
    }
    const fresh: [string, string][] = [];
    for (const [k, raw] of Object.entries(p)) {
      validateKey(k, 'param');
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw new InputError(`param ${k} must be a string, number or boolean`, 'param');
      const v = paramString(raw);
      const old = this.params.get(k);
      if (old !== undefined) {
        if (old !== v) throw new InputError(`param ${k} is already "${old.slice(0, 80)}"; changing param values is not allowed (MLflow's rule), got "${v.slice(0, 80)}"`, 'param');
        continue;
      }
      checkKeyNesting(k, [...this.params.keys(), ...fresh.map(([f]) => f)], 'param');
      fresh.push([k, v]);
    }
    for (const [k, v] of fresh) {
      await io.write(joinPath(this.base, 'params', k), utf8.encode(v));
      this.params.set(k, v);
    }
  }

  logMetrics(step: number, metrics: Record<string, number>, timestampMs?: number): void {
    this.assertOpen();
    if (!Number.isInteger(step)) throw new InputError(`metric step must be an integer, got ${step}`, 'metric');
    const ts = Math.trunc(timestampMs ?? this.timing.now());
    if (!(ts >= 0)) throw new InputError(`metric timestamp must be a non-negative integer, got ${timestampMs}`, 'metric');
    for (const [k, v] of Object.entries(metrics)) {
      if (!this.metricKeys.has(k)) {
        validateKey(k, 'metric');
        checkKeyNesting(k, this.metricKeys, 'metric');
        this.metricKeys.add(k);
      }
      if (typeof v !== 'number') throw new InputError(`metric ${k} must be a number, got ${typeof v}`, 'metric');
      this.buffer.push({ key: k, p: { step, value: v, timestamp: ts } });
    }
    if (this.buffer.length >= this.timing.flushPoints) this.background();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.background(), this.timing.flushIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Points waiting to be written (for tests and the page's "unsaved" hint). */
  get pending(): number {
    return this.buffer.length;
  }

  private background(): void {
    // One background flush at a time: a tight loop past flushPoints would otherwise queue one per call.
    if (this.queued) return;
    this.queued = true;
    this.flush()
      .catch((e) => this.timing.onError(e, this.runId))
      .finally(() => (this.queued = false));
  }

  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.chain.then(() => this.flushNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async flushNow(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    const byKey = new Map<string, string>();
    for (const { key, p } of batch) byKey.set(key, (byKey.get(key) ?? '') + formatMetricLine(p));
    try {
      await this.tracker.io.appendMany([...byKey].map(([k, text]) => [joinPath(this.base, 'metrics', k), utf8.encode(text)]));
      this.lastError = undefined;
    } catch (e) {
      // Nothing of this batch was written (one transaction): keep it, in order, ahead of newer points.
      this.buffer = batch.concat(this.buffer);
      this.lastError = e;
      throw e;
    }
  }

  async setTags(t: Record<string, string>): Promise<void> {
    this.assertOpen();
    await this.tracker.writeTags(this.experimentId, this.runId, t);
  }

  async logArtifact(path: string, bytes: Uint8Array): Promise<void> {
    this.assertOpen();
    validateArtifactPath(path);
    await this.tracker.io.write(joinPath(this.base, 'artifacts', path), bytes);
  }

  async end(status: RunStatus = 'FINISHED'): Promise<void> {
    if (this.ended) return;
    let flushError: unknown;
    try {
      await this.flush();
    } catch (e) {
      flushError = e;
    }
    this.ended = true;
    this.tracker.released(this);
    this.info = { ...this.info, status, endTime: this.timing.now() };
    await this.tracker.writeRunInfo(this.info);
    await this.tracker.io.remove(joinPath(this.base, 'tags', TAG.owner));
    if (flushError) throw flushError;
  }
}

// ------------------------------------------------------------------------------------- browser

/** Where the Store tracker's page sessions prove they are alive (outside the exported tree). */
const LEASE_PREFIX = 'lease/';
/** A page writes its lease every 5 s; one not renewed for 20 s (4 beats) belongs to a closed tab. */
export const LEASE_BEAT_MS = 5000;
export const LEASE_STALE_MS = 20000;

export interface StoreTrackerOptions extends Partial<Omit<TrackerOptions, 'owner' | 'isOwnerAlive'>> {
  /** This page session's id (default: random). */
  session?: string;
  /** false: no lease timer (tests drive beat() themselves). */
  heartbeat?: boolean;
}

export interface StoreTracker extends LabTracker {
  /** Renews this session's lease now. */
  beat(): Promise<void>;
  /** Stops the lease timer (the page is going away). */
  close(): void;
}

/**
 * The browser's tracker: the FileStore tree inside a Store (pass `namespaced(idbStore,
 * 'tracking')`). Runs are owned by `browser:<session>`; each open page renews a lease key every
 * 5 s, and opening the tracker marks KILLED the RUNNING runs of sessions whose lease is older
 * than 20 s (their tab was closed or crashed). Two open tabs keep each other's runs alive.
 */
export async function openStoreTracker(store: Store, opts: StoreTrackerOptions = {}): Promise<StoreTracker> {
  const rand = opts.randomBytes ?? cryptoBytes;
  const session = opts.session ?? newRunId(rand).slice(0, 16);
  const now = opts.now ?? (() => Date.now());
  // The tree's keys live under 'tree/' so lease keys never show up as files.
  const tree = new StoreTree(namespaced(store, 'tree'));
  const beat = () => store.set(`${LEASE_PREFIX}${session}`, now());
  // A full store must not stop the page from reading its runs: a failed beat is retried by the timer.
  await beat().catch(() => undefined);
  const t = (await LabTracker.open(tree, {
    artifactLocation: (id) => `./mlruns/${id}`,
    sourceName: 'Heston Lab (browser)',
    user: 'browser',
    ...opts,
    now,
    owner: `browser:${session}`,
    isOwnerAlive: async (owner) => {
      if (!owner.startsWith('browser:')) return undefined;
      const seen = await store.get<number>(`${LEASE_PREFIX}${owner.slice('browser:'.length)}`);
      return seen !== undefined && now() - seen < LEASE_STALE_MS;
    },
  })) as StoreTracker;
  // The sweep has ended every run of a stale session: its lease key has nothing left to prove.
  for (const k of await store.keys(LEASE_PREFIX)) {
    const seen = await store.get<number>(k);
    if (k !== `${LEASE_PREFIX}${session}` && (seen === undefined || now() - seen >= LEASE_STALE_MS)) await store.delete(k).catch(() => undefined);
  }
  const timer = opts.heartbeat === false ? undefined : setInterval(() => void beat().catch(() => undefined), LEASE_BEAT_MS);
  t.beat = beat;
  t.close = () => clearInterval(timer);
  return t;
}

export { MemoryTree, StoreTree };

// ------------------------------------------------------------------------------------- job glue

/** How a job's end maps onto a run status: cancelled (Ctrl-C, Stop) → KILLED, an error → FAILED. */
export function endStatusFor(error: unknown): RunStatus {
  if (error === undefined) return 'FINISHED';
  const name = (error as Error)?.name;
  return name === 'CancelledError' || name === 'AbortError' ? 'KILLED' : 'FAILED';
}

/**
 * Runs a job inside a run: FINISHED when it returns, KILLED when cancelled, FAILED (with the
 * error in the tag `heston-lab.error`) when it throws; the metrics logged so far are flushed in
 * every case. No run: just the job.
 */
export async function runTracked<T>(run: ActiveRun | undefined, body: () => Promise<T>): Promise<T> {
  if (!run) return body();
  let result: T;
  try {
    result = await body();
  } catch (e) {
    const status = endStatusFor(e);
    try {
      if (status === 'FAILED') await run.setTags({ 'heston-lab.error': (e instanceof Error ? e.message : String(e)).slice(0, LIMITS.runTagValue) });
      await run.end(status);
    } catch {
      // the job's own error is the one to report
    }
    throw e;
  }
  await run.end('FINISHED');
  return result;
}

/**
 * A config object as params: nested objects flatten with '.', arrays and null as JSON, so
 * `{topology: {hiddenDim: 96}}` logs `topology.hiddenDim = 96`.
 */
export function configParams(config: object, prefix = ''): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(config)) {
    const key = prefix + k;
    if (v === undefined || typeof v === 'function') continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) Object.assign(out, configParams(v as object, `${key}.`));
    else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[key] = v;
    else out[key] = JSON.stringify(ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v);
  }
  return out;
}

const snake = (k: string) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Numeric fields of a record as metric keys: camelCase → snake_case, nested objects → `outer/inner`. */
export function numericMetrics(rec: object, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v === 'number') out[prefix + snake(k)] = v;
    else if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, numericMetrics(v, `${prefix}${snake(k)}/`));
  }
  return out;
}

/**
 * A JobContext.onProgress that also logs to a run: a report carrying an `epochRecord` (the
 * trainers' typed per-epoch record) logs its numbers at step = epoch (`valR2.kappa` → `r2/kappa`;
 * `train_loss`, `val_loss` …); other reports' `metrics` log under `batch/` at step = done, so a
 * running run's curves move within an epoch. `skip` names record fields that are not metrics.
 */
export function trackProgress<P extends { done: number; metrics?: Record<string, number> }>(
  run: ActiveRun | undefined,
  next?: (p: P) => void,
  opts: { skip?: string[]; rename?: Record<string, string> } = {},
): (p: P) => void {
  const skip = new Set(opts.skip ?? ['epoch', 'batch', 'epochDone']);
  const rename = opts.rename ?? { valR2: 'r2' };
  return (p) => {
    next?.(p);
    if (!run) return;
    const rec = (p as { epochRecord?: Record<string, unknown> }).epochRecord;
    try {
      if (rec && typeof rec.epoch === 'number') {
        const fields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(rec)) if (!skip.has(k)) fields[rename[k] ?? k] = v;
        run.logMetrics(rec.epoch, numericMetrics(fields));
      } else if (p.metrics) {
        const m: Record<string, number> = {};
        for (const [k, v] of Object.entries(p.metrics)) if (!skip.has(k) && typeof v === 'number') m[`batch/${snake(k)}`] = v;
        if (Object.keys(m).length) run.logMetrics(Math.trunc(p.done), m);
      }
    } catch (e) {
      // A bad metric key must not stop training; it is reported once per report.
      console.warn(`tracking: ${(e as Error).message}`);
    }
  };
}
