import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type InverseCheckpoint } from '../../../src/core/inverse/checkpoint.ts';
import { reseal, rehash } from '../../support/bundles.ts';
import { defaultTopology, initialWeights } from '../../../src/core/inverse/model.ts';
import { computeNormalisation } from '../../../src/core/inverse/normalisation.ts';
import { predictSurfaces } from '../../../src/core/inverse/predict.ts';
import { InputError } from '../../../src/core/errors.ts';
import type { Surface } from '../../../src/core/surface/types.ts';
import { K_GRID, T_GRID, toySurfaces, useWasm } from '../inverse/fixtures.ts';

function sample(): InverseCheckpoint {
  const ds = toySurfaces(50, 1);
  const topology = defaultTopology(5, 6, { convChannels: [4, 8], hiddenDim: 16, headHidden: 8, surfaceHidden: 16 });
  return {
    name: 'test model',
    created: '2026-01-02T03:04:05.000Z',
    topology,
    normalisation: computeNormalisation(ds.iv, ds.mask, ds.params, 30, Int32Array.from({ length: 50 }, (_, i) => i)),
    grid: { kGrid: K_GRID, tGrid: T_GRID },
    provenance: { mode: 'synthetic', data: { kind: 'heston', n: 50, seed: 1 }, seed: 1, epochs: 2, prior: null, parent: null },
    metrics: { r2: { theta: 0.9 } },
    weights: initialWeights(topology, 4),
  };
}

describe('checkpoint bundle', () => {
  beforeAll(useWasm);

  it('round-trips every field and weight exactly, with a stable content hash', async () => {
    const ck = sample();
    const bytes = await encodeCheckpoint(ck);
    const back = await decodeCheckpoint(bytes, 'a.hlckpt');
    expect(back.topology).toEqual(ck.topology);
    expect(back.normalisation).toEqual(ck.normalisation);
    expect(back.grid).toEqual(ck.grid);
    expect(back.provenance).toEqual(ck.provenance);
    expect(back.metrics).toEqual(ck.metrics);
    for (const [k, w] of ck.weights) expect(back.weights.get(k)).toEqual(w);
    expect(back.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await decodeCheckpoint(await encodeCheckpoint(back))).hash).toBe(back.hash);
  });

  it('gives identical predictions after a save / load cycle', async () => {
    const ck = sample();
    const ds = toySurfaces(3, 9);
    const surfaces: Surface[] = [0, 1, 2].map((i) => ({ kGrid: K_GRID, tGrid: T_GRID, iv: Float64Array.from((ds.iv as Float64Array).subarray(i * 30, i * 30 + 30)), spot: 1, timestamp: 0, source: 't' }));
    const before = await predictSurfaces(ck, surfaces);
    const after = await predictSurfaces(await decodeCheckpoint(await encodeCheckpoint(ck)), surfaces);
    expect(after).toEqual(before);
  });

  it('refuses a tampered, truncated or foreign file with a clear message', async () => {
    const bytes = await encodeCheckpoint(sample());
    const flipped = bytes.slice();
    flipped[bytes.length - 100]! ^= 1; // one bit of one weight
    await expect(decodeCheckpoint(flipped, 'x.hlckpt')).rejects.toThrow(/x\.hlckpt: content hash mismatch/);
    await expect(decodeCheckpoint(bytes.subarray(0, bytes.length - 10), 'x.hlckpt')).rejects.toThrow(/hash mismatch|truncated/);
    await expect(decodeCheckpoint(bytes.subarray(0, 20), 'x.hlckpt')).rejects.toThrow(/truncated/);
    await expect(decodeCheckpoint(new TextEncoder().encode('{"weights": []}'), 'x.json')).rejects.toThrow(/x\.json: not a Heston Lab checkpoint/);
    await expect(decodeCheckpoint(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0]), 'x.npz')).rejects.toThrow(/zip\/\.npz archive/);
    await expect(decodeCheckpoint(new Uint8Array(0), 'empty')).rejects.toBeInstanceOf(InputError);
  });

  it('names the field when a re-sealed manifest is inconsistent', async () => {
    const bytes = await encodeCheckpoint(sample());
    const cases: [(m: any) => void, RegExp][] = [
      [(m) => (m.schema_version = 3), /schema_version: unknown schema version 3.*newer Heston Lab/],
      [(m) => (m.topology.family = 'Evil'), /topology\.family: unknown model family "Evil"/],
      [(m) => (m.topology.hiddenDim = 17), /weights\[4\]\.shape: encoder\.fc\.w must have shape \[32,17\]/],
      [(m) => (m.topology.convChannels = [1e9, 8]), /topology\.convChannels\[0\]: must be an integer in \[1, 256\]/],
      [(m) => (m.provenance.grid.t = [0.05, 0.1, 0.25, 0.5, 2, 1]), /provenance\.grid\.t: must be strictly increasing/],
      [(m) => (m.normalisation.iv_std[3] = -1), /normalisation\.iv_std\[3\]: must be positive/],
      [(m) => (m.normalisation.iv_mean = [1, 2]), /normalisation\.iv_mean: must have 30 entries/],
      [(m) => (m.weights[2].name = 'x'), /weights\[2\]\.name: expected "encoder\.conv2\.kernel"/],
      [(m) => (m.extra = 1), /manifest\.extra: is not a known field/],
      [(m) => delete m.metrics, /manifest\.metrics: is missing/],
    ];
    for (const [edit, msg] of cases) await expect(decodeCheckpoint(await reseal(bytes, edit), 'y.hlckpt')).rejects.toThrow(msg);
  });

  it('refuses non-finite weights even under a valid hash', async () => {
    const bytes = await encodeCheckpoint(sample());
    const bad = bytes.slice();
    new DataView(bad.buffer).setFloat32(bad.length - 32 - 4, NaN, true);
    await expect(decodeCheckpoint(await rehash(bad), 'z.hlckpt')).rejects.toThrow(/z\.hlckpt: weights: surface_head\.b2\[29\] is NaN/);
  });

  it('refuses to apply a checkpoint to a surface on another grid', async () => {
    const s: Surface = { kGrid: K_GRID, tGrid: [0.1, 0.2, 0.3, 0.5, 1, 2], iv: new Float64Array(30).fill(0.5), spot: 1, timestamp: 0, source: 'file:eth.npz', name: 'eth.npz' };
    await expect(predictSurfaces(sample(), [s])).rejects.toThrow(/eth\.npz: T grid \[0\.1, 0\.2, 0\.3, 0\.5, 1, 2\] differs from the model's \[0\.05, 0\.1, 0\.25, 0\.5, 1, 2\]/);
  });

  it('flags a surface far outside the training data instead of extrapolating silently', async () => {
    const ck = sample();
    const ds = toySurfaces(1, 3);
    const mk = (iv: Float64Array): Surface => ({ kGrid: K_GRID, tGrid: T_GRID, iv, spot: 1, timestamp: 0, source: 't' });
    // The inside surface keeps its mask: its wing cells were never quoted in training (H-num: schema 2 flags a quote there).
    const [inside, outside] = await predictSurfaces(ck, [{ ...mk(Float64Array.from((ds.iv as Float64Array).subarray(0, 30))), mask: Uint8Array.from({ length: 30 }, (_, c) => ds.mask[c]!) }, mk(new Float64Array(30).fill(0.9))]);
    expect(inside!.warning).toBeUndefined();
    expect(outside!.warning).toMatch(/outside the network's training data \(\d+\.\d standard deviations/);
  });
});
