/**
 * Bundles: the one container for every trained model the lab saves (the inverse-Heston network,
 * the PPO agent, the smile forecasters): named float32 tensors plus a JSON manifest, sealed with
 * a SHA-256 content hash (shared/DESIGN.md, "Checkpoint bundle"; issue 14 item 4). This module is
 * format-level: it knows nothing of any model. A model's schema (src/core/inverse/checkpoint.ts,
 * src/core/rl/agentCheckpoint.ts …) puts its config, statistics and provenance in `metadata`,
 * checks `kind` and `schemaVersion`, and checks the tensor list against its topology.
 *
 * Layout (all integers little-endian) — unchanged from the first .hlckpt files, so they load:
 *
 *   8 bytes   magic 89 'H' 'L' 'C' 'K' 'P' 'T' 0A   (PNG-style: the high byte and the newline
 *                                                   reveal 7-bit or text-mode transfers)
 *   4 bytes   manifest length M
 *   M bytes   manifest, UTF-8 JSON, then zero padding to a multiple of 4
 *   W bytes   float32 tensors, in the manifest's order
 *   32 bytes  SHA-256 of every byte before it (the content hash: the bundle's identity)
 *
 * The manifest is one flat JSON object: `format` ("heston-lab-checkpoint"), `schema_version`,
 * `kind`, `weights` (the tensor list: name, shape, dtype, offset, length) and, beside them, every
 * metadata key. Flat rather than nested under "metadata" because that is how the first inverse
 * checkpoints were written; encoding a decoded file reproduces it byte for byte (tested).
 *
 * Reading never executes anything from the file: the manifest goes through JSON.parse and a
 * checker that admits plain JSON only (finite numbers, bounded depth); tensors must be contiguous,
 * match their shapes, fill the file exactly and be finite. Any deviation is an InputError naming
 * the file and the field.
 */
import { InputError } from '../errors.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export interface BundleTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Bundle {
  /** What the bundle holds, e.g. 'inverse-heston', 'ppo-agent', 'smile-forecaster'. */
  kind: string;
  /** The model schema's version; the model module checks it. */
  schemaVersion: number;
  /** Config, provenance, normalisation statistics, names … (plain JSON). */
  metadata: { [k: string]: JsonValue };
  /** Named float32 tensors, in order. */
  tensors: BundleTensor[];
}

export interface DecodedBundle extends Bundle {
  /** Hex SHA-256 content hash. */
  hash: string;
  byteLength: number;
}

export const BUNDLE_MAGIC = Uint8Array.from([0x89, 0x48, 0x4c, 0x43, 0x4b, 0x50, 0x54, 0x0a]);
export const BUNDLE_FORMAT = 'heston-lab-checkpoint';
export const BUNDLE_EXTENSION = '.hlckpt';
/** Manifest keys the container owns; metadata may not use them. */
export const RESERVED_KEYS: readonly string[] = ['format', 'schema_version', 'kind', 'weights'];
/** 4 MiB of JSON is far above any real manifest (the inverse one is ~6 kB); larger is a corrupt header. */
const MAX_MANIFEST_BYTES = 4 << 20;
/** Deepest JSON nesting admitted in metadata (the inverse provenance uses 4). */
const MAX_JSON_DEPTH = 12;
const HASH_BYTES = 32;

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return new Uint8Array(digest);
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export async function encodeBundle(b: Bundle): Promise<Uint8Array> {
  if (!b.kind) throw new Error('bundle: kind must be a non-empty string');
  if (!Number.isInteger(b.schemaVersion) || b.schemaVersion < 1) throw new Error(`bundle: schemaVersion must be a positive integer, got ${b.schemaVersion}`);
  for (const k of Object.keys(b.metadata)) if (RESERVED_KEYS.includes(k)) throw new Error(`bundle: metadata key "${k}" is reserved by the container`);
  const seen = new Set<string>();
  let offset = 0;
  const weights = b.tensors.map((t) => {
    if (seen.has(t.name)) throw new Error(`bundle: tensor name "${t.name}" appears twice`);
    seen.add(t.name);
    if (t.data.length !== shapeSize(t.shape)) throw new Error(`bundle: tensor ${t.name} holds ${t.data.length} values, its shape [${t.shape}] needs ${shapeSize(t.shape)}`);
    const entry = { name: t.name, shape: t.shape, dtype: 'float32', offset, length: t.data.length };
    offset += t.data.length;
    return entry;
  });
  // Key order: container keys first, metadata in its own order, tensor list last — the layout of
  // the first inverse checkpoints, so re-encoding one reproduces its bytes and its hash.
  const manifest = { format: BUNDLE_FORMAT, schema_version: b.schemaVersion, kind: b.kind, ...b.metadata, weights };
  const json = new TextEncoder().encode(JSON.stringify(manifest));
  const M = BUNDLE_MAGIC.length;
  const pad = (4 - ((M + 4 + json.length) % 4)) % 4;
  const headerLen = M + 4 + json.length + pad;
  const body = new Uint8Array(headerLen + offset * 4 + HASH_BYTES);
  body.set(BUNDLE_MAGIC, 0);
  new DataView(body.buffer).setUint32(M, json.length, true);
  body.set(json, M + 4);
  const dv = new DataView(body.buffer, headerLen, offset * 4);
  let k = 0;
  for (const t of b.tensors) for (const v of t.data) dv.setFloat32(4 * k++, v, true);
  body.set(await sha256(body.subarray(0, body.length - HASH_BYTES)), body.length - HASH_BYTES);
  return body;
}

// ---- strict reading -------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Field checks for manifests: each failure is an InputError "<file>: <field>: <what is wrong>".
 * Exported for the model schemas built on bundles, so every schema words its errors the same way.
 */
export class ManifestReader {
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
    if (depth > MAX_JSON_DEPTH) this.fail(field, 'nested too deeply');
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
    if (typeof v === 'number') return this.num(v, field);
    if (Array.isArray(v)) return v.map((x, i) => this.json(x, `${field}[${i}]`, depth + 1));
    if (isObj(v)) {
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) {
        // JSON.parse makes "__proto__" an own key; assigning it would swap the object's prototype.
        if (k === '__proto__') this.fail(`${field}.${k}`, 'is not an admitted key');
        out[k] = this.json(x, `${field}.${k}`, depth + 1);
      }
      return out;
    }
    this.fail(field, 'is not plain JSON');
  }
  /** Every key in `keys` present and no other (a manifest from elsewhere is refused, not half-read). */
  exactKeys(o: Obj, field: string, keys: readonly string[]): void {
    for (const k of keys) if (!(k in o)) this.fail(`${field}.${k}`, 'is missing');
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${field}.${k}`, 'is not a known field');
  }
}

/**
 * Reads and verifies a bundle. Throws InputError naming `opts.file` and the failing field for a
 * file that is not a bundle, truncated, tampered with (hash mismatch), of another kind than
 * `opts.kind`, with a malformed manifest or tensor list, or holding non-finite values.
 */
export async function decodeBundle(bytes: Uint8Array, opts: { file: string; kind?: string }): Promise<DecodedBundle> {
  const file = opts.file;
  const r = new ManifestReader(file);
  const M = BUNDLE_MAGIC.length;
  if (bytes.length < M || BUNDLE_MAGIC.some((b, i) => bytes[i] !== b)) {
    if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) throw new InputError('this is a zip/.npz archive, not a Heston Lab checkpoint (.hlckpt)', file);
    throw new InputError('not a Heston Lab checkpoint (.hlckpt): the file does not start with the checkpoint signature', file);
  }
  if (bytes.length < M + 4 + HASH_BYTES) throw new InputError(`truncated: only ${bytes.length} bytes`, file);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLen = dv.getUint32(M, true);
  if (jsonLen > MAX_MANIFEST_BYTES) throw new InputError(`manifest length ${jsonLen} is implausible (corrupt header)`, file);
  const pad = (4 - ((M + 4 + jsonLen) % 4)) % 4;
  const headerLen = M + 4 + jsonLen + pad;
  if (bytes.length < headerLen + HASH_BYTES) throw new InputError(`truncated: the manifest needs ${headerLen} bytes, the file has ${bytes.length}`, file);

  // The hash first: a tampered or damaged file is reported as such, not as whatever field broke.
  const stored = bytes.subarray(bytes.length - HASH_BYTES);
  const actual = await sha256(bytes.subarray(0, bytes.length - HASH_BYTES));
  if (!stored.every((b, i) => b === actual[i])) {
    throw new InputError('content hash mismatch: the file is truncated, damaged or was modified after it was saved', file);
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(M + 4, M + 4 + jsonLen)));
  } catch (e) {
    throw new InputError(`manifest is not valid UTF-8 JSON (${(e as Error).message})`, file);
  }
  const m = r.obj(parsed, 'manifest');
  if (m.format !== BUNDLE_FORMAT) r.fail('format', `expected "${BUNDLE_FORMAT}", got ${JSON.stringify(m.format)}`);
  const schemaVersion = r.int(m.schema_version, 'schema_version', 1, 1e6);
  const kind = r.str(m.kind, 'kind', 100);
  if (opts.kind !== undefined && kind !== opts.kind) r.fail('kind', `expected "${opts.kind}", got ${JSON.stringify(kind)} (this file holds another kind of model)`);

  const list: unknown[] = Array.isArray(m.weights) ? m.weights : r.fail('weights', 'must be an array');
  const names = new Set<string>();
  const entries: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let expectedOffset = 0;
  list.forEach((x, i) => {
    const f = `weights[${i}]`;
    const w = r.obj(x, f);
    r.exactKeys(w, f, ['name', 'shape', 'dtype', 'offset', 'length']);
    const name = r.str(w.name, `${f}.name`, 200);
    if (names.has(name)) r.fail(`${f}.name`, `"${name}" appears twice`);
    names.add(name);
    if (!Array.isArray(w.shape) || w.shape.length > 8) r.fail(`${f}.shape`, 'must be an array of at most 8 dimensions');
    const shape = (w.shape as unknown[]).map((d, j) => r.int(d, `${f}.shape[${j}]`, 0, 2 ** 31 - 1));
    if (w.dtype !== 'float32') r.fail(`${f}.dtype`, 'must be "float32"');
    if (w.offset !== expectedOffset) r.fail(`${f}.offset`, `expected ${expectedOffset}, got ${JSON.stringify(w.offset)}`);
    if (w.length !== shapeSize(shape)) r.fail(`${f}.length`, `shape [${shape}] needs ${shapeSize(shape)} values, got ${JSON.stringify(w.length)}`);
    entries.push({ name, shape, offset: expectedOffset, length: shapeSize(shape) });
    expectedOffset += shapeSize(shape);
  });
  const dataBytes = bytes.length - HASH_BYTES - headerLen;
  if (dataBytes !== expectedOffset * 4) {
    throw new InputError(`weights: the manifest declares ${expectedOffset * 4} bytes of weights, the file holds ${dataBytes}`, file);
  }

  const metadata: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === '__proto__') r.fail(`manifest.${k}`, 'is not an admitted key');
    if (!RESERVED_KEYS.includes(k)) metadata[k] = r.json(v, k);
  }

  const tdv = new DataView(bytes.buffer, bytes.byteOffset + headerLen, dataBytes);
  const tensors = entries.map((e) => {
    const a = new Float32Array(e.length);
    for (let j = 0; j < a.length; j++) {
      const v = tdv.getFloat32(4 * (e.offset + j), true);
      if (!Number.isFinite(v)) throw new InputError(`weights: ${e.name}[${j}] is ${v}; a checkpoint must hold finite weights`, file);
      a[j] = v;
    }
    return { name: e.name, shape: e.shape, data: a };
  });
  return { kind, schemaVersion, metadata, tensors, hash: toHex(stored), byteLength: bytes.length };
}

export function tensorByName(b: Bundle, name: string, file: string): BundleTensor {
  const t = b.tensors.find((x) => x.name === name);
  if (!t) throw new InputError(`weights: no tensor named "${name}" (the file holds ${b.tensors.length}: ${b.tensors.slice(0, 8).map((x) => x.name).join(', ')}${b.tensors.length > 8 ? ', …' : ''})`, file);
  return t;
}
