import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { InverseHestonModel, defaultTopology, initialWeights, weightSpecs, HEAD_NAMES } from '../../../src/core/inverse/model.ts';
import { patchConv2d, patchMaxPool } from '../../../src/core/nn/patchConv.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { useWasm } from './fixtures.ts';

function randn(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

describe('InverseHestonModel', () => {
  beforeAll(useWasm);

  it.each([
    [5, 6],
    [7, 4],
    [3, 3],
    [1, 8],
  ])('works on any grid: %i × %i gives [B, 5] params and [B, nk·nt] reconstruction', async (nk, nt) => {
    const model = InverseHestonModel.fresh(defaultTopology(nk, nt), 7);
    const out = tf.tidy(() => {
      const o = model.forward(randn([3, nk, nt, 2], 1) as tf.Tensor4D);
      return [o.params, o.recon, o.latent];
    });
    expect(out[0]!.shape).toEqual([3, 5]);
    expect(out[1]!.shape).toEqual([3, nk * nt]);
    expect(out[2]!.shape).toEqual([3, model.topology.hiddenDim]);
    for (const t of out) expect([...(await t.data())].every(Number.isFinite)).toBe(true);
    tf.dispose(out);
    model.dispose();
  });

  it('initialises identically from the same seed and differently from another', () => {
    const t = defaultTopology(5, 6);
    const a = initialWeights(t, 3);
    const b = initialWeights(t, 3);
    const c = initialWeights(t, 4);
    for (const s of weightSpecs(t)) expect(a.get(s.name)).toEqual(b.get(s.name));
    expect(a.get('encoder.fc.w')).not.toEqual(c.get('encoder.fc.w'));
  });

  it('can freeze exactly the five ParamHeads', () => {
    const model = InverseHestonModel.fresh(defaultTopology(5, 6), 1);
    const all = model.trainable(false).length;
    const frozen = model.trainable(true).length;
    expect(all - frozen).toBe(HEAD_NAMES.length * 4);
    model.dispose();
  });

  it('the model encoder (dense conv, slice pool) equals tf.conv2d / tf.maxPool in value and gradient, run on wasm', async () => {
    // InverseHestonModel.encode trains through denseConv2d / strideMaxPool / biasAdd (custom
    // gradients, src/core/nn/patchConv.ts) on wasm; the reference is tfjs's own conv, pool and
    // dense ops on the cpu backend with the same weights. Run on wasm on purpose: its matMul caches
    // packed operands per buffer, and a buffer reaching two matMuls under two shapes aborted or
    // produced garbage (NaN weights) — this would catch it. Tolerance as in the test below.
    const topo = defaultTopology(5, 6, { convChannels: [8, 6], hiddenDim: 16 });
    const model = InverseHestonModel.fresh(topo, 5);
    const names = ['encoder.conv1.kernel', 'encoder.conv1.bias', 'encoder.conv2.kernel', 'encoder.conv2.bias', 'encoder.fc.w', 'encoder.fc.b'];
    const xs = randn([4, 5, 6, 2], 6);
    const xData = await xs.data();
    const loss = (z: tf.Tensor) => tf.sum(tf.mul(z, tf.range(1, z.size + 1).reshape(z.shape)));
    const ours: Float32Array[] = [];
    const runOurs = async (b: number) => {
      const { value, grads } = tf.variableGrads(() => loss(model.encode(tf.tensor4d(xData.slice(0, b * 60), [b, 5, 6, 2]))) as tf.Scalar, names.map((n) => model.vars.get(n)!));
      const out = [await value.data(), ...(await Promise.all(names.map((n) => grads[model.vars.get(n)!.name]!.data())))] as Float32Array[];
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    await runOurs(3); // another batch size first: buffers and shapes change between steps
    ours.push(...(await runOurs(4)));
    const w = await model.getWeights();
    model.dispose();
    await tf.setBackend('cpu');
    try {
      const ref = (k1: tf.Tensor, b1: tf.Tensor, k2: tf.Tensor, b2: tf.Tensor, fw: tf.Tensor, fb: tf.Tensor) => {
        const x = tf.tensor4d(xData, [4, 5, 6, 2]);
        let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, k1 as tf.Tensor4D, 1, 'same'), b1)) as tf.Tensor4D, 2, 2, 'same');
        h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, k2 as tf.Tensor4D, 1, 'same'), b2)) as tf.Tensor4D, 2, 2, 'same');
        return loss(tf.relu(tf.add(tf.matMul(h.reshape([4, -1]), fw as tf.Tensor2D), fb)));
      };
      const inputs = names.map((n) => tf.tensor(w.get(n)!, weightSpecs(topo).find((s) => s.name === n)!.shape));
      const value = await (ref as (...a: tf.Tensor[]) => tf.Tensor)(...inputs).data();
      const g = tf.grads(ref as (...a: tf.Tensor[]) => tf.Tensor)(inputs);
      const refs = [value, ...(await Promise.all(g.map((t) => t.data())))] as Float32Array[];
      refs.forEach((r, i) => {
        expect(ours[i]!.length).toBe(r.length);
        expect(relativeError(ours[i]!, r)).toBeLessThan(1e-4);
      });
    } finally {
      await useWasm();
    }
  });

  it('the patch encoder has the same gradients as tf.conv2d / tf.maxPool (cpu reference)', async () => {
    // The encoder's conv/pool are matMuls with hand-written gradients (src/core/nn/patchConv.ts);
    // this pins them to tfjs's own conv and pool gradients. Float32 sums over a few hundred terms
    // of O(1) values: agreement to 1e-4 relative; an index or transpose error gives O(1).
    await tf.setBackend('cpu');
    try {
      const x = randn([4, 5, 6, 2], 2);
      const k1 = randn([3, 3, 2, 8], 3);
      const k2 = randn([3, 3, 8, 6], 4);
      const enc = (conv: typeof patchConv2d, pool: typeof patchMaxPool) => (xa: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const h1 = pool(tf.relu(conv(xa as tf.Tensor4D, a as tf.Tensor4D)) as tf.Tensor4D, 2, 2);
        const h2 = pool(tf.relu(conv(h1, b as tf.Tensor4D)) as tf.Tensor4D, 2, 2);
        return tf.sum(tf.mul(h2, tf.range(1, h2.size + 1).reshape(h2.shape)));
      };
      const ref = enc(
        (xa, k) => tf.conv2d(xa, k, 1, 'same'),
        (xa, s = 2, st = 2) => tf.maxPool(xa, s, st, 'same'),
      );
      const ours = enc(patchConv2d, patchMaxPool);
      const gr = tf.grads(ref)([x, k1, k2]);
      const go = tf.grads(ours)([x, k1, k2]);
      for (let i = 0; i < 3; i++) expect(relativeError(await go[i]!.data(), await gr[i]!.data())).toBeLessThan(1e-4);
    } finally {
      await useWasm();
    }
  });
});

/** Largest absolute difference from the reference, relative to the reference's largest entry. */
function relativeError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  const scale = Math.max(...Array.from(ref, Math.abs));
  let worst = 0;
  for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(ref[j]! - ours[j]!));
  return worst / scale;
}
