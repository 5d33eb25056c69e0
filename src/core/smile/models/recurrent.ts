/**
 * GRU and LSTM as fused cells: each step costs one matMul for all gates of the input part and one
 * for all gates of the recurrent part, plus a handful of elementwise ops. tfjs's stock
 * tf.layers.gru runs per-gate matMuls inside the Layers API's per-step machinery; at the seed's
 * shapes ([64, 20, 7], 64 units, wasm) it trained 1 304 windows/s against this cell's 1 590
 * (bench/smile.bench.ts, one run on the loaded 2-core machine): most of the cost on wasm is the
 * per-kernel overhead (~50–100 µs), which neither removes, so the gain is 1.2×, not more. What did
 * pay: gradients through plain matMuls (mm in common.ts) and no unstack of a projected window
 * (below: inference of 1024 windows 239 → 90 ms).
 * Gate equations are PyTorch's (torch.nn.GRU / LSTM), so weights mean the same thing:
 *   GRU   r, z = σ(x W_xrz + b_xrz + h W_hrz + b_hrz);  n = tanh(x W_xn + b_xn + r ⊙ (h W_hn + b_hn));
 *         h' = (1 − z) ⊙ n + z ⊙ h = n + z ⊙ (h − n)
 *   LSTM  i, f, o = σ(·), g = tanh(·) of x W_x + h W_h + b;  c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')
 * The head is a linear map of the last hidden state, as in the seed's models.
 */
import * as tf from '@tensorflow/tfjs';
import { VariableSet, cols, dense, mm, withHead, type SmileModelConfig, type SmileNet } from './common.ts';

/**
 * The window's steps [B, F] as slices of the input. Not one projection of the whole window
 * followed by tf.unstack: on wasm, unstacking (or splitting, or slicing) the projected
 * [T, B, 3H] block costs ~4 ms per step at B = 1024 (measured: 114 ms for 20 steps), far more
 * than the extra small per-step matMul, and the input needs no gradient.
 */
function steps(x: tf.Tensor3D): tf.Tensor2D[] {
  const [B, T, F] = x.shape;
  return Array.from({ length: T }, (_, t) => tf.reshape(tf.slice(x, [0, t, 0], [B, 1, F]), [B, F]) as tf.Tensor2D);
}

export function buildGru(cfg: SmileModelConfig, seed: number): SmileNet {
  const H = cfg.hidden;
  const vs = new VariableSet(seed);
  const lim = 1 / Math.sqrt(H); // PyTorch's GRU init: U(−1/√H, 1/√H) for every weight and bias
  const wx = vs.add('gru.w_x', [cfg.nInputs, 3 * H], { uniform: lim });
  const bx = vs.add('gru.b_x', [3 * H], { uniform: lim });
  const wh = vs.add('gru.w_h', [H, 3 * H], { uniform: lim });
  const bh = vs.add('gru.b_h', [3 * H], { uniform: lim });
  return withHead(cfg, vs, H, (x) => {
    let h = tf.zeros([x.shape[0], H]) as tf.Tensor2D;
    for (const xs of steps(x)) {
      const xt = dense(xs, wx, bx);
      const hh = dense(h, wh, bh);
      const rz = tf.sigmoid(tf.add(cols(xt, 0, 2 * H), cols(hh, 0, 2 * H))) as tf.Tensor2D;
      const [r, z] = [cols(rz, 0, H), cols(rz, H, H)];
      const n = tf.tanh(tf.add(cols(xt, 2 * H, H), tf.mul(r, cols(hh, 2 * H, H))));
      h = tf.add(n, tf.mul(z, tf.sub(h, n)));
    }
    return h;
  });
}

export function buildLstm(cfg: SmileModelConfig, seed: number): SmileNet {
  const H = cfg.hidden;
  const vs = new VariableSet(seed);
  const lim = 1 / Math.sqrt(H); // PyTorch's LSTM init
  const wx = vs.add('lstm.w_x', [cfg.nInputs, 4 * H], { uniform: lim });
  // One bias (PyTorch's b_ih + b_hh add up to one), gate order i, f, o, g.
  const b = vs.add('lstm.b', [4 * H], { uniform: lim });
  const wh = vs.add('lstm.w_h', [H, 4 * H], { uniform: lim });
  return withHead(cfg, vs, H, (x) => {
    let h = tf.zeros([x.shape[0], H]) as tf.Tensor2D;
    let c = h;
    for (const xs of steps(x)) {
      const gates = tf.add(dense(xs, wx, b), mm(h, wh)) as tf.Tensor2D;
      const ifo = tf.sigmoid(cols(gates, 0, 3 * H)) as tf.Tensor2D;
      c = tf.add(tf.mul(cols(ifo, H, H), c), tf.mul(cols(ifo, 0, H), tf.tanh(cols(gates, 3 * H, H))));
      h = tf.mul(cols(ifo, 2 * H, H), tf.tanh(c)) as tf.Tensor2D;
    }
    return h;
  });
}
