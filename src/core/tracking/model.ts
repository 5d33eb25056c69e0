/**
 * The tracking model: MLflow's experiments and runs, with the same names, enums and validation
 * rules, so that a tree written here is one MLflow reads (see mlflowFormat.ts) and a tree MLflow
 * wrote imports here unchanged.
 *
 * Limits are MLflow 2.17's (mlflow/utils/validation.py, checked against the reference tree in
 * tests/fixtures/mlruns and its README): keys ≤ 250 characters; param values ≤ 6000 (MLflow cuts
 * longer ones to 6000 with a warning, MLFLOW_TRUNCATE_LONG_VALUES on by default — so do we); run tag
 * values ≤ 8000; experiment tag values ≤ 5000; experiment names 1..500. The 2.17 FileStore checks only
 * the param limits and key names; keeping to every limit keeps a tree readable by every backend.
 */
import { InputError } from '../errors.ts';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type LifecycleStage = 'active' | 'deleted';

/** MLflow's RunStatus enum as written in meta.yaml. */
export const STATUS_CODE: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
export const STATUS_OF_CODE: Record<number, RunStatus> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };
export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

export const LIMITS = {
  keyLength: 250,
  paramValue: 6000,
  runTagValue: 8000,
  experimentTagValue: 5000,
  experimentName: 500,
} as const;

/** Tags MLflow's UI reads. */
export const TAG = {
  runName: 'mlflow.runName',
  user: 'mlflow.user',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  note: 'mlflow.note.content',
  /** Who is running a RUNNING run: `node:<host>:<pid>` or `browser:<page session>` (stale-run sweep). */
  owner: 'heston-lab.owner',
} as const;

export interface Experiment {
  experimentId: string;
  name: string;
  /** URI under which new runs get their artifacts (MLflow's artifact_location). */
  artifactLocation: string;
  lifecycleStage: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

export interface RunInfo {
  runId: string;
  experimentId: string;
  runName: string;
  status: RunStatus;
  startTime: number;
  /** null while RUNNING (MLflow writes `end_time: null`). */
  endTime: number | null;
  lifecycleStage: LifecycleStage;
  /** Present only on deleted runs. */
  deletedTime?: number | null;
  userId: string;
  artifactUri: string;
}

export interface MetricPoint {
  step: number;
  value: number;
  timestamp: number;
}

export interface ArtifactEntry {
  path: string;
  size: number;
}

/** Everything about one run except metric histories and artifact bytes. */
export interface RunSummary {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Latest value per metric key (MLflow's rule, latestPoint()). */
  latest: Record<string, MetricPoint>;
}

/** A run in full: what export writes and import reads. */
export interface RunRecord {
  info: RunInfo;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** Points in logging (file) order; the same step may appear several times. */
  metrics: Record<string, MetricPoint[]>;
  artifacts: { path: string; bytes: Uint8Array }[];
}

// Python's \w in unicode mode: letters, marks, digits, underscore — plus MLflow's '-', '.', ' ', '/', ':'.
const KEY_CHARS = /^[\p{L}\p{M}\p{N}_\-. /:]+$/u;

/**
 * Validates a param, metric or tag key the way MLflow does: allowed characters, at most 250
 * characters, and a normalised relative path (no leading or trailing '/', no '.', '..' or empty
 * segment), because the key becomes a file path under params/, metrics/ or tags/.
 */
export function validateKey(key: string, what: string): void {
  if (typeof key !== 'string' || key.length === 0) throw new InputError(`${what} key must be a non-empty string`, what);
  if (key.length > LIMITS.keyLength) throw new InputError(`key "${key.slice(0, 40)}…" is ${key.length} characters; MLflow allows ${LIMITS.keyLength}`, what);
  if (!KEY_CHARS.test(key)) throw new InputError(`key "${key}" may contain only letters, digits, '_', '-', '.', ' ', '/' and ':' (MLflow's rule)`, what);
  if (key.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`key "${key}" must be a normalised relative path (no leading or trailing '/', no '//', '.' or '..')`, what);
  }
}

/** An artifact path: relative, '/'-separated, no '.'/'..'/empty segment, no backslash or NUL. */
export function validateArtifactPath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) throw new InputError('artifact path must be a non-empty string', 'artifact');
  if (/[\\\0]/.test(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new InputError(`artifact path "${path}" must be relative, '/'-separated, without '.', '..' or empty segments`, 'artifact');
  }
}

export function validateExperimentName(name: string): void {
  if (typeof name !== 'string' || name.trim().length === 0) throw new InputError('experiment name must be a non-empty string', 'experiment');
  if (name.length > LIMITS.experimentName) throw new InputError(`experiment name is ${name.length} characters; MLflow allows ${LIMITS.experimentName}`, 'experiment');
  if (/[\r\n\0]/.test(name)) throw new InputError('experiment name may not contain line breaks', 'experiment');
}

/** A run or experiment id MLflow accepts as a folder name. */
export const RUN_ID_RE = /^[a-zA-Z0-9][\w-]{0,255}$/;
export const EXPERIMENT_ID_RE = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** A key may not also be a folder of another key in the same run (NotADirectoryError in MLflow). */
export function checkKeyNesting(key: string, existing: Iterable<string>, what: string): void {
  for (const k of existing) {
    if (k === key) continue;
    if (k.startsWith(key + '/') || key.startsWith(k + '/')) {
      throw new InputError(`${what} key "${key}" collides with "${k}": one would be a folder of the other`, what);
    }
  }
}

export function paramString(v: string | number | boolean): string {
  const s = typeof v === 'string' ? v : String(v);
  return s.length > LIMITS.paramValue ? s.slice(0, LIMITS.paramValue) : s;
}

/**
 * MLflow's latest value: the point with the largest (step, timestamp, value), compared in that
 * order — not the last line logged. NaN compares like Python's max over tuples does not define;
 * MLflow's SQL and file stores rank NaN above every number, so do we.
 */
export function latestPoint(points: readonly MetricPoint[]): MetricPoint | undefined {
  let best: MetricPoint | undefined;
  const v = (x: number) => (Number.isNaN(x) ? Infinity : x);
  for (const p of points) {
    if (
      !best ||
      p.step > best.step ||
      (p.step === best.step && (p.timestamp > best.timestamp || (p.timestamp === best.timestamp && v(p.value) > v(best.value))))
    ) best = p;
  }
  return best;
}

/** n random bytes. Ids need not be reproducible (MLflow's are uuid4); tests inject a seeded source. */
export type RandomBytes = (n: number) => Uint8Array;
export const cryptoBytes: RandomBytes = (n) => {
  const b = new Uint8Array(n);
  globalThis.crypto.getRandomValues(b);
  return b;
};

/** 32 lower-case hex characters, as MLflow's uuid4().hex. */
export function newRunId(random: RandomBytes = cryptoBytes): string {
  const b = random(16);
  // uuid4 version and variant bits, so the id is a valid uuid4 like MLflow's.
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** An 18-digit experiment id, as MLflow's FileStore draws them. */
export function newExperimentId(random: RandomBytes = cryptoBytes): string {
  const b = random(8);
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return String(100000000000000000n + (n % 900000000000000000n));
}
