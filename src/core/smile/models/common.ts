/**
 * What every smile forecaster is: a function of a window [B, T, F] (scaled inputs) to one number
 * per window (the scaled target), with named trainable variables so the trainer, the optimiser and
 * the checkpoint see them the same way. Weights are drawn from Rng streams (src/core/math/rng.ts),
 * one stream per variable in declaration order, so the same seed gives the same weights on any
 * backend (tfjs' own initialisers draw from its seedrandom, which a lab seed does not reach).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../math/rng.ts';

export type SmileModelKind = 'gru' | 'lstm' | 'mlp' | 'transformer';
export const SMILE_MODEL_KINDS: readonly SmileModelKind[] = ['gru', 'lstm', 'mlp', 'transformer'];

export interface SmileModelConfig {
  kind: SmileModelKind;
  seqLength: number;
  nInputs: number;
  /** GRU / LSTM hidden size, MLP hidden width, Transformer d_model. */
  hidden: number;
  /** Transformer: encoder layers and heads; feed-forward width. */
  layers: number;
  heads: number;
  ffDim: number;
}

export interface SmileNet {
  readonly config: SmileModelConfig;
  /** Trainable variables by name, in a fixed order (the checkpoint's tensor order). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Scaled windows [B, T, F] → scaled prediction [B]. Call inside tf.tidy. */
  apply(x: tf.Tensor3D): tf.Tensor1D;
  dispose(): void;
}

/** Named stream ids of the model initialisers (one per variable, offset by its position). */
export const INIT_STREAM = 0x51_0000;

export type Init = 'glorot' | 'zeros' | 'ones' | { uniform: number } | { constant: number };

/** tfjs registers variables by globally unique name; a counter keeps two models' apart. */
let variableCounter = 0;

/** The initial value of variable number `index` of a model seeded with `seed`. */
export function drawInit(seed: number, index: number, shape: number[], init: Init): tf.Tensor {
  const rng = Rng.stream(seed, INIT_STREAM + index);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (init === 'ones') data.fill(1);
  else if (init === 'glorot' || (typeof init === 'object' && 'uniform' in init)) {
    // Glorot uniform on the last two dims (fan in, fan out) of a matrix.
    const lim = init === 'glorot' ? Math.sqrt(6 / (shape[shape.length - 2]! + shape[shape.length - 1]!)) : init.uniform;
    for (let i = 0; i < size; i++) data[i] = rng.range(-lim, lim);
  } else if (typeof init === 'object' && 'constant' in init) data.fill(init.constant);
  return tf.tensor(data, shape);
}

/** Declares variables in order and draws each from its own Rng stream. */
export class VariableSet {
  readonly map = new Map<string, tf.Variable>();
  constructor(readonly seed: number) {}

  add(name: string, shape: number[], init: Init): tf.Variable {
    if (this.map.has(name)) throw new Error(`variable ${name} declared twice`);
    const t = drawInit(this.seed, this.map.size, shape, init);
    const v = tf.variable(t, true, `smile_${++variableCounter}_${name}`);
    t.dispose();
    this.map.set(name, v);
    return v;
  }

  /** Registers a variable created elsewhere (a layer's weight), initialised from the next stream. */
  adopt(name: string, v: tf.Variable, init: Init): void {
    if (this.map.has(name)) throw new Error(`variable ${name} declared twice`);
    const t = drawInit(this.seed, this.map.size, v.shape, init);
    v.assign(t);
    t.dispose();
    this.map.set(name, v);
  }
}

/**
 * a · b for 2-D tensors, with gradients computed by NON-transposed matMuls: da = dy · transpose(b),
 * db = transpose(a) · dy. tfjs's own gradient calls matMul with transposeA / transposeB, which the
 * wasm backend runs 5–15× slower than a plain one (measured at the bench shapes: dW of a
 * [1280, 64] input 18.4 ms transposed vs 2.0 ms transpose + plain; a GRU step's dh = dy · W_hᵀ
 * 1.48 ms vs 0.10 ms), so every dense and recurrent product of the smile models goes through here.
 */
const mmWithPlainGrads = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1]!)), tf.matMul(tf.transpose(saved[0]!), dy as tf.Tensor2D)],
  };
});

export function mm(a: tf.Tensor2D, b: tf.Tensor): tf.Tensor2D {
  return mmWithPlainGrads(a, b) as tf.Tensor2D;
}

const bmmWithPlainGrads = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor3D, t(saved[1]!)), tf.matMul(t(saved[0]!), dy as tf.Tensor3D)],
  };
});

/** Batched a [n, p, q] · b [n, q, r], gradients by plain batched matMuls (as mm). */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return bmmWithPlainGrads(a, b) as tf.Tensor3D;
}

/**
 * Columns [start, start + size) of a 2-D tensor. A slice, not tf.split: on wasm a split of a
 * [64, 192] gate block into two costs ~390 µs against ~170 µs for two slices (its gradient, a
 * concat, is dearer than a slice's pad too).
 */
export function cols(x: tf.Tensor2D, start: number, size: number): tf.Tensor2D {
  return tf.slice(x, [0, start], [-1, size]);
}

/** x [N, in] · w [in, out] + b. */
export function dense(x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D {
  return tf.add(mm(x, w), b) as tf.Tensor2D;
}

/**
 * A SmileNet from a body (window [B, T, F] → features [B, D]) and a linear head D → 1, declared
 * after the body's variables (so their Rng streams and checkpoint order come first).
 */
export function withHead(cfg: SmileModelConfig, vs: VariableSet, dim: number, body: (x: tf.Tensor3D) => tf.Tensor2D, dispose: () => void = () => undefined): SmileNet {
  const wo = vs.add('head.w', [dim, 1], 'glorot');
  const bo = vs.add('head.b', [1], 'zeros');
  return {
    config: cfg,
    variables: vs.map,
    apply: (x) => tf.reshape(dense(body(x), wo, bo), [-1]) as tf.Tensor1D,
    dispose: () => {
      disposeAll(vs.map);
      dispose();
    },
  };
}

export function disposeAll(vars: ReadonlyMap<string, tf.Variable>): void {
  for (const v of vars.values()) v.dispose();
}
