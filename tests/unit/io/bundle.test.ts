/**
 * The generic bundle (src/core/io/bundle.ts) is the container every saved model uses, so its
 * strictness is what stands between a damaged or foreign file and a network that silently runs
 * garbage: each refusal below names the file and the field, and the bundled inverse checkpoint
 * written before the split still decodes and re-encodes byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BUNDLE_MAGIC, decodeBundle, encodeBundle, sha256, tensorByName, type Bundle } from '../../../src/core/io/bundle.ts';
import { decodeCheckpoint } from '../../../src/core/inverse/checkpoint.ts';
import { InputError } from '../../../src/core/errors.ts';
import { reseal } from '../../support/bundles.ts';

function sample(): Bundle {
  return {
    kind: 'ppo-agent',
    schemaVersion: 3,
    metadata: { config: { gamma: 0.99, hidden: [64, 64], name: 'réseau' }, obsNames: ['a', 'b'], note: null, frozen: true },
    tensors: [
      { name: 'pi.w', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 1e-30, -0, 7]) },
      { name: 'pi.b', shape: [3], data: Float32Array.from([0.1, 0.2, 0.3]) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
    ],
  };
}

describe('bundle container', () => {
  it('round-trips kind, schema version, metadata and every tensor bit for bit', async () => {
    const b = sample();
    const bytes = await encodeBundle(b);
    expect(Array.from(bytes.subarray(0, 8))).toEqual(Array.from(BUNDLE_MAGIC));
    const back = await decodeBundle(bytes, { file: 'agent.hlckpt', kind: 'ppo-agent' });
    expect(back.kind).toBe('ppo-agent');
    expect(back.schemaVersion).toBe(3);
    expect(back.metadata).toEqual(b.metadata);
    expect(back.tensors.map((t) => [t.name, t.shape])).toEqual(b.tensors.map((t) => [t.name, t.shape]));
    for (const t of b.tensors) expect(Array.from(tensorByName(back, t.name, 'agent.hlckpt').data)).toEqual(Array.from(t.data));
    // The hash is the identity: stable across a decode / encode cycle.
    expect(back.hash).toBe(Array.from(bytes.subarray(bytes.length - 32), (x) => x.toString(16).padStart(2, '0')).join(''));
    expect((await decodeBundle(await encodeBundle(back), { file: 'again' })).hash).toBe(back.hash);
    expect(() => tensorByName(back, 'vf.w', 'agent.hlckpt')).toThrow(/agent\.hlckpt: weights: no tensor named "vf\.w" \(the file holds 3: pi\.w, pi\.b, empty\)/);
  });

  // The first bundled checkpoint (schema 1, written by the pre-split io/checkpoint.ts, kept as a
  // fixture since public/ may be retrained) and whatever public/ holds now.
  const FILES = [
    ['tests/fixtures/checkpoints/seed-grid-heston-schema1.hlckpt', 1],
    ['public/checkpoints/seed-grid-heston.hlckpt', undefined],
  ] as const;
  for (const [file, schema] of FILES) {
    it(`keeps ${file} loading, and re-encodes it to the same bytes`, async () => {
      const bytes = new Uint8Array(readFileSync(file));
      const b = await decodeBundle(bytes, { file, kind: 'inverse-heston' });
      if (schema !== undefined) expect(b.schemaVersion).toBe(schema);
      expect(Object.keys(b.metadata)).toEqual(['name', 'created', 'provenance', 'metrics', 'normalisation', 'topology']);
      const again = await encodeBundle(b);
      expect(again.length).toBe(bytes.length);
      expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
      const ck = await decodeCheckpoint(bytes, file);
      expect(ck.hash).toBe(b.hash);
      expect(ck.weights.size).toBe(b.tensors.length);
    });
  }

  it('reports a tampered byte as a hash mismatch naming the file', async () => {
    const bytes = await encodeBundle(sample());
    for (const at of [3, 20, bytes.length - 40, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at]! ^= 0x10;
      await expect(decodeBundle(bad, { file: 'agent.hlckpt' })).rejects.toThrow(at === 3 ? /agent\.hlckpt: not a Heston Lab checkpoint/ : /agent\.hlckpt: content hash mismatch/);
    }
  });

  it('refuses truncated files and foreign files', async () => {
    const bytes = await encodeBundle(sample());
    await expect(decodeBundle(bytes.subarray(0, bytes.length - 4), { file: 't.hlckpt' })).rejects.toThrow(/t\.hlckpt: (content hash mismatch|truncated)/);
    await expect(decodeBundle(bytes.subarray(0, 30), { file: 't.hlckpt' })).rejects.toThrow(/t\.hlckpt: truncated/);
    await expect(decodeBundle(bytes.subarray(0, 5), { file: 't.hlckpt' })).rejects.toThrow(/t\.hlckpt: not a Heston Lab checkpoint/);
    await expect(decodeBundle(Uint8Array.from([0x50, 0x4b, 3, 4]), { file: 'x.npz' })).rejects.toThrow(/x\.npz: this is a zip\/\.npz archive/);
    await expect(decodeBundle(new Uint8Array(0), { file: 'empty' })).rejects.toBeInstanceOf(InputError);
  });

  it('refuses a bundle of another kind when the caller names one', async () => {
    const bytes = await encodeBundle(sample());
    await expect(decodeBundle(bytes, { file: 'agent.hlckpt', kind: 'inverse-heston' })).rejects.toThrow(/agent\.hlckpt: kind: expected "inverse-heston", got "ppo-agent"/);
    await expect(decodeCheckpoint(bytes, 'agent.hlckpt')).rejects.toThrow(/agent\.hlckpt: /);
  });

  it('names the field of a bad manifest even under a valid hash', async () => {
    const bytes = await encodeBundle(sample());
    const cases: [(m: any) => void, RegExp][] = [
      [(m) => (m.format = 'other'), /format: expected "heston-lab-checkpoint", got "other"/],
      [(m) => (m.schema_version = 1.5), /schema_version: must be an integer/],
      [(m) => delete m.kind, /kind: must be a string/],
      [(m) => (m.weights = {}), /weights: must be an array/],
      [(m) => (m.weights[1].name = 'pi.w'), /weights\[1\]\.name: "pi\.w" appears twice/],
      [(m) => (m.weights[0].shape = [3, 3]), /weights\[0\]\.length: shape \[3,3\] needs 9 values, got 6/],
      [(m) => (m.weights[0].shape = [2, -3]), /weights\[0\]\.shape\[1\]: must be an integer/],
      [(m) => (m.weights[1].offset = 0), /weights\[1\]\.offset: expected 6, got 0/],
      [(m) => (m.weights[1].dtype = 'float64'), /weights\[1\]\.dtype: must be "float32"/],
      [(m) => (m.weights[1].code = 'eval()'), /weights\[1\]\.code: is not a known field/],
      [(m) => (m.config = { deep: [[[[[[[[[[[[[[1]]]]]]]]]]]]]] }), /config\.deep(\[0\])+: nested too deeply/],
    ];
    for (const [edit, msg] of cases) await expect(decodeBundle(await reseal(bytes, edit), { file: 'm.hlckpt' })).rejects.toThrow(new RegExp(`m\\.hlckpt: ${msg.source}`));
    await expect(decodeBundle(await reseal(bytes, (m) => m.weights.splice(2, 1, { name: 'extra', shape: [1], dtype: 'float32', offset: 9, length: 1 })), { file: 'm.hlckpt' })).rejects.toThrow(/m\.hlckpt: weights: the manifest declares 40 bytes of weights, the file holds 36/);
    const junk = bytes.slice();
    junk[12] = 0xff;
    junk.set(await sha256(junk.subarray(0, junk.length - 32)), junk.length - 32);
    await expect(decodeBundle(junk, { file: 'm.hlckpt' })).rejects.toThrow(/m\.hlckpt: manifest is not valid UTF-8 JSON/);
  });

  it('refuses a non-finite tensor value, naming the tensor and the index', async () => {
    const b = sample();
    b.tensors[1]!.data[2] = Number.POSITIVE_INFINITY;
    await expect(decodeBundle(await encodeBundle(b), { file: 'inf.hlckpt' })).rejects.toThrow(/inf\.hlckpt: weights: pi\.b\[2\] is Infinity; a checkpoint must hold finite weights/);
    b.tensors[1]!.data[2] = Number.NaN;
    await expect(decodeBundle(await encodeBundle(b), { file: 'nan.hlckpt' })).rejects.toThrow(/nan\.hlckpt: weights: pi\.b\[2\] is NaN/);
  });

  it('refuses to write what it could not read back', async () => {
    const b = sample();
    await expect(encodeBundle({ ...b, metadata: { weights: 1 } })).rejects.toThrow(/metadata key "weights" is reserved/);
    await expect(encodeBundle({ ...b, tensors: [b.tensors[0]!, b.tensors[0]!] })).rejects.toThrow(/"pi\.w" appears twice/);
    await expect(encodeBundle({ ...b, tensors: [{ name: 'x', shape: [4], data: new Float32Array(3) }] })).rejects.toThrow(/holds 3 values, its shape \[4\] needs 4/);
    await expect(encodeBundle({ ...b, schemaVersion: 0 })).rejects.toThrow(/schemaVersion must be a positive integer/);
  });
});
