/**
 * What the Runs page shows, computed here (DOM-free, unit-tested) so the page only renders:
 * MLflow-style filters (`metrics.val_loss < 0.3 and params.optimizer = 'adam'`), sorting by any
 * column, the column set of a list of runs, and the side-by-side comparison with differences.
 */
import { InputError } from '../errors.ts';
import type { RunSummary } from './model.ts';

export type Op = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE';
export interface Clause {
  /** metrics | params | tags | attributes (attributes: name, status, run_id, start_time, end_time, duration). */
  kind: 'metrics' | 'params' | 'tags' | 'attributes';
  key: string;
  op: Op;
  value: string | number;
}

/** A bare word searches the run name and id (substring, case-insensitive). */
export type Filter = { clauses: Clause[]; text: string[] };

const CLAUSE = /^\s*(metrics|metric|params|param|tags|tag|attributes|attribute|attr)\.(`[^`]+`|"[^"]+"|[\w.\-/:]+)\s*(!=|<=|>=|=|<|>|ILIKE|LIKE)\s*('(?:[^']|'')*'|"[^"]*"|[^\s]+)\s*$/i;

const KIND: Record<string, Clause['kind']> = { metrics: 'metrics', metric: 'metrics', params: 'params', param: 'params', tags: 'tags', tag: 'tags', attributes: 'attributes', attribute: 'attributes', attr: 'attributes' };

/** Parses MLflow's search syntax (the subset above); bad clauses are an InputError naming them. */
export function parseFilter(text: string): Filter {
  const out: Filter = { clauses: [], text: [] };
  const src = text.trim();
  if (!src) return out;
  for (const part of src.split(/\s+and\s+/i)) {
    if (!/[=<>]|\blike\b/i.test(part)) {
      out.text.push(part.trim().toLowerCase());
      continue;
    }
    const m = CLAUSE.exec(part);
    if (!m) throw new InputError(`cannot read "${part.trim()}": write e.g. metrics.val_loss < 0.3, params.lr = '0.002', tags.backend = 'wasm'`, 'filter');
    const kind = KIND[m[1].toLowerCase()];
    const key = m[2].replace(/^[`"]|[`"]$/g, '');
    const op = m[3].toUpperCase() as Op;
    let raw = m[4];
    let value: string | number;
    if (/^'.*'$|^".*"$/.test(raw)) value = raw.slice(1, -1).replace(/''/g, "'");
    else {
      const n = Number(raw);
      if (kind !== 'metrics' && !(kind === 'attributes' && /time|duration/.test(key))) value = raw;
      else if (Number.isNaN(n) && raw.toLowerCase() !== 'nan') throw new InputError(`"${raw}" is not a number (${kind}.${key})`, 'filter');
      else value = n;
      raw = String(value);
    }
    if (kind === 'metrics' && typeof value !== 'number') throw new InputError(`metrics.${key} compares with a number, got '${value}'`, 'filter');
    out.clauses.push({ kind, key, op, value });
  }
  return out;
}

function attribute(r: RunSummary, key: string): string | number | undefined {
  const i = r.info;
  switch (key) {
    case 'name': case 'run_name': return i.runName;
    case 'status': return i.status;
    case 'run_id': return i.runId;
    case 'start_time': return i.startTime;
    case 'end_time': return i.endTime ?? undefined;
    case 'duration': return duration(r);
    case 'user': case 'user_id': return i.userId;
    default: return undefined;
  }
}

function like(s: string, pattern: string, ci: boolean): boolean {
  const re = new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, ci ? 'is' : 's');
  return re.test(s);
}

function test(v: string | number | undefined, op: Op, want: string | number): boolean {
  if (v === undefined) return false;
  if (op === 'LIKE' || op === 'ILIKE') return like(String(v), String(want), op === 'ILIKE');
  if (typeof want === 'number') {
    const x = typeof v === 'number' ? v : Number(v);
    switch (op) {
      case '=': return x === want;
      case '!=': return x !== want;
      case '<': return x < want;
      case '<=': return x <= want;
      case '>': return x > want;
      case '>=': return x >= want;
    }
  }
  const s = String(v);
  switch (op) {
    case '=': return s === want;
    case '!=': return s !== want;
    case '<': return s < want;
    case '<=': return s <= want;
    case '>': return s > want;
    case '>=': return s >= want;
  }
  return false;
}

export function matches(r: RunSummary, f: Filter): boolean {
  for (const t of f.text) if (!r.info.runName.toLowerCase().includes(t) && !r.info.runId.includes(t)) return false;
  for (const c of f.clauses) {
    const v =
      c.kind === 'metrics' ? r.latest[c.key]?.value : c.kind === 'params' ? r.params[c.key] : c.kind === 'tags' ? r.tags[c.key] : attribute(r, c.key);
    if (!test(v, c.op, c.value)) return false;
  }
  return true;
}

/** Seconds from start to end (to `now` while RUNNING). */
export function duration(r: RunSummary, now = Date.now()): number {
  return ((r.info.endTime ?? (r.info.status === 'RUNNING' ? now : r.info.startTime)) - r.info.startTime) / 1000;
}

/** A sort column: 'name' | 'status' | 'start' | 'duration' | 'params.<k>' | 'metrics.<k>'. */
export function sortValue(r: RunSummary, column: string): string | number | undefined {
  if (column === 'name') return r.info.runName.toLowerCase();
  if (column === 'status') return r.info.status;
  if (column === 'start') return r.info.startTime;
  if (column === 'duration') return duration(r);
  if (column.startsWith('params.')) {
    const v = r.params[column.slice(7)];
    if (v === undefined) return undefined;
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : v;
  }
  if (column.startsWith('metrics.')) return r.latest[column.slice(8)]?.value;
  return undefined;
}

/** Sorted copy; runs without the value go last whichever the direction, NaN after numbers. */
export function sortRuns(runs: readonly RunSummary[], column: string, desc: boolean): RunSummary[] {
  const rank = (v: string | number | undefined) => (v === undefined ? 2 : typeof v === 'number' && Number.isNaN(v) ? 1 : 0);
  return [...runs].sort((a, b) => {
    const va = sortValue(a, column);
    const vb = sortValue(b, column);
    const ra = rank(va);
    const rb = rank(vb);
    if (ra || rb) return ra - rb;
    const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : String(va).localeCompare(String(vb));
    return desc ? -c : c;
  });
}

export interface Columns {
  params: string[];
  metrics: string[];
  tags: string[];
}

/** Every param, metric and (non-mlflow.*) tag key in the runs, sorted. */
export function columnsOf(runs: readonly RunSummary[]): Columns {
  const p = new Set<string>();
  const m = new Set<string>();
  const t = new Set<string>();
  for (const r of runs) {
    Object.keys(r.params).forEach((k) => p.add(k));
    Object.keys(r.latest).forEach((k) => m.add(k));
    Object.keys(r.tags).filter((k) => !k.startsWith('mlflow.') && !k.startsWith('heston-lab.')).forEach((k) => t.add(k));
  }
  return { params: [...p].sort(), metrics: [...m].sort(), tags: [...t].sort() };
}

export interface CompareRow {
  kind: 'param' | 'metric';
  key: string;
  /** One per run, in the runs' order; undefined where a run lacks the key. */
  values: (string | number | undefined)[];
  /** Not every run has the same value (a missing value counts as different). */
  differs: boolean;
}

/** Side-by-side params and latest metrics of the selected runs. */
export function compareRows(runs: readonly RunSummary[]): CompareRow[] {
  const cols = columnsOf(runs);
  const same = (vs: (string | number | undefined)[]) => vs.every((v) => Object.is(v, vs[0]));
  const rows: CompareRow[] = [];
  for (const key of cols.params) {
    const values = runs.map((r) => r.params[key]);
    rows.push({ kind: 'param', key, values, differs: !same(values) });
  }
  for (const key of cols.metrics) {
    const values = runs.map((r) => r.latest[key]?.value);
    rows.push({ kind: 'metric', key, values, differs: !same(values) });
  }
  return rows;
}

export interface ParallelAxis {
  kind: 'param' | 'metric';
  key: string;
  /** 'value' when every run's value is a finite number, else 'category' (strings, missing as "—"). */
  type: 'value' | 'category';
  /** The category axis's values in first-seen order. */
  categories?: string[];
}

export interface ParallelData {
  axes: ParallelAxis[];
  /** Params that differ but were left out (past `maxParams`). */
  moreParams: number;
  /** One line per run (the runs' order): one entry per axis; null where a numeric value is missing. */
  lines: { runId: string; name: string; values: (number | string | null)[] }[];
}

/**
 * MLflow's parallel-coordinates comparison: one axis per param that differs among the runs (up to
 * `maxParams`, in name order: a param every run shares only draws a flat line), then the metric
 * (latest value); a line per run. A param is numeric when every run has a finite number for it.
 */
export function parallelCoordinates(runs: readonly RunSummary[], metric: string, maxParams = 8): ParallelData {
  const differing = compareRows(runs).filter((r) => r.kind === 'param' && r.differs);
  const rows = differing.slice(0, maxParams);
  const MISSING = '—';
  const axes: ParallelAxis[] = rows.map((r) => {
    const numeric = r.values.every((v) => v !== undefined && String(v).trim() !== '' && Number.isFinite(Number(v)));
    return numeric ? { kind: 'param', key: r.key, type: 'value' } : { kind: 'param', key: r.key, type: 'category', categories: [...new Set(r.values.map((v) => (v === undefined ? MISSING : String(v))))] };
  });
  axes.push({ kind: 'metric', key: metric, type: 'value' });
  const lines = runs.map((run, i) => ({
    runId: run.info.runId,
    name: run.info.runName || run.info.runId.slice(0, 8),
    values: [
      ...rows.map((r, a) => {
        const v = r.values[i];
        if (axes[a]!.type === 'value') return Number(v);
        return v === undefined ? MISSING : String(v);
      }),
      Number.isFinite(run.latest[metric]?.value) ? run.latest[metric]!.value : null,
    ],
  }));
  return { axes, moreParams: differing.length - rows.length, lines };
}
