import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { patchConv2d, patchMaxPool } from '../../../src/core/nn/patchConv.ts';
import { Rng } from '../../../src/core/math/rng.ts';

function randn(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape);
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = await tf.abs(tf.sub(a, b)).max().data();
  return d[0]!;
}

describe('patchConv2d / patchMaxPool', () => {
  // float32 sums of ≤ 27 products of O(1) numbers: differences above ~1e-5 mean a wrong index.
  const TOL = 1e-5;

  it.each([
    [5, 6, 3, 1, 1, 8],
    [5, 6, 3, 8, 2, 4],
    [7, 4, 2, 3, 1, 5],
    [3, 3, 3, 2, 2, 2],
  ])('matches tf.conv2d on a %ix%i grid, %ix%i kernel, C=%i stride=%i F=%i', async (h, w, k, c, stride, f) => {
    await tf.setBackend('cpu');
    const x = randn([2, h, w, c], 1) as tf.Tensor4D;
    const kernel = randn([k, k, c, f], 2) as tf.Tensor4D;
    const ours = patchConv2d(x, kernel, stride);
    const ref = tf.conv2d(x, kernel, stride, 'same');
    expect(ours.shape).toEqual(ref.shape);
    expect(await maxAbsDiff(ours, ref)).toBeLessThan(TOL);
  });

  it('matches tf.maxPool on non-negative inputs, odd sizes included', async () => {
    await tf.setBackend('cpu');
    const x = tf.relu(randn([2, 5, 6, 3], 3)) as tf.Tensor4D;
    const ours = patchMaxPool(x, 2, 2);
    const ref = tf.maxPool(x, 2, 2, 'same');
    expect(ours.shape).toEqual(ref.shape);
    expect(await maxAbsDiff(ours, ref)).toBeLessThan(1e-7);
  });

  it('has the same kernel gradient as tf.conv2d', async () => {
    await tf.setBackend('cpu');
    const x = randn([3, 5, 6, 2], 4) as tf.Tensor4D;
    const kernel = randn([3, 3, 2, 4], 5) as tf.Tensor4D;
    const g1 = tf.grad((kk: tf.Tensor) => patchConv2d(x, kk as tf.Tensor4D).square().sum())(kernel);
    const g2 = tf.grad((kk: tf.Tensor) => tf.conv2d(x, kk as tf.Tensor4D, 1, 'same').square().sum())(kernel);
    // Gradients are sums over 3·30 positions of products of O(1) values: allow 1e-4 absolute.
    expect(await maxAbsDiff(g1, g2)).toBeLessThan(1e-4);
  });
});
