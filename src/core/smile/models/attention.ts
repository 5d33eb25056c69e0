/**
 * Multi-head self-attention as a registered custom tfjs layer (tfjs 4.22 has no
 * tf.layers.multiHeadAttention): written from matMul + softmax, serialisable through getConfig and
 * tf.serialization.registerClass, so a checkpoint stores its config and weights and rebuilds it by
 * class name without executing anything from the file.
 *
 *   qkv = x W_qkv + b_qkv            one matMul for the three projections, [B·T, 3d]
 *   q, k, v → [B, heads, T, d/heads]
 *   a = softmax(q kᵀ / √(d/heads)) v  per head
 *   out = concat_heads(a) W_o + b_o
 * Only ops whose gradients the wasm backend has (matMul, reshape, transpose, softmax, add, mul):
 * no gather, no einsum.
 */
import * as tf from '@tensorflow/tfjs';
import { bmm, cols, mm } from './common.ts';

export interface AttentionArgs {
  dModel: number;
  numHeads: number;
  name?: string;
}

type LayerWeight = ReturnType<tf.layers.Layer['addWeight']>;

export class MultiHeadSelfAttention extends tf.layers.Layer {
  static className = 'MultiHeadSelfAttention';
  readonly dModel: number;
  readonly numHeads: number;
  private wQkv!: LayerWeight;
  private bQkv!: LayerWeight;
  private wO!: LayerWeight;
  private bO!: LayerWeight;

  constructor(args: AttentionArgs) {
    super({ name: args.name });
    if (!(args.dModel > 0 && args.numHeads > 0 && args.dModel % args.numHeads === 0)) {
      throw new Error(`MultiHeadSelfAttention: dModel ${args.dModel} must be a positive multiple of numHeads ${args.numHeads}`);
    }
    this.dModel = args.dModel;
    this.numHeads = args.numHeads;
  }

  override build(): void {
    const d = this.dModel;
    const z = tf.initializers.zeros();
    this.wQkv = this.addWeight('w_qkv', [d, 3 * d], 'float32', z);
    this.bQkv = this.addWeight('b_qkv', [3 * d], 'float32', z);
    this.wO = this.addWeight('w_o', [d, d], 'float32', z);
    this.bO = this.addWeight('b_o', [d], 'float32', z);
    this.built = true;
  }

  /** The weights in declaration order with their names (w_qkv, b_qkv, w_o, b_o). */
  namedVariables(): [string, tf.Variable][] {
    if (!this.built) this.build();
    return [
      ['w_qkv', this.wQkv.read() as tf.Variable],
      ['b_qkv', this.bQkv.read() as tf.Variable],
      ['w_o', this.wO.read() as tf.Variable],
      ['b_o', this.bO.read() as tf.Variable],
    ];
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0]! : inputs) as tf.Tensor3D;
    const [B, T, d] = x.shape;
    const h = this.numHeads;
    const dk = d / h;
    const qkv = tf.add(mm(tf.reshape(x, [B * T, d]) as tf.Tensor2D, this.wQkv.read()), this.bQkv.read());
    // Heads folded into the batch: [B·h, T, dk]; kᵀ is transposed explicitly so every product is
    // a plain batched matMul (see mm in common.ts).
    const heads = (t: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, h, dk]), [0, 2, 1, 3]), [B * h, T, dk]) as tf.Tensor3D;
    const [q, k, v] = [0, 1, 2].map((j) => heads(cols(qkv as tf.Tensor2D, j * d, d))) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const scores = tf.mul(bmm(q, tf.transpose(k, [0, 2, 1])), 1 / Math.sqrt(dk));
    const att = tf.reshape(bmm(tf.softmax(scores) as tf.Tensor3D, v), [B, h, T, dk]);
    const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * T, d]);
    return tf.reshape(tf.add(mm(merged as tf.Tensor2D, this.wO.read()), this.bO.read()), [B, T, d]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dModel: this.dModel, numHeads: this.numHeads };
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);

/**
 * A layer rebuilt from its class name and config, through the tfjs serialisation registry (so
 * only registered classes can be named; a checkpoint cannot make the loader run anything else).
 */
export function layerFromConfig(className: string, config: tf.serialization.ConfigDict): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  if (!entry) throw new Error(`no registered layer class "${className}"`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as tf.layers.Layer;
}
