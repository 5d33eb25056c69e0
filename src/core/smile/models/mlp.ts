/**
 * The seed's MLP on the flattened window: [B, T·F] → hidden (ReLU) → 1 (the reference bench:
 * 140 → 128 → 1 for T = 20, F = 7).
 */
import * as tf from '@tensorflow/tfjs';
import { VariableSet, dense, disposeAll, type SmileModelConfig, type SmileNet } from './common.ts';

export function buildMlp(cfg: SmileModelConfig, seed: number): SmileNet {
  const vs = new VariableSet(seed);
  const inDim = cfg.seqLength * cfg.nInputs;
  const w1 = vs.add('mlp.w1', [inDim, cfg.hidden], 'glorot');
  const b1 = vs.add('mlp.b1', [cfg.hidden], 'zeros');
  const w2 = vs.add('head.w', [cfg.hidden, 1], 'glorot');
  const b2 = vs.add('head.b', [1], 'zeros');
  return {
    config: cfg,
    variables: vs.map,
    apply(x) {
      const flat = tf.reshape(x, [x.shape[0], inDim]) as tf.Tensor2D;
      return tf.reshape(dense(tf.relu(dense(flat, w1, b1)), w2, b2), [-1]) as tf.Tensor1D;
    },
    dispose: () => disposeAll(vs.map),
  };
}
