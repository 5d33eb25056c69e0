/**
 * Checkpoint bundles: one file that holds an inverse-Heston network — weights, topology,
 * normalisation statistics, the grid it was trained on, provenance and metrics — so a user can
 * download it, share it and drop it back in (shared/DESIGN.md, "Checkpoint bundle").
 *
 * Layout (all integers little-endian):
 *
 *   8 bytes   magic 89 'H' 'L' 'C' 'K' 'P' 'T' 0A   (PNG-style: the high byte and the newline
 *                                                   reveal 7-bit or text-mode transfers)
 *   4 bytes   manifest length M
 *   M bytes   manifest, UTF-8 JSON (schema below), then zero padding to a multiple of 4
 *   W bytes   float32 weights, in the manifest's order
 *   32 bytes  SHA-256 of every byte before it (the content hash)
 *
 * Loading never executes anything from the file: the manifest is parsed with JSON.parse and
 * every field is checked against what this code expects; the topology is a handful of integers
 * from which src/core/inverse/model.ts rebuilds the network; the weight list must match that
 * topology name for name and shape for shape; every weight must be finite. Any deviation is an
 * InputError that names the file and the field.
 */
import { InputError } from '../errors.ts';
import { PARAM_NAMES } from '../heston/params.ts';
import { TOPOLOGY_LIMITS, specSize, weightSpecs, type InverseTopology } from '../inverse/model.ts';
import type { InverseNormalisation, ParamTransform } from '../inverse/normalisation.ts';

export const CHECKPOINT_MAGIC = Uint8Array.from([0x89, 0x48, 0x4c, 0x43, 0x4b, 0x50, 0x54, 0x0a]);
export const CHECKPOINT_SCHEMA_VERSION = 1;
export const CHECKPOINT_KIND = 'inverse-heston';
export const CHECKPOINT_EXTENSION = '.hlckpt';
const MAX_MANIFEST_BYTES = 4 << 20;
const HASH_BYTES = 32;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface CheckpointProvenance {
  /** 'synthetic' | 'real' | 'mixed'. */
  mode: string;
  /** What it was trained on: generator kind, n, seed, surface names … (plain JSON). */
  data: { [k: string]: JsonValue };
  seed: number;
  epochs: number;
  /** The synthetic prior, where one was used. */
  prior: JsonValue;
  /** Checkpoint this one was fine-tuned from (its content hash), if any. */
  parent: string | null;
}

export interface InverseCheckpoint {
  name: string;
  /** ISO 8601 UTC. */
  created: string;
  topology: InverseTopology;
  normalisation: InverseNormalisation;
  grid: { kGrid: number[]; tGrid: number[] };
  provenance: CheckpointProvenance;
  /** Evaluation and training figures (plain JSON: numbers and nested records). */
  metrics: { [k: string]: JsonValue };
  weights: Map<string, Float32Array>;
}

export interface LoadedCheckpoint extends InverseCheckpoint {
  /** Hex SHA-256 content hash: the checkpoint's identity. */
  hash: string;
  byteLength: number;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest);
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export async function encodeCheckpoint(ck: InverseCheckpoint): Promise<Uint8Array> {
  const specs = weightSpecs(ck.topology);
  let offset = 0;
  const weightList = specs.map((s) => {
    const w = ck.weights.get(s.name);
    if (!w || w.length !== specSize(s)) throw new Error(`checkpoint: weight ${s.name} missing or of the wrong size`);
    const entry = { name: s.name, shape: s.shape, dtype: 'float32', offset, length: w.length };
    offset += w.length;
    return entry;
  });
  const manifest = {
    format: 'heston-lab-checkpoint',
    schema_version: CHECKPOINT_SCHEMA_VERSION,
    kind: CHECKPOINT_KIND,
    name: ck.name,
    created: ck.created,
    provenance: { ...ck.provenance, grid: { k: ck.grid.kGrid, t: ck.grid.tGrid } },
    metrics: ck.metrics,
    normalisation: {
      input: ck.normalisation.input,
      iv_mean: ck.normalisation.ivMean,
      iv_std: ck.normalisation.ivStd,
      param_names: [...PARAM_NAMES],
      param_transform: ck.normalisation.paramTransform,
      param_mean: ck.normalisation.paramMean,
      param_std: ck.normalisation.paramStd,
    },
    topology: ck.topology,
    weights: weightList,
  };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const pad = (4 - ((CHECKPOINT_MAGIC.length + 4 + json.length) % 4)) % 4;
  const headerLen = CHECKPOINT_MAGIC.length + 4 + json.length + pad;
  const body = new Uint8Array(headerLen + offset * 4 + HASH_BYTES);
  body.set(CHECKPOINT_MAGIC, 0);
  new DataView(body.buffer).setUint32(CHECKPOINT_MAGIC.length, json.length, true);
  body.set(json, CHECKPOINT_MAGIC.length + 4);
  const dv = new DataView(body.buffer, headerLen, offset * 4);
  let k = 0;
  for (const s of specs) for (const v of ck.weights.get(s.name)!) dv.setFloat32(4 * k++, v, true);
  body.set(await sha256(body.subarray(0, body.length - HASH_BYTES)), body.length - HASH_BYTES);
  return body;
}

// ---- strict reading -------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Reader {
  constructor(readonly file: string) {}
  fail(field: string, msg: string): never {
    throw new InputError(`${field}: ${msg}`, this.file);
  }
  obj(v: unknown, field: string): Obj {
    if (!isObj(v)) this.fail(field, 'must be an object');
    return v;
  }
  str(v: unknown, field: string, maxLen = 1000): string {
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    if (v.length > maxLen) this.fail(field, `longer than ${maxLen} characters`);
    return v;
  }
  num(v: unknown, field: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, 'must be a finite number');
    return v;
  }
  int(v: unknown, field: string, lo: number, hi: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) this.fail(field, `must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    return v;
  }
  nums(v: unknown, field: string, len?: number): number[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array of numbers');
    if (len !== undefined && v.length !== len) this.fail(field, `must have ${len} entries, has ${v.length}`);
    return v.map((x, i) => this.num(x, `${field}[${i}]`));
  }
  json(v: unknown, field: string, depth = 0): JsonValue {
    if (depth > 8) this.fail(field, 'nested too deeply');
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return this.num(v, field);
    if (Array.isArray(v)) return v.map((x, i) => this.json(x, `${field}[${i}]`, depth + 1));
    if (isObj(v)) {
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.json(x, `${field}.${k}`, depth + 1);
      return out;
    }
    this.fail(field, 'is not plain JSON');
  }
  exactKeys(o: Obj, field: string, keys: string[]): void {
    for (const k of keys) if (!(k in o)) this.fail(`${field}.${k}`, 'is missing');
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${field}.${k}`, 'is not a known field');
  }
}

function increasing(r: Reader, a: number[], field: string): void {
  for (let i = 1; i < a.length; i++) if (!(a[i]! > a[i - 1]!)) r.fail(field, 'must be strictly increasing');
}

function readTopology(r: Reader, v: unknown): InverseTopology {
  const t = r.obj(v, 'topology');
  r.exactKeys(t, 'topology', ['family', 'version', 'nk', 'nt', 'inChannels', 'convChannels', 'kernel', 'pool', 'hiddenDim', 'headHidden', 'surfaceHidden']);
  if (t.family !== 'InverseHestonModel') r.fail('topology.family', `unknown model family ${JSON.stringify(t.family)} (this lab knows "InverseHestonModel")`);
  if (t.version !== 1) r.fail('topology.version', `unknown model version ${JSON.stringify(t.version)} (this lab knows 1)`);
  const L = TOPOLOGY_LIMITS;
  if (t.inChannels !== 2) r.fail('topology.inChannels', 'must be 2 (IV and mask)');
  const cc = r.nums(t.convChannels, 'topology.convChannels', 2);
  return {
    family: 'InverseHestonModel',
    version: 1,
    nk: r.int(t.nk, 'topology.nk', 1, L.maxGrid),
    nt: r.int(t.nt, 'topology.nt', 1, L.maxGrid),
    inChannels: 2,
    convChannels: [r.int(cc[0], 'topology.convChannels[0]', 1, L.maxChannels), r.int(cc[1], 'topology.convChannels[1]', 1, L.maxChannels)],
    kernel: r.int(t.kernel, 'topology.kernel', 1, L.maxKernel),
    pool: r.int(t.pool, 'topology.pool', 1, L.maxPool),
    hiddenDim: r.int(t.hiddenDim, 'topology.hiddenDim', 1, L.maxHidden),
    headHidden: r.int(t.headHidden, 'topology.headHidden', 1, L.maxHidden),
    surfaceHidden: r.int(t.surfaceHidden, 'topology.surfaceHidden', 1, L.maxHidden),
  };
}

function readNormalisation(r: Reader, v: unknown, cells: number): InverseNormalisation {
  const n = r.obj(v, 'normalisation');
  r.exactKeys(n, 'normalisation', ['input', 'iv_mean', 'iv_std', 'param_names', 'param_transform', 'param_mean', 'param_std']);
  if (n.input !== 'iv') r.fail('normalisation.input', `unknown input representation ${JSON.stringify(n.input)} (this lab knows "iv")`);
  const names = n.param_names;
  if (!Array.isArray(names) || names.length !== 5 || names.some((x, i) => x !== PARAM_NAMES[i])) r.fail('normalisation.param_names', `must be ${JSON.stringify(PARAM_NAMES)}`);
  const tr = n.param_transform;
  if (!Array.isArray(tr) || tr.length !== 5 || tr.some((x) => x !== 'log' && x !== 'identity')) r.fail('normalisation.param_transform', 'must be 5 of "log" | "identity"');
  const ivStd = r.nums(n.iv_std, 'normalisation.iv_std', cells);
  const paramStd = r.nums(n.param_std, 'normalisation.param_std', 5);
  ivStd.forEach((s, i) => s > 0 || r.fail(`normalisation.iv_std[${i}]`, 'must be positive'));
  paramStd.forEach((s, i) => s > 0 || r.fail(`normalisation.param_std[${i}]`, 'must be positive'));
  return {
    input: 'iv',
    ivMean: r.nums(n.iv_mean, 'normalisation.iv_mean', cells),
    ivStd,
    paramTransform: tr as ParamTransform[],
    paramMean: r.nums(n.param_mean, 'normalisation.param_mean', 5),
    paramStd,
  };
}

/**
 * Reads and verifies a bundle. Throws InputError naming `fileName` and the failing field for a
 * file that is not a checkpoint, truncated, tampered with (hash mismatch), of an unknown schema
 * version, internally inconsistent, or holding non-finite weights.
 */
export async function decodeCheckpoint(bytes: Uint8Array, fileName = 'checkpoint.hlckpt'): Promise<LoadedCheckpoint> {
  const r = new Reader(fileName);
  const M = CHECKPOINT_MAGIC.length;
  if (bytes.length < M || CHECKPOINT_MAGIC.some((b, i) => bytes[i] !== b)) {
    if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) throw new InputError('this is a zip/.npz archive, not a Heston Lab checkpoint (.hlckpt)', fileName);
    throw new InputError('not a Heston Lab checkpoint (.hlckpt): the file does not start with the checkpoint signature', fileName);
  }
  if (bytes.length < M + 4 + HASH_BYTES) throw new InputError(`truncated: only ${bytes.length} bytes`, fileName);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = dv.getUint32(M, true);
  if (jsonLen > MAX_MANIFEST_BYTES) throw new InputError(`manifest length ${jsonLen} is implausible (corrupt header)`, fileName);
  const pad = (4 - ((M + 4 + jsonLen) % 4)) % 4;
  const headerLen = M + 4 + jsonLen + pad;
  if (bytes.length < headerLen + HASH_BYTES) throw new InputError(`truncated: the manifest needs ${headerLen} bytes, the file has ${bytes.length}`, fileName);

  // The hash first: a tampered or damaged file is reported as such, not as whatever field broke.
  const stored = bytes.subarray(bytes.length - HASH_BYTES);
  const actual = await sha256(bytes.subarray(0, bytes.length - HASH_BYTES));
  if (!stored.every((b, i) => b === actual[i])) {
    throw new InputError('content hash mismatch: the file is truncated, damaged or was modified after it was saved', fileName);
  }

  let manifest: unknown;
  try {
    manifest = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(M + 4, M + 4 + jsonLen)));
  } catch (e) {
    throw new InputError(`manifest is not valid UTF-8 JSON (${(e as Error).message})`, fileName);
  }
  const m = r.obj(manifest, 'manifest');
  if (m.format !== 'heston-lab-checkpoint') r.fail('format', `expected "heston-lab-checkpoint", got ${JSON.stringify(m.format)}`);
  if (m.schema_version !== CHECKPOINT_SCHEMA_VERSION) {
    r.fail('schema_version', `unknown schema version ${JSON.stringify(m.schema_version)}: this lab reads version ${CHECKPOINT_SCHEMA_VERSION}${typeof m.schema_version === 'number' && m.schema_version > CHECKPOINT_SCHEMA_VERSION ? ' (the file comes from a newer Heston Lab)' : ''}`);
  }
  r.exactKeys(m, 'manifest', ['format', 'schema_version', 'kind', 'name', 'created', 'provenance', 'metrics', 'normalisation', 'topology', 'weights']);
  if (m.kind !== CHECKPOINT_KIND) r.fail('kind', `expected "${CHECKPOINT_KIND}", got ${JSON.stringify(m.kind)}`);
  const name = r.str(m.name, 'name', 200);
  const created = r.str(m.created, 'created', 64);
  if (Number.isNaN(Date.parse(created))) r.fail('created', 'must be an ISO 8601 date');

  const topology = readTopology(r, m.topology);
  const cells = topology.nk * topology.nt;

  const p = r.obj(m.provenance, 'provenance');
  r.exactKeys(p, 'provenance', ['mode', 'data', 'seed', 'epochs', 'prior', 'grid', 'parent']);
  const g = r.obj(p.grid, 'provenance.grid');
  r.exactKeys(g, 'provenance.grid', ['k', 't']);
  const kGrid = r.nums(g.k, 'provenance.grid.k', topology.nk);
  const tGrid = r.nums(g.t, 'provenance.grid.t', topology.nt);
  increasing(r, kGrid, 'provenance.grid.k');
  increasing(r, tGrid, 'provenance.grid.t');
  tGrid.forEach((t, i) => t > 0 || r.fail(`provenance.grid.t[${i}]`, 'maturities must be positive (years)'));
  const provenance: CheckpointProvenance = {
    mode: r.str(p.mode, 'provenance.mode', 32),
    data: r.obj(r.json(p.data, 'provenance.data'), 'provenance.data') as { [k: string]: JsonValue },
    seed: r.int(p.seed, 'provenance.seed', 0, 2 ** 32 - 1),
    epochs: r.int(p.epochs, 'provenance.epochs', 0, 1e7),
    prior: r.json(p.prior, 'provenance.prior'),
    parent: p.parent === null ? null : r.str(p.parent, 'provenance.parent', 64),
  };
  const metrics = r.obj(r.json(m.metrics, 'metrics'), 'metrics') as { [k: string]: JsonValue };
  const normalisation = readNormalisation(r, m.normalisation, cells);

  const specs = weightSpecs(topology);
  const weightList: unknown[] = Array.isArray(m.weights) ? m.weights : r.fail('weights', 'must be an array');
  if (weightList.length !== specs.length) r.fail('weights', `lists ${weightList.length} tensors, the topology needs ${specs.length}`);
  let expectedOffset = 0;
  specs.forEach((s, i) => {
    const f = `weights[${i}]`;
    const w = r.obj(weightList[i], f);
    r.exactKeys(w, f, ['name', 'shape', 'dtype', 'offset', 'length']);
    if (w.name !== s.name) r.fail(`${f}.name`, `expected "${s.name}", got ${JSON.stringify(w.name)}`);
    const shape = r.nums(w.shape, `${f}.shape`);
    if (shape.length !== s.shape.length || shape.some((d, j) => d !== s.shape[j])) r.fail(`${f}.shape`, `${s.name} must have shape [${s.shape}] for this topology, got [${shape}]`);
    if (w.dtype !== 'float32') r.fail(`${f}.dtype`, 'must be "float32"');
    if (w.offset !== expectedOffset) r.fail(`${f}.offset`, `expected ${expectedOffset}, got ${JSON.stringify(w.offset)}`);
    if (w.length !== specSize(s)) r.fail(`${f}.length`, `expected ${specSize(s)}, got ${JSON.stringify(w.length)}`);
    expectedOffset += specSize(s);
  });
  const weightBytes = bytes.length - HASH_BYTES - headerLen;
  if (weightBytes !== expectedOffset * 4) {
    throw new InputError(`weights: the manifest declares ${expectedOffset * 4} bytes of weights, the file holds ${weightBytes}`, fileName);
  }
  const wdv = new DataView(bytes.buffer, bytes.byteOffset + headerLen, weightBytes);
  const weights = new Map<string, Float32Array>();
  let k = 0;
  for (const s of specs) {
    const a = new Float32Array(specSize(s));
    for (let j = 0; j < a.length; j++) {
      const v = wdv.getFloat32(4 * k++, true);
      if (!Number.isFinite(v)) throw new InputError(`weights: ${s.name}[${j}] is ${v}; a checkpoint must hold finite weights`, fileName);
      a[j] = v;
    }
    weights.set(s.name, a);
  }
  return {
    name,
    created,
    topology,
    normalisation,
    grid: { kGrid, tGrid },
    provenance,
    metrics,
    weights,
    hash: toHex(stored),
    byteLength: bytes.length,
  };
}
