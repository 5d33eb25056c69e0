/**
 * InverseHestonModel (seed chapter IX.1): an autoencoder with parameter heads.
 *
 *   surface [B, nk, nt, 2] ─ EncoderCNN ─ z [B, hiddenDim] ─┬─ ParamHead × 5 → z-scored params [B, 5]
 *                                                          └─ SurfaceHead   → reconstruction [B, nk·nt]
 *
 * The two input channels are the normalised implied vol and the mask (1 = masked), so a network
 * can tell "no data here" from "average vol here". The model is a plain function of named
 * tf.Variables, not a tf.layers model: convolution and pooling are patch matMuls
 * (src/core/nn/patchConv.ts) so the network trains on every backend (wasm has no conv gradient),
 * and the architecture is fully described by the small JSON `InverseTopology`, which is what a
 * checkpoint stores — loading rebuilds the model from those numbers, nothing from a file runs.
 */
import * as tf from '@tensorflow/tfjs';
import { biasAdd, denseConv2d, fastMatMul, strideMaxPool } from '../nn/patchConv.ts';
import { Rng } from '../math/rng.ts';
import { PARAM_NAMES } from '../heston/params.ts';

export interface InverseTopology {
  family: 'InverseHestonModel';
  /** Bumped whenever the forward pass changes meaning for the same weights. */
  version: 1;
  nk: number;
  nt: number;
  /** Normalised IV and mask. */
  inChannels: 2;
  /** Filters of the two conv + ReLU + max-pool blocks. */
  convChannels: [number, number];
  /** Square conv kernel size ('same' padding, stride 1). */
  kernel: number;
  /** Square max-pool size and stride ('same' padding, so a 5 × 6 grid pools to 3 × 3, then 2 × 2). */
  pool: number;
  /** Size of the latent z, the regime embedding. */
  hiddenDim: number;
  /** Hidden width of each ParamHead. */
  headHidden: number;
  /** Hidden width of the SurfaceHead. */
  surfaceHidden: number;
}

/** Limits on what a topology may ask for, so a hostile checkpoint cannot exhaust memory. */
export const TOPOLOGY_LIMITS = { maxGrid: 64, maxChannels: 256, maxKernel: 7, maxPool: 4, maxHidden: 1024 };

export function defaultTopology(nk: number, nt: number, overrides: Partial<Omit<InverseTopology, 'family' | 'version' | 'nk' | 'nt' | 'inChannels'>> = {}): InverseTopology {
  return {
    family: 'InverseHestonModel',
    version: 1,
    nk,
    nt,
    inChannels: 2,
    convChannels: overrides.convChannels ?? [16, 32],
    kernel: overrides.kernel ?? 3,
    pool: overrides.pool ?? 2,
    hiddenDim: overrides.hiddenDim ?? 96,
    headHidden: overrides.headHidden ?? 48,
    surfaceHidden: overrides.surfaceHidden ?? 96,
  };
}

export interface WeightSpec {
  name: string;
  shape: number[];
  /** Fan-in and init family, used only to initialise fresh weights. */
  init: 'he' | 'glorot' | 'zero';
  fanIn: number;
  fanOut: number;
}

export const HEAD_NAMES = PARAM_NAMES.map((p) => `head_${p}`);

function pooled(n: number, pool: number): number {
  return Math.ceil(n / pool);
}

export function flatDim(t: InverseTopology): number {
  const h = pooled(pooled(t.nk, t.pool), t.pool);
  const w = pooled(pooled(t.nt, t.pool), t.pool);
  return h * w * t.convChannels[1];
}

/** Every weight of the model, in the fixed order a checkpoint stores them. */
export function weightSpecs(t: InverseTopology): WeightSpec[] {
  const [c1, c2] = t.convChannels;
  const k = t.kernel;
  const flat = flatDim(t);
  const cells = t.nk * t.nt;
  const specs: WeightSpec[] = [
    { name: 'encoder.conv1.kernel', shape: [k, k, t.inChannels, c1], init: 'he', fanIn: k * k * t.inChannels, fanOut: c1 },
    { name: 'encoder.conv1.bias', shape: [c1], init: 'zero', fanIn: 0, fanOut: 0 },
    { name: 'encoder.conv2.kernel', shape: [k, k, c1, c2], init: 'he', fanIn: k * k * c1, fanOut: c2 },
    { name: 'encoder.conv2.bias', shape: [c2], init: 'zero', fanIn: 0, fanOut: 0 },
    { name: 'encoder.fc.w', shape: [flat, t.hiddenDim], init: 'he', fanIn: flat, fanOut: t.hiddenDim },
    { name: 'encoder.fc.b', shape: [t.hiddenDim], init: 'zero', fanIn: 0, fanOut: 0 },
  ];
  for (const head of HEAD_NAMES) {
    specs.push(
      { name: `${head}.w1`, shape: [t.hiddenDim, t.headHidden], init: 'he', fanIn: t.hiddenDim, fanOut: t.headHidden },
      { name: `${head}.b1`, shape: [t.headHidden], init: 'zero', fanIn: 0, fanOut: 0 },
      { name: `${head}.w2`, shape: [t.headHidden], init: 'glorot', fanIn: t.headHidden, fanOut: 1 },
      { name: `${head}.b2`, shape: [1], init: 'zero', fanIn: 0, fanOut: 0 },
    );
  }
  specs.push(
    { name: 'surface_head.w1', shape: [t.hiddenDim, t.surfaceHidden], init: 'he', fanIn: t.hiddenDim, fanOut: t.surfaceHidden },
    { name: 'surface_head.b1', shape: [t.surfaceHidden], init: 'zero', fanIn: 0, fanOut: 0 },
    { name: 'surface_head.w2', shape: [t.surfaceHidden, cells], init: 'glorot', fanIn: t.surfaceHidden, fanOut: cells },
    { name: 'surface_head.b2', shape: [cells], init: 'zero', fanIn: 0, fanOut: 0 },
  );
  return specs;
}

export function specSize(s: { shape: number[] }): number {
  return s.shape.reduce((a, b) => a * b, 1);
}

/** Fresh weights from a seed: He-uniform before ReLUs, Glorot-uniform for the linear outputs. */
export function initialWeights(t: InverseTopology, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of weightSpecs(t)) {
    const a = new Float32Array(specSize(s));
    if (s.init !== 'zero') {
      const limit = s.init === 'he' ? Math.sqrt(6 / s.fanIn) : Math.sqrt(6 / (s.fanIn + s.fanOut));
      for (let i = 0; i < a.length; i++) a[i] = rng.range(-limit, limit);
    }
    out.set(s.name, a);
  }
  return out;
}

export interface ForwardOutput {
  /** z-scored (transformed) parameters [B, 5], in PARAM_NAMES order. */
  params: tf.Tensor2D;
  /** Reconstructed normalised IV [B, nk·nt]. */
  recon: tf.Tensor2D;
  /** Latent z [B, hiddenDim]: the regime embedding. */
  latent: tf.Tensor2D;
}

export class InverseHestonModel {
  readonly topology: InverseTopology;
  readonly vars = new Map<string, tf.Variable>();

  constructor(topology: InverseTopology, weights: Map<string, Float32Array>) {
    this.topology = topology;
    for (const s of weightSpecs(topology)) {
      const w = weights.get(s.name);
      if (!w || w.length !== specSize(s)) throw new Error(`weight ${s.name}: expected ${specSize(s)} values, got ${w?.length ?? 'none'}`);
      this.vars.set(s.name, tf.tidy(() => tf.variable(tf.tensor(w, s.shape), true, `inv_${s.name.replace(/\./g, '_')}_${uid++}`)));
    }
  }

  static fresh(topology: InverseTopology, seed: number): InverseHestonModel {
    return new InverseHestonModel(topology, initialWeights(topology, seed));
  }

  private v(name: string): tf.Variable {
    return this.vars.get(name)!;
  }

  /** Variables a trainer updates; the five ParamHeads can be frozen (seed IX.3). */
  trainable(freezeParamHeads = false): tf.Variable[] {
    return [...this.vars.entries()].filter(([n]) => !(freezeParamHeads && n.startsWith('head_'))).map(([, v]) => v);
  }

  /**
   * EncoderCNN: two conv + ReLU + max-pool blocks, flatten, dense + ReLU → z. The convolutions
   * run as dense matMuls on the flattened NHWC maps (denseConv2d: same result as a 'same' conv,
   * far fewer kernels per step than the patch route on these small grids).
   */
  encode(x: tf.Tensor4D): tf.Tensor2D {
    const t = this.topology;
    const p = t.pool;
    const [b, h1, w1] = x.shape;
    const conv1 = denseConv2d(x.reshape([b, h1 * w1 * t.inChannels]) as tf.Tensor2D, this.v('encoder.conv1.kernel') as tf.Tensor4D, h1, w1, false);
    let h = tf.relu(biasAdd(conv1.reshape([b * h1 * w1, t.convChannels[0]]) as tf.Tensor2D, this.v('encoder.conv1.bias'))).reshape([b, h1, w1, t.convChannels[0]]) as tf.Tensor4D;
    h = strideMaxPool(h, p);
    const [, h2, w2, c2] = h.shape;
    const conv2 = denseConv2d(h.reshape([b, h2 * w2 * c2]) as tf.Tensor2D, this.v('encoder.conv2.kernel') as tf.Tensor4D, h2, w2);
    h = tf.relu(biasAdd(conv2.reshape([b * h2 * w2, t.convChannels[1]]) as tf.Tensor2D, this.v('encoder.conv2.bias'))).reshape([b, h2, w2, t.convChannels[1]]) as tf.Tensor4D;
    h = strideMaxPool(h, p);
    const flat = h.reshape([b, -1]) as tf.Tensor2D;
    return tf.relu(biasAdd(fastMatMul(flat, this.v('encoder.fc.w') as tf.Tensor2D), this.v('encoder.fc.b'))) as tf.Tensor2D;
  }

  /**
   * The five ParamHeads (dense + ReLU + dense → scalar each), evaluated together: their first
   * layers side by side in one matMul, their 1-wide output layers as one multiply-and-sum.
   */
  paramHeads(z: tf.Tensor2D): tf.Tensor2D {
    const hh = this.topology.headHidden;
    const w1 = tf.concat(HEAD_NAMES.map((h) => this.v(`${h}.w1`)), 1) as tf.Tensor2D;
    const b1 = tf.concat(HEAD_NAMES.map((h) => this.v(`${h}.b1`)), 0);
    const hidden = tf.relu(biasAdd(fastMatMul(z, w1), b1)).reshape([z.shape[0], HEAD_NAMES.length, hh]);
    const w2 = tf.stack(HEAD_NAMES.map((h) => this.v(`${h}.w2`)));
    const b2 = tf.concat(HEAD_NAMES.map((h) => this.v(`${h}.b2`)), 0);
    return tf.add(tf.sum(tf.mul(hidden, w2), 2), b2) as tf.Tensor2D;
  }

  /** SurfaceHead: dense + ReLU + dense → nk·nt normalised vols. */
  surfaceHead(z: tf.Tensor2D): tf.Tensor2D {
    const h = tf.relu(biasAdd(fastMatMul(z, this.v('surface_head.w1') as tf.Tensor2D), this.v('surface_head.b1'))) as tf.Tensor2D;
    return biasAdd(fastMatMul(h, this.v('surface_head.w2') as tf.Tensor2D), this.v('surface_head.b2'));
  }

  /** x [B, nk, nt, 2] (normalised IV, mask) → params, reconstruction and latent. Not tidied. */
  forward(x: tf.Tensor4D): ForwardOutput {
    const latent = this.encode(x);
    return { params: this.paramHeads(latent), recon: this.surfaceHead(latent), latent };
  }

  /** Current weights copied out (for checkpoints). */
  async getWeights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, Float32Array.from(await v.data()));
    return out;
  }

  parameterCount(): number {
    return weightSpecs(this.topology).reduce((a, s) => a + specSize(s), 0);
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}

let uid = 0;
