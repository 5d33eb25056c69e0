/**
 * The inverse-Heston network's checkpoint schema, on top of the generic bundle (src/core/io/
 * bundle.ts): weights, topology, normalisation statistics, the grid it was trained on, provenance
 * and metrics, so a user can download a model, share it and drop it back in (shared/DESIGN.md,
 * "Checkpoint bundle"). The bundle seals and checks the container; this module checks that the
 * metadata is what an inverse network needs and that the tensor list matches the topology name
 * for name and shape for shape. Files written before the split (public/checkpoints/*.hlckpt)
 * load unchanged: the bytes on disk are the same layout (tests/unit/io/bundle.test.ts decodes and re-encodes them byte for byte).
 */
import { PARAM_NAMES } from '../heston/params.ts';
import { BUNDLE_EXTENSION, ManifestReader, decodeBundle, encodeBundle, type JsonValue } from '../io/bundle.ts';
import { TOPOLOGY_LIMITS, specSize, weightSpecs, type InverseTopology } from './model.ts';
import { hasBoundedOutputs, type InverseNormalisation, type ParamTransform } from './normalisation.ts';

export type { JsonValue } from '../io/bundle.ts';
/**
 * 2: bounded parameter transforms (normalisation.param_bounds, 'logLogit' / 'logit') and log-IV
 * input with the training range per cell (iv_min, iv_max, masked_share). 1: the first files
 * ('log' / 'identity', IV input); they still load, and predict.ts checks their outputs against
 * the model's domain since nothing bounds them.
 */
export const CHECKPOINT_SCHEMA_VERSION = 2;
/** Schema versions this lab reads. */
export const CHECKPOINT_SCHEMA_READABLE = [1, 2];
export const CHECKPOINT_KIND = 'inverse-heston';
export const CHECKPOINT_EXTENSION = BUNDLE_EXTENSION;
/** Metadata keys of an inverse checkpoint, in the order the first files wrote them. */
const METADATA_KEYS = ['name', 'created', 'provenance', 'metrics', 'normalisation', 'topology'] as const;

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

export async function encodeCheckpoint(ck: InverseCheckpoint): Promise<Uint8Array> {
  const tensors = weightSpecs(ck.topology).map((s) => {
    const w = ck.weights.get(s.name);
    if (!w || w.length !== specSize(s)) throw new Error(`checkpoint: weight ${s.name} missing or of the wrong size`);
    return { name: s.name, shape: s.shape, data: w };
  });
  return encodeBundle({
    kind: CHECKPOINT_KIND,
    schemaVersion: hasBoundedOutputs(ck.normalisation) ? CHECKPOINT_SCHEMA_VERSION : 1,
    metadata: {
      name: ck.name,
      created: ck.created,
      provenance: { ...ck.provenance, grid: { k: ck.grid.kGrid, t: ck.grid.tGrid } },
      metrics: ck.metrics,
      normalisation: normalisationJson(ck.normalisation),
      // An interface has no index signature, hence the cast; its fields are integers and one pair.
      topology: ck.topology as unknown as JsonValue,
    },
    tensors,
  });
}

// ---- strict reading -------------------------------------------------------------------------

function increasing(r: ManifestReader, a: number[], field: string): void {
  for (let i = 1; i < a.length; i++) if (!(a[i]! > a[i - 1]!)) r.fail(field, 'must be strictly increasing');
}

function readTopology(r: ManifestReader, v: unknown): InverseTopology {
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

/** The normalisation as written: schema 2's fields only where the normalisation has them (a schema-1 fine-tune stays schema 1). */
function normalisationJson(n: InverseNormalisation): { [k: string]: JsonValue } {
  const out: { [k: string]: JsonValue } = { input: n.input, iv_mean: n.ivMean, iv_std: n.ivStd };
  if (hasBoundedOutputs(n)) Object.assign(out, { iv_min: n.ivMin!, iv_max: n.ivMax!, masked_share: n.maskedShare! });
  Object.assign(out, { param_names: [...PARAM_NAMES], param_transform: n.paramTransform });
  if (hasBoundedOutputs(n)) out.param_bounds = n.paramBounds!;
  Object.assign(out, { param_mean: n.paramMean, param_std: n.paramStd });
  return out;
}

function readNormalisation(r: ManifestReader, v: unknown, cells: number, schema: number): InverseNormalisation {
  const n = r.obj(v, 'normalisation');
  const v2 = schema >= 2;
  r.exactKeys(
    n,
    'normalisation',
    v2
      ? ['input', 'iv_mean', 'iv_std', 'iv_min', 'iv_max', 'masked_share', 'param_names', 'param_transform', 'param_bounds', 'param_mean', 'param_std']
      : ['input', 'iv_mean', 'iv_std', 'param_names', 'param_transform', 'param_mean', 'param_std'],
  );
  const wantInput = v2 ? 'logIv' : 'iv';
  if (n.input !== wantInput) r.fail('normalisation.input', `unknown input representation ${JSON.stringify(n.input)} (schema ${schema} uses "${wantInput}")`);
  const names = n.param_names;
  if (!Array.isArray(names) || names.length !== 5 || names.some((x, i) => x !== PARAM_NAMES[i])) r.fail('normalisation.param_names', `must be ${JSON.stringify(PARAM_NAMES)}`);
  const tr = n.param_transform;
  const known = v2 ? ['logLogit', 'logit'] : ['log', 'identity'];
  if (!Array.isArray(tr) || tr.length !== 5 || tr.some((x) => !known.includes(x))) r.fail('normalisation.param_transform', `must be 5 of ${known.map((k) => `"${k}"`).join(' | ')} (schema ${schema})`);
  const ivStd = r.nums(n.iv_std, 'normalisation.iv_std', cells);
  const paramStd = r.nums(n.param_std, 'normalisation.param_std', 5);
  ivStd.forEach((s, i) => s > 0 || r.fail(`normalisation.iv_std[${i}]`, 'must be positive'));
  paramStd.forEach((s, i) => s > 0 || r.fail(`normalisation.param_std[${i}]`, 'must be positive'));
  const out: InverseNormalisation = {
    input: wantInput,
    ivMean: r.nums(n.iv_mean, 'normalisation.iv_mean', cells),
    ivStd,
    paramTransform: tr as ParamTransform[],
    paramMean: r.nums(n.param_mean, 'normalisation.param_mean', 5),
    paramStd,
  };
  if (v2) {
    out.ivMin = r.nums(n.iv_min, 'normalisation.iv_min', cells);
    out.ivMax = r.nums(n.iv_max, 'normalisation.iv_max', cells);
    out.maskedShare = r.nums(n.masked_share, 'normalisation.masked_share', cells);
    out.maskedShare.forEach((s, i) => (s >= 0 && s <= 1) || r.fail(`normalisation.masked_share[${i}]`, 'must lie in [0, 1]'));
    const pb = n.param_bounds;
    if (!Array.isArray(pb) || pb.length !== 5) r.fail('normalisation.param_bounds', 'must be 5 [lo, hi] pairs');
    out.paramBounds = pb.map((x, i) => {
      const [lo, hi] = r.nums(x, `normalisation.param_bounds[${i}]`, 2) as [number, number];
      if (!(lo < hi)) r.fail(`normalisation.param_bounds[${i}]`, 'lo must be below hi');
      if (tr[i] === 'logLogit' && !(lo > 0)) r.fail(`normalisation.param_bounds[${i}]`, 'a log-scaled bound must be positive');
      return [lo, hi];
    });
  }
  return out;
}

/**
 * Reads and verifies an inverse checkpoint. Throws InputError naming `fileName` and the failing
 * field for a file that is not a checkpoint, truncated, tampered with (hash mismatch), of another
 * kind or an unknown schema version, internally inconsistent, or holding non-finite weights.
 */
export async function decodeCheckpoint(bytes: Uint8Array, fileName = 'checkpoint.hlckpt'): Promise<LoadedCheckpoint> {
  const r = new ManifestReader(fileName);
  const b = await decodeBundle(bytes, { file: fileName });
  if (!CHECKPOINT_SCHEMA_READABLE.includes(b.schemaVersion)) {
    r.fail('schema_version', `unknown schema version ${b.schemaVersion}: this lab reads versions ${CHECKPOINT_SCHEMA_READABLE.join(' and ')}${b.schemaVersion > CHECKPOINT_SCHEMA_VERSION ? ' (the file comes from a newer Heston Lab)' : ''}`);
  }
  const m = b.metadata;
  r.exactKeys(m, 'manifest', METADATA_KEYS);
  if (b.kind !== CHECKPOINT_KIND) r.fail('kind', `expected "${CHECKPOINT_KIND}", got ${JSON.stringify(b.kind)}`);
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
    data: r.obj(p.data, 'provenance.data') as { [k: string]: JsonValue },
    seed: r.int(p.seed, 'provenance.seed', 0, 2 ** 32 - 1),
    epochs: r.int(p.epochs, 'provenance.epochs', 0, 1e7),
    prior: p.prior as JsonValue,
    parent: p.parent === null ? null : r.str(p.parent, 'provenance.parent', 64),
  };
  const metrics = r.obj(m.metrics, 'metrics') as { [k: string]: JsonValue };
  const normalisation = readNormalisation(r, m.normalisation, cells, b.schemaVersion);

  const specs = weightSpecs(topology);
  if (b.tensors.length !== specs.length) r.fail('weights', `lists ${b.tensors.length} tensors, the topology needs ${specs.length}`);
  const weights = new Map<string, Float32Array>();
  specs.forEach((s, i) => {
    const t = b.tensors[i]!;
    if (t.name !== s.name) r.fail(`weights[${i}].name`, `expected "${s.name}", got ${JSON.stringify(t.name)}`);
    if (t.shape.length !== s.shape.length || t.shape.some((d, j) => d !== s.shape[j])) r.fail(`weights[${i}].shape`, `${s.name} must have shape [${s.shape}] for this topology, got [${t.shape}]`);
    weights.set(s.name, t.data);
  });
  return { name, created, topology, normalisation, grid: { kGrid, tGrid }, provenance, metrics, weights, hash: b.hash, byteLength: b.byteLength };
}
