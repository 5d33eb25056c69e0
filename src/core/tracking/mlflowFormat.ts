/**
 * MLflow's FileStore file formats, byte for byte as MLflow 2.17 writes them (tests/fixtures/mlruns
 * was written by MLflow itself and an import → export of it reproduces every file):
 * - meta.yaml: PyYAML safe_dump, keys sorted, block style; strings single-quoted only where a
 *   plain scalar would read back as something else ('0', '', 'true' …).
 * - metrics/<key>: one "<timestamp> <value> <step>\n" line per point, the value as Python's
 *   repr(float) prints it (nan, inf, 1e-07, 252.0).
 * - params/<key>, tags/<key>: the raw UTF-8 value, no trailing newline.
 * Parsers are strict and report the line at fault, because an importer must skip a malformed run
 * and say where.
 */
import { LabError } from '../errors.ts';
import {
  STATUS_CODE,
  STATUS_OF_CODE,
  type Experiment,
  type LifecycleStage,
  type MetricPoint,
  type RunInfo,
} from './model.ts';

/** A file in a tree that cannot be read: the importer reports it and skips the run. */
export class TreeFormatError extends LabError {
  constructor(
    readonly path: string,
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(reason, line === null ? path : `${path}: line ${line}`);
    this.name = 'TreeFormatError';
  }
}

// ------------------------------------------------------------------------------------- floats

/** Python's repr(float): shortest round-trip digits, fixed for 1e-4 ≤ |x| < 1e16, else d.ddde±XX. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp >= -4 && exp < 16) {
    let s: string;
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      s = `${intPart}.${frac || '0'}`;
    } else {
      s = `0.${'0'.repeat(-exp - 1)}${digits}`;
    }
    return sign + s;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const e = Math.abs(exp);
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}

const PY_FLOAT = /^[+-]?(?:nan|inf|infinity|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/i;

/** Python's float(): also reads JavaScript's NaN / Infinity spelling (case-insensitive there). */
export function parsePyFloat(s: string): number | undefined {
  if (!PY_FLOAT.test(s)) return undefined;
  const t = s.toLowerCase().replace(/^\+/, '');
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(t);
}

// ------------------------------------------------------------------------------------- metrics

export function formatMetricLine(p: MetricPoint): string {
  return `${Math.trunc(p.timestamp)} ${pyFloatRepr(p.value)} ${Math.trunc(p.step)}\n`;
}

const INT = /^[+-]?\d+$/;

/** Parses a metrics/<key> file; a 2-field line is MLflow's legacy format (step 0). */
export function parseMetricFile(text: string, path: string): MetricPoint[] {
  if (text.length === 0) throw new TreeFormatError(path, null, 'empty metric file (MLflow cannot read the run: "No data found")');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline; a missing one is tolerated
  return lines.map((line, i) => {
    const f = line.split(' ');
    if (f.length !== 2 && f.length !== 3) {
      throw new TreeFormatError(path, i + 1, `malformed metric line "${line.slice(0, 60)}": want "<timestamp> <value> <step>"`);
    }
    if (!INT.test(f[0])) throw new TreeFormatError(path, i + 1, `timestamp "${f[0]}" is not an integer`);
    const value = parsePyFloat(f[1]);
    if (value === undefined) throw new TreeFormatError(path, i + 1, `value "${f[1]}" is not a number`);
    if (f.length === 3 && !INT.test(f[2])) throw new TreeFormatError(path, i + 1, `step "${f[2]}" is not an integer`);
    return { timestamp: Number(f[0]), value, step: f.length === 3 ? Number(f[2]) : 0 };
  });
}

// ------------------------------------------------------------------------------------- YAML

type YamlValue = string | number | null | boolean | never[];

// PyYAML's implicit resolvers (YAML 1.1): a plain scalar matching one reads back as a non-string,
// so such a string must be quoted. Copied from yaml/resolver.py's regexps, not YAML 1.2's.
const PY_RESOLVERS = [
  /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
  /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
  /^(?:<<)$/,
  /^(?:~|null|Null|NULL|)$/,
  /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
  /^(?:=)$/,
];
const WS = '\0 \t\r\n\x85\u2028\u2029';

/**
 * PyYAML's emitter analysis (yaml/emitter.py analyze_scalar) reduced to one-line block values:
 * may the string be written plain, or must it be single-quoted, or double-quoted (special
 * characters)? allow_unicode is on (MLflow's write_yaml), so printable non-ASCII stays as is.
 */
function yamlStyle(v: string): 'plain' | 'single' | 'double' {
  if (v.length === 0) return 'single';
  let special = false;
  let breaks = false;
  let blockIndicators = v.startsWith('---') || v.startsWith('...');
  const chars = [...v];
  chars.forEach((ch, i) => {
    const followedByWs = i + 1 >= chars.length || WS.includes(chars[i + 1]);
    const precededByWs = i === 0 || WS.includes(chars[i - 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) blockIndicators = true;
      if ('?:'.includes(ch) && followedByWs) blockIndicators = true;
      if (ch === '-' && followedByWs) blockIndicators = true;
    } else {
      if (ch === ':' && followedByWs) blockIndicators = true;
      if (ch === '#' && precededByWs) blockIndicators = true;
    }
    if ('\n\x85\u2028\u2029'.includes(ch)) breaks = true;
    const cp = ch.codePointAt(0)!;
    const printable = ch === '\n' || (cp >= 0x20 && cp <= 0x7e) || ((cp === 0x85 || (cp >= 0xa0 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp < 0x10ffff)) && cp !== 0xfeff);
    if (!printable) special = true;
  });
  if (special) return 'double';
  if (breaks) return 'double'; // one-line files only: a break goes escaped (PyYAML would fold a quoted scalar)
  const edgeSpace = v.startsWith(' ') || v.endsWith(' ');
  if (!edgeSpace && !blockIndicators && !PY_RESOLVERS.some((re) => re.test(v))) return 'plain';
  return 'single';
}

function yamlScalar(v: YamlValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[]';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  const style = yamlStyle(v);
  if (style === 'plain') return v;
  if (style === 'single') return `'${v.replace(/'/g, "''")}'`;
  // Double-quoted with JSON escapes (\n, \t, \u0001 …): valid YAML that PyYAML reads back as is.
  return JSON.stringify(v);
}

/** safe_dump of a flat mapping: keys sorted, one "key: value" line each. */
export function dumpYaml(obj: Record<string, YamlValue>): string {
  return Object.keys(obj)
    .sort()
    .map((k) => `${k}: ${yamlScalar(obj[k])}\n`)
    .join('');
}

function parseScalar(raw: string, path: string, line: number): YamlValue {
  const t = raw.trim();
  // " #" starts a comment after a plain value (PyYAML drops it); quoted values keep their '#'.
  const s = t.startsWith("'") || t.startsWith('"') ? t : t.replace(/(?:^|\s)#.*$/, '').trimEnd();
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === '[]') return [];
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new TreeFormatError(path, line, 'unterminated single-quoted string');
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('"')) {
    try {
      return JSON.parse(s) as string;
    } catch {
      throw new TreeFormatError(path, line, 'malformed double-quoted string');
    }
  }
  return parsePlain(s, path, line);
}

/**
 * A plain (unquoted) scalar. safe_dump quotes every string PyYAML would read as something else, so
 * a plain value that starts a flow collection, alias, tag, directive, block scalar or sequence, or
 * holds a nested "key: value", is a damaged file (PyYAML refuses all of these, or reads an anchor /
 * block scalar as another string): refused, so the run is skipped and named instead of misread.
 */
function parsePlain(s: string, path: string, line: number): YamlValue {
  if (s === '{}') return [];
  const bad = (why: string) => {
    throw new TreeFormatError(path, line, `not a value MLflow writes: ${why} in "${s.slice(0, 60)}"`);
  };
  if (/^[[\]{}@`*!%&|>]/.test(s)) bad(`"${s[0]}" starts a YAML collection, alias, tag, anchor or block scalar`);
  if (/^[-?](?:\s|$)/.test(s)) bad(`"${s[0]} " starts a YAML sequence or complex key`);
  if (/:(?:\s|$)/.test(s)) bad('": " inside a plain value is a nested mapping');
  if (/^(?:true|True|TRUE)$/.test(s)) return true;
  if (/^(?:false|False|FALSE)$/.test(s)) return false;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  return s;
}

/**
 * Reads the flat mappings MLflow writes (meta.yaml). Continuation lines (PyYAML folds plain and
 * quoted scalars longer than 80 columns) are joined with one space, as YAML folding does.
 */
export function parseYaml(text: string, path: string): Record<string, YamlValue> {
  const out: Record<string, YamlValue> = {};
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let key: string | undefined;
  let buf = '';
  let startLine = 0;
  const commit = () => {
    if (key !== undefined) out[key] = parseScalar(buf, path, startLine);
    key = undefined;
  };
  lines.forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (/^\s/.test(line)) {
      if (key === undefined) throw new TreeFormatError(path, i + 1, 'indented line outside a mapping entry');
      buf += ' ' + line.trim();
      return;
    }
    const m = /^([^:\s][^:]*):(?:\s(.*))?$/.exec(line);
    if (!m) throw new TreeFormatError(path, i + 1, `not a "key: value" line: "${line.slice(0, 60)}"`);
    commit();
    key = m[1];
    buf = m[2] ?? '';
    startLine = i + 1;
  });
  commit();
  return out;
}

// ------------------------------------------------------------------------------------- meta.yaml

function str(v: YamlValue | undefined): string | undefined {
  if (v === null || v === undefined || Array.isArray(v)) return undefined;
  return String(v);
}

function int(v: YamlValue | undefined, field: string, path: string): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw new TreeFormatError(path, null, `${field} must be an integer (epoch milliseconds), got ${JSON.stringify(v)}`);
}

function lifecycle(v: YamlValue | undefined, path: string): LifecycleStage {
  if (v === undefined || v === null || v === 'active') return 'active';
  if (v === 'deleted') return 'deleted';
  throw new TreeFormatError(path, null, `lifecycle_stage must be active or deleted, got ${JSON.stringify(v)}`);
}

export function experimentMetaYaml(e: Experiment): string {
  return dumpYaml({
    artifact_location: e.artifactLocation,
    creation_time: e.creationTime,
    experiment_id: e.experimentId,
    last_update_time: e.lastUpdateTime,
    lifecycle_stage: e.lifecycleStage,
    name: e.name,
  });
}

export function parseExperimentMeta(text: string, path: string, folder: string): Omit<Experiment, 'tags'> {
  const y = parseYaml(text, path);
  const id = str(y.experiment_id);
  if (id === undefined) throw new TreeFormatError(path, null, 'experiment_id is missing');
  if (id !== folder) throw new TreeFormatError(path, null, `experiment_id ${id} differs from its folder ${folder} (MLflow skips it)`);
  const name = str(y.name);
  if (name === undefined || name === '') throw new TreeFormatError(path, null, 'name is missing');
  const creationTime = int(y.creation_time, 'creation_time', path) ?? 0;
  return {
    experimentId: id,
    name,
    artifactLocation: str(y.artifact_location) ?? '',
    lifecycleStage: lifecycle(y.lifecycle_stage, path),
    creationTime,
    lastUpdateTime: int(y.last_update_time, 'last_update_time', path) ?? creationTime,
  };
}

export function runMetaYaml(r: RunInfo): string {
  const y: Record<string, YamlValue> = {
    artifact_uri: r.artifactUri,
    end_time: r.endTime,
    entry_point_name: '',
    experiment_id: r.experimentId,
    lifecycle_stage: r.lifecycleStage,
    run_id: r.runId,
    run_name: r.runName,
    run_uuid: r.runId,
    source_name: '',
    source_type: 4,
    source_version: '',
    start_time: r.startTime,
    status: STATUS_CODE[r.status],
    tags: [],
    user_id: r.userId,
  };
  if (r.deletedTime !== undefined) y.deleted_time = r.deletedTime;
  return dumpYaml(y);
}

export function parseRunMeta(text: string, path: string, expFolder: string, runFolder: string): RunInfo {
  const y = parseYaml(text, path);
  const runId = str(y.run_uuid) ?? str(y.run_id);
  if (str(y.run_uuid) === undefined) throw new TreeFormatError(path, null, 'run_uuid is missing (MLflow fails on the whole experiment without it)');
  if (runId !== runFolder) throw new TreeFormatError(path, null, `run_uuid ${runId} differs from its folder ${runFolder}`);
  const expId = str(y.experiment_id);
  if (expId !== expFolder) throw new TreeFormatError(path, null, `experiment_id ${expId} differs from its folder ${expFolder} (MLflow ignores the run)`);
  const code = y.status === undefined || y.status === null ? 1 : y.status;
  const status = typeof code === 'number' ? STATUS_OF_CODE[code] : (Object.keys(STATUS_CODE) as string[]).includes(String(code)) ? (code as RunInfo['status']) : undefined;
  if (!status) throw new TreeFormatError(path, null, `status ${JSON.stringify(y.status)} is not one of 1..5`);
  const info: RunInfo = {
    runId: runId!,
    experimentId: expId!,
    runName: str(y.run_name) ?? '',
    status,
    startTime: int(y.start_time, 'start_time', path) ?? 0,
    endTime: int(y.end_time, 'end_time', path),
    lifecycleStage: lifecycle(y.lifecycle_stage, path),
    userId: str(y.user_id) ?? '',
    artifactUri: str(y.artifact_uri) ?? '',
  };
  if ('deleted_time' in y) info.deletedTime = int(y.deleted_time, 'deleted_time', path);
  return info;
}
