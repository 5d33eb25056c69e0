import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { impliedVolNewtonTf, normalisedOtmBatchTf, priceBatchTf } from '../../../src/core/heston/batchedPricer.ts';
import { LewisControlVariateEngine, priceGrid, type SliceOutput } from '../../../src/core/heston/pricer.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';
import type { HestonParams } from '../../../src/core/heston/params.ts';

const PS: HestonParams[] = [
  { kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.7, v0: 0.03 },
  { kappa: 0.5, theta: 0.01, sigma: 1, rho: -0.95, v0: 0.01 },
  { kappa: 8, theta: 0.08, sigma: 0.1, rho: 0.2, v0: 0.08 },
  { kappa: 1, theta: 0.02, sigma: 0.9, rho: -0.3, v0: 0.07 },
];
const K = [-0.4, -0.2, 0, 0.2, 0.4].map((k) => 100 * Math.exp(k));
const T = [0.05, 0.1, 0.25, 0.5, 1, 2];
const asTensor = (ps: HestonParams[]) => tf.tensor2d(ps.map((p) => [p.kappa, p.theta, p.sigma, p.rho, p.v0]));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('batched tfjs pricer (float32, cpu backend)', () => {
  it('matches the Float64 pricer on the seed box corners within 5e-6·S', async () => {
    // Tolerance: float32 rounding of the Black–Scholes control-variate term (erf to ~1e-7) and of
    // a ~500-node sum; measured worst 1.2e-6·S on this set, so 5e-6·S leaves a factor of 4.
    const calls = priceBatchTf(asTensor(PS), K, T, 100, 0.02, 0.01);
    const puts = priceBatchTf(asTensor(PS), K, T, 100, 0.02, 0.01, { kind: 'put' });
    expect(calls.shape).toEqual([4, 5, 6]);
    const c = await calls.data();
    const p = await puts.data();
    tf.dispose([calls, puts]);
    PS.forEach((params, b) => {
      const ref = priceGrid(params, 100, K, T, 0.02, 0.01);
      for (let a = 0; a < 30; a++) {
        expect(Math.abs(c[b * 30 + a]! - ref.calls[a]!)).toBeLessThan(5e-6 * 100);
        expect(Math.abs(p[b * 30 + a]! - ref.puts[a]!)).toBeLessThan(5e-6 * 100);
      }
    });
  });

  it('is differentiable: autograd matches the Float64 analytic gradient', async () => {
    const p = PS[0]!;
    const g = tf.grad((x: tf.Tensor) => priceBatchTf(x as tf.Tensor2D, K, [0.5], 100).sum() as tf.Scalar)(asTensor([p]));
    const got = await g.data();
    g.dispose();
    const out: SliceOutput = { calls: new Float64Array(5), puts: new Float64Array(5), grad: new Float64Array(25) };
    new LewisControlVariateEngine().priceSlice(p, 0.5, 100, 1, K, out);
    for (let k = 0; k < 5; k++) {
      let want = 0;
      for (let i = 0; i < 5; i++) want += out.grad![k * 5 + i]!;
      // float32 autograd through ~40 ops: 1e-3 relative (plus a small absolute floor).
      expect(Math.abs(got[k]! - want)).toBeLessThan(1e-3 * Math.abs(want) + 1e-2);
    }
  });

  it('normalised OTM prices invert to the Float64 IV surface with a few Newton steps', async () => {
    const kGrid = [-0.2, 0, 0.2];
    const tGrid = [0.25, 1];
    const b = normalisedOtmBatchTf(asTensor([PS[0]!]), kGrid, tGrid);
    const ref = hestonIvSurface(PS[0]!, kGrid, tGrid);
    const start = tf.fill([1, 3, 2], 0.2);
    const iv = impliedVolNewtonTf(b, kGrid, tGrid, start, 6);
    const got = await iv.data();
    tf.dispose([b, start, iv]);
    for (let a = 0; a < 6; a++) expect(Math.abs(got[a]! - ref.iv[a]!)).toBeLessThan(2e-4);
  });
});
