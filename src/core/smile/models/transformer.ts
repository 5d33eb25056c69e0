/**
 * The Transformer forecaster of the reference bench (shared/bench/seed_smile.json): a linear
 * embedding F → d, sinusoidal positional encoding, `layers` post-norm encoder layers (PyTorch's
 * default nn.TransformerEncoderLayer: x = LN(x + MHA(x)); x = LN(x + FF(x)), FF = d → ffDim ReLU → d),
 * and a linear head on the last position. The seed's code uses PyTorch's literal defaults
 * (feed-forward 2048, no positional encoding), which the torch bench measured 5.3× slower to train (753
 * against 3 985 windows/s); feed-forward 128 and positions are the default here. No dropout (departure: the
 * lab's models train deterministically from a seed; see README).
 */
import * as tf from '@tensorflow/tfjs';
import { VariableSet, dense, withHead, type SmileModelConfig, type SmileNet } from './common.ts';
import { MultiHeadSelfAttention, layerFromConfig } from './attention.ts';

/** PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(…) (Vaswani et al.). */
export function positionalEncoding(T: number, d: number): Float32Array {
  const pe = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < d; i += 2) {
      const a = t / Math.pow(10_000, i / d);
      pe[t * d + i] = Math.sin(a);
      if (i + 1 < d) pe[t * d + i + 1] = Math.cos(a);
    }
  }
  return pe;
}

function layerNorm(x: tf.Tensor2D, gamma: tf.Variable, beta: tf.Variable): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), gamma), beta) as tf.Tensor2D;
}

export interface TransformerParts {
  /** The attention layers' serialised configs, in order (stored in the checkpoint). */
  attentionConfigs: { className: string; config: tf.serialization.ConfigDict }[];
}

export function buildTransformer(cfg: SmileModelConfig, seed: number, parts?: TransformerParts): SmileNet & TransformerParts {
  const d = cfg.hidden;
  const T = cfg.seqLength;
  const vs = new VariableSet(seed);
  const wIn = vs.add('embed.w', [cfg.nInputs, d], 'glorot');
  const bIn = vs.add('embed.b', [d], 'zeros');
  const pe = tf.keep(tf.tensor2d(positionalEncoding(T, d), [T, d]));
  const blocks = Array.from({ length: cfg.layers }, (_, l) => {
    const saved = parts?.attentionConfigs[l];
    const attn = saved ? layerFromConfig(saved.className, saved.config) : new MultiHeadSelfAttention({ dModel: d, numHeads: cfg.heads, name: `enc${l}_attn` });
    if (!(attn instanceof MultiHeadSelfAttention)) throw new Error(`encoder layer ${l}: not a MultiHeadSelfAttention`);
    for (const [n, v] of attn.namedVariables()) vs.adopt(`enc${l}.attn.${n}`, v, n.startsWith('w') ? 'glorot' : 'zeros');
    return {
      attn,
      ln1g: vs.add(`enc${l}.ln1.gamma`, [d], 'ones'),
      ln1b: vs.add(`enc${l}.ln1.beta`, [d], 'zeros'),
      w1: vs.add(`enc${l}.ff.w1`, [d, cfg.ffDim], 'glorot'),
      b1: vs.add(`enc${l}.ff.b1`, [cfg.ffDim], 'zeros'),
      w2: vs.add(`enc${l}.ff.w2`, [cfg.ffDim, d], 'glorot'),
      b2: vs.add(`enc${l}.ff.b2`, [d], 'zeros'),
      ln2g: vs.add(`enc${l}.ln2.gamma`, [d], 'ones'),
      ln2b: vs.add(`enc${l}.ln2.beta`, [d], 'zeros'),
    };
  });
  const net = withHead(
    cfg,
    vs,
    d,
    (x) => {
      const [B, , F] = x.shape;
      const emb = tf.add(tf.reshape(dense(tf.reshape(x, [B * T, F]) as tf.Tensor2D, wIn, bIn), [B, T, d]), pe);
      let h = tf.reshape(emb, [B * T, d]) as tf.Tensor2D;
      for (const b of blocks) {
        const a = tf.reshape(b.attn.apply(tf.reshape(h, [B, T, d])) as tf.Tensor, [B * T, d]);
        h = layerNorm(tf.add(h, a), b.ln1g, b.ln1b);
        const f = dense(tf.relu(dense(h, b.w1, b.b1)), b.w2, b.b2);
        h = layerNorm(tf.add(h, f), b.ln2g, b.ln2b);
      }
      return tf.reshape(tf.slice(tf.reshape(h, [B, T, d]), [0, T - 1, 0], [B, 1, d]), [B, d]) as tf.Tensor2D;
    },
    () => pe.dispose(),
  );
  return { ...net, attentionConfigs: blocks.map((b) => ({ className: MultiHeadSelfAttention.className, config: b.attn.getConfig() })) };
}
