import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { physicsLoss } from '../../../src/core/inverse/trainer.ts';
import { HestonInverseDataset } from '../../../src/core/inverse/datasets.ts';
import { computeNormalisation } from '../../../src/core/inverse/normalisation.ts';
import { generateDataset } from '../../../src/core/surface/synthetic.ts';
import { useWasm } from './fixtures.ts';

describe('physics loss', () => {
  beforeAll(useWasm);

  it('is ~0 at the true parameters and large at wrong ones (batched tfjs pricer vs Float64 data)', async () => {
    const ds = await generateDataset({ kind: 'heston', n: 40, seed: 4 });
    const idx = Int32Array.from({ length: ds.n }, (_, i) => i);
    const norm = computeNormalisation(ds.iv, ds.mask, ds.params, 30, idx);
    const set = HestonInverseDataset.encode(ds, idx, norm);
    const grid = { kGrid: ds.kGrid, tGrid: ds.tGrid };
    const [right, wrong] = tf.tidy(() => {
      const x = tf.tensor4d(set.x, [ds.n, 5, 6, 2]);
      const y = tf.tensor2d(set.y!, [ds.n, 5]);
      return [physicsLoss(y, x, norm, grid), physicsLoss(tf.reverse(y, 0) as tf.Tensor2D, x, norm, grid)];
    });
    // float32 pricing + 3 Newton steps: IV errors ~1e-4 against per-cell stds of ~0.02–0.05, i.e.
    // ~0.005 z, whose SmoothL1 is ~1e-5; a wrong parameter set misses by whole stds.
    expect((await right!.data())[0]).toBeLessThan(1e-3);
    expect((await wrong!.data())[0]).toBeGreaterThan(0.1);
    tf.dispose([right!, wrong!]);
  });
});
