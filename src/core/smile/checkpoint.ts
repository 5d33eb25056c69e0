/**
 * The smile forecaster's checkpoint schema on the generic bundle (src/core/io/bundle.ts, kind
 * 'smile-forecaster'): the weights by name, and everything needed to turn quotes into the exact
 * inputs the model was trained on — the model config (and the attention layers' serialised
 * configs), the dataset config (seqLength, inputs, target, gap rule), the StandardScaler and
 * target statistics of the training period, the session (open, zone, kind, expiry time), the iv
 * unit the quotes were read in, the sampling interval — plus provenance and metrics. Decoding is
 * strict: a missing or mistyped field, an unknown model kind or a tensor that does not match the
 * model's variables is an InputError naming the file and the field.
 */
import * as tf from '@tensorflow/tfjs';
import { ManifestReader, decodeBundle, encodeBundle, type JsonValue } from '../io/bundle.ts';
import { buildModel, SMILE_MODEL_KINDS, type SmileModelConfig, type SmileModelKind, type SmileNet } from './models/registry.ts';
import type { TransformerParts } from './models/transformer.ts';
import { inputNames, StandardScaler, type DatasetConfig, type ScalerState, type SmileInputs, type SmileTarget, type TargetScale } from './sequences.ts';
import { checkSession, type SessionConfig } from './session.ts';
import type { SmileIvUnit } from './quotes.ts';

export const SMILE_CHECKPOINT_KIND = 'smile-forecaster';
export const SMILE_CHECKPOINT_VERSION = 1;

export interface SmileCheckpoint {
  name: string;
  /** ISO 8601 UTC. */
  created: string;
  model: SmileModelConfig;
  /** Transformer only: the attention layers' class names and configs. */
  attention: TransformerParts['attentionConfigs'] | null;
  dataset: DatasetConfig;
  scaler: ScalerState;
  targetScale: TargetScale;
  samplingMs: number;
  session: SessionConfig;
  ivUnit: SmileIvUnit;
  /** Seed, data description, the full training config (plain JSON). */
  provenance: { [k: string]: JsonValue };
  metrics: { [k: string]: JsonValue };
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

export interface LoadedSmileCheckpoint extends SmileCheckpoint {
  hash: string;
}

function toJson(v: unknown): JsonValue {
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}

export async function encodeSmileCheckpoint(ck: SmileCheckpoint): Promise<Uint8Array> {
  return encodeBundle({
    kind: SMILE_CHECKPOINT_KIND,
    schemaVersion: SMILE_CHECKPOINT_VERSION,
    metadata: {
      name: ck.name,
      created: ck.created,
      model: toJson(ck.model),
      attention: toJson(ck.attention),
      dataset: toJson(ck.dataset),
      scaler: toJson(ck.scaler),
      target_scale: toJson(ck.targetScale),
      sampling_ms: ck.samplingMs,
      session: toJson(ck.session),
      iv_unit: ck.ivUnit,
      provenance: ck.provenance,
      metrics: ck.metrics,
    },
    tensors: [...ck.weights].map(([name, w]) => ({ name, shape: w.shape, data: w.data })),
  });
}

function choice<T extends string>(r: ManifestReader, v: unknown, field: string, allowed: readonly T[]): T {
  const s = r.str(v, field);
  if (!(allowed as readonly string[]).includes(s)) r.fail(field, `must be one of ${allowed.join(', ')}, got "${s}"`);
  return s as T;
}

export async function decodeSmileCheckpoint(bytes: Uint8Array, file: string): Promise<LoadedSmileCheckpoint> {
  const b = await decodeBundle(bytes, { file, kind: SMILE_CHECKPOINT_KIND });
  const r = new ManifestReader(file);
  if (b.schemaVersion !== SMILE_CHECKPOINT_VERSION) r.fail('schema_version', `this lab reads smile checkpoints of version ${SMILE_CHECKPOINT_VERSION}, got ${b.schemaVersion}`);
  const m = b.metadata;
  const mo = r.obj(m.model, 'model');
  const model: SmileModelConfig = {
    kind: choice<SmileModelKind>(r, mo.kind, 'model.kind', SMILE_MODEL_KINDS),
    seqLength: r.int(mo.seqLength, 'model.seqLength', 1, 10_000),
    nInputs: r.int(mo.nInputs, 'model.nInputs', 1, 1000),
    hidden: r.int(mo.hidden, 'model.hidden', 1, 4096),
    layers: r.int(mo.layers, 'model.layers', 1, 64),
    heads: r.int(mo.heads, 'model.heads', 1, 64),
    ffDim: r.int(mo.ffDim, 'model.ffDim', 1, 16_384),
  };
  const ds = r.obj(m.dataset, 'dataset');
  const dataset: DatasetConfig = {
    seqLength: r.int(ds.seqLength, 'dataset.seqLength', 1, 10_000),
    target: choice<SmileTarget>(r, ds.target, 'dataset.target', ['level', 'change']),
    // 'seed' / 'seed+iv' were the first names of these choices (before 'seed' was kept for RNG seeds).
    inputs: choice<SmileInputs>(r, ds.inputs === 'seed' ? 'original' : ds.inputs === 'seed+iv' ? 'original+iv' : ds.inputs, 'dataset.inputs', ['original', 'original+iv']),
    trainFraction: r.num(ds.trainFraction, 'dataset.trainFraction'),
    valFraction: r.num(ds.valFraction, 'dataset.valFraction'),
    maxGapIntervals: r.num(ds.maxGapIntervals, 'dataset.maxGapIntervals'),
    samplingMs: ds.samplingMs === null ? null : r.num(ds.samplingMs, 'dataset.samplingMs'),
  };
  if (dataset.seqLength !== model.seqLength) r.fail('dataset.seqLength', `${dataset.seqLength} differs from model.seqLength ${model.seqLength}`);
  const names = inputNames(dataset.inputs);
  if (names.length !== model.nInputs) r.fail('model.nInputs', `${model.nInputs} but inputs "${dataset.inputs}" have ${names.length} columns`);
  const sc = r.obj(m.scaler, 'scaler');
  const scaler: ScalerState = { names: (Array.isArray(sc.names) ? sc.names : r.fail('scaler.names', 'must be a list')).map((n, i) => r.str(n, `scaler.names[${i}]`)), mean: r.nums(sc.mean, 'scaler.mean', names.length), std: r.nums(sc.std, 'scaler.std', names.length), n: r.int(sc.n, 'scaler.n', 1, Number.MAX_SAFE_INTEGER) };
  if (scaler.names.join() !== names.join()) r.fail('scaler.names', `${scaler.names.join(', ')} are not the inputs ${names.join(', ')}`);
  if (scaler.std.some((s) => !(s > 0))) r.fail('scaler.std', 'must be positive');
  const ts = r.obj(m.target_scale, 'target_scale');
  const targetScale = { mean: r.num(ts.mean, 'target_scale.mean'), std: r.num(ts.std, 'target_scale.std') };
  if (!(targetScale.std > 0)) r.fail('target_scale.std', 'must be positive');
  const se = r.obj(m.session, 'session');
  const session = checkSession({ open: r.str(se.open, 'session.open'), tz: r.str(se.tz, 'session.tz'), kind: choice(r, se.kind, 'session.kind', ['equity', 'continuous']), expiryTime: r.str(se.expiryTime, 'session.expiryTime') }, `${file}: session`);
  let attention: SmileCheckpoint['attention'] = null;
  if (model.kind === 'transformer') {
    const list = Array.isArray(m.attention) ? m.attention : r.fail('attention', `must list ${model.layers} layer configs`);
    if (list.length !== model.layers) r.fail('attention', `must list ${model.layers} layer configs, has ${list.length}`);
    attention = list.map((a, i) => {
      const o = r.obj(a, `attention[${i}]`);
      const config = r.obj(o.config, `attention[${i}].config`) as tf.serialization.ConfigDict;
      if (config.dModel !== model.hidden || config.numHeads !== model.heads) r.fail(`attention[${i}].config`, 'does not match the model (dModel, numHeads)');
      return { className: choice(r, o.className, `attention[${i}].className`, ['MultiHeadSelfAttention']), config };
    });
  }
  const ck: LoadedSmileCheckpoint = {
    name: r.str(m.name, 'name'),
    created: r.str(m.created, 'created'),
    model,
    attention,
    dataset,
    scaler,
    targetScale,
    samplingMs: r.num(m.sampling_ms, 'sampling_ms'),
    session,
    ivUnit: choice<SmileIvUnit>(r, m.iv_unit, 'iv_unit', ['pct', 'decimal']),
    provenance: r.obj(m.provenance, 'provenance') as { [k: string]: JsonValue },
    metrics: r.obj(m.metrics, 'metrics') as { [k: string]: JsonValue },
    weights: new Map(b.tensors.map((t) => [t.name, { shape: t.shape, data: t.data }])),
    hash: b.hash,
  };
  // The tensor list must be exactly the model's variables, name for name and shape for shape.
  const net = netFromCheckpoint(ck, file);
  net.dispose();
  return ck;
}

/** The model with the checkpoint's weights (the caller disposes it). */
export function netFromCheckpoint(ck: SmileCheckpoint, file = ck.name): SmileNet {
  const r = new ManifestReader(file);
  const net = buildModel(ck.model, 0, ck.attention ? { attentionConfigs: ck.attention } : undefined);
  try {
    for (const [name, v] of net.variables) {
      const w = ck.weights.get(name) ?? r.fail(`weights.${name}`, 'is missing');
      if (w.shape.join() !== v.shape.join()) r.fail(`weights.${name}`, `shape [${w.shape}] differs from the model's [${v.shape}]`);
      const t = tf.tensor(w.data, w.shape);
      v.assign(t);
      t.dispose();
    }
    for (const name of ck.weights.keys()) if (!net.variables.has(name)) r.fail(`weights.${name}`, `is not a variable of a ${ck.model.kind} model`);
  } catch (e) {
    net.dispose();
    throw e;
  }
  return net;
}

/** The weights of a net, read asynchronously (no dataSync: webgpu-safe). */
export async function readWeights(net: SmileNet): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, v] of net.variables) out.set(name, { shape: [...v.shape], data: (await v.data()) as Float32Array });
  return out;
}

export function scalerOf(ck: SmileCheckpoint): StandardScaler {
  return new StandardScaler(ck.scaler);
}
