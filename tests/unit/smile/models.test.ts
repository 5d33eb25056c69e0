import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { bmm, cols, mm } from '../../../src/core/smile/models/common.ts';
import { useWasm } from './fixtures.ts';

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const [x, y] = [await a.data(), await b.data()];
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

describe('matMul with plain-matMul gradients (the wasm fast path)', () => {
  beforeAll(useWasm);
  // Same products summed in another order: float32 agreement to ~1e-5 on O(1) entries of
  // 64-term dot products (the rounding of 64 additions of ~1 in float32 is ~64 · 6e-8 ≈ 4e-6).
  const TOL = 2e-5;

  it('mm: value and both gradients equal tf.matMul', async () => {
    const a = tf.randomNormal([37, 64], 0, 1, 'float32', 1) as tf.Tensor2D;
    const b = tf.randomNormal([64, 48], 0, 1, 'float32', 2) as tf.Tensor2D;
    const w = tf.randomNormal([37, 48], 0, 1, 'float32', 3);
    const loss = (f: (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.tanh(f(x as tf.Tensor2D, y as tf.Tensor2D)), w));
    const [ga, gb] = tf.grads(loss(mm))([a, b]);
    const [ra, rb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    expect(await maxAbsDiff(mm(a, b), tf.matMul(a, b))).toBe(0);
    expect(await maxAbsDiff(ga!, ra!)).toBeLessThan(TOL);
    expect(await maxAbsDiff(gb!, rb!)).toBeLessThan(TOL);
  });

  it('bmm: value and both gradients equal batched tf.matMul; cols slices columns', async () => {
    const a = tf.randomNormal([6, 20, 16], 0, 1, 'float32', 4) as tf.Tensor3D;
    const b = tf.randomNormal([6, 16, 20], 0, 1, 'float32', 5) as tf.Tensor3D;
    const w = tf.randomNormal([6, 20, 20], 0, 1, 'float32', 6);
    const loss = (f: (x: tf.Tensor3D, y: tf.Tensor3D) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.sin(f(x as tf.Tensor3D, y as tf.Tensor3D)), w));
    const [ga, gb] = tf.grads(loss(bmm))([a, b]);
    const [ra, rb] = tf.grads(loss((x, y) => tf.matMul(x, y)))([a, b]);
    expect(await maxAbsDiff(ga!, ra!)).toBeLessThan(TOL);
    expect(await maxAbsDiff(gb!, rb!)).toBeLessThan(TOL);
    const m = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    expect(await cols(m, 1, 2).array()).toEqual([[2, 3], [5, 6]]);
  });
});
