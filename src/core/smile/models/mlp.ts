/**
 * The seed's MLP on the flattened window: [B, T·F] → hidden (ReLU) → 1 (the reference bench:
 * 140 → 128 → 1 for T = 20, F = 7).
 */
import * as tf from '@tensorflow/tfjs';
import { VariableSet, dense, withHead, type SmileModelConfig, type SmileNet } from './common.ts';

export function buildMlp(cfg: SmileModelConfig, seed: number): SmileNet {
  const vs = new VariableSet(seed);
  const inDim = cfg.seqLength * cfg.nInputs;
  const w1 = vs.add('mlp.w1', [inDim, cfg.hidden], 'glorot');
  const b1 = vs.add('mlp.b1', [cfg.hidden], 'zeros');
  return withHead(cfg, vs, cfg.hidden, (x) => tf.relu(dense(tf.reshape(x, [x.shape[0], inDim]) as tf.Tensor2D, w1, b1)));
}
