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

/** x [N, in] · w [in, out] + b. */
export function dense(x: tf.Tensor2D, w: tf.Variable, b: tf.Variable): tf.Tensor2D {
  return tf.add(tf.matMul(x, w as tf.Tensor2D), b) as tf.Tensor2D;
}

export function disposeAll(vars: ReadonlyMap<string, tf.Variable>): void {
  for (const v of vars.values()) v.dispose();
}
