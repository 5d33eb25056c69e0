/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay decoupled from the gradient, the seed's
 * optimiser (IX.2.5). Written out rather than tf.train.adam so that (a) the decay is decoupled and
 * skips biases, and (b) the moment estimates are plain arrays a resumable checkpoint can store.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 };

export interface AdamWState {
  step: number;
  /** First and second moments per variable name. */
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

export class AdamW {
  step = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(
    private readonly vars: Map<string, tf.Variable>,
    private readonly cfg: AdamWConfig = DEFAULT_ADAMW,
  ) {
    for (const [name, w] of vars) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(w), false)));
    }
  }

  /** One update with learning rate `lr`; `grads` maps tf variable names to gradients. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.step++;
    const { beta1, beta2, eps, weightDecay } = this.cfg;
    const c1 = 1 / (1 - beta1 ** this.step);
    const c2 = 1 / (1 - beta2 ** this.step);
    tf.tidy(() => {
      for (const [name, w] of this.vars) {
        const g = grads[w.name];
        if (!g) continue; // frozen variable
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        let update = tf.div(tf.mul(m, c1), tf.add(tf.sqrt(tf.mul(v, c2)), eps));
        // Decay matrices and kernels only: shrinking biases towards 0 has no regularising value.
        if (weightDecay > 0 && w.rank >= 2) update = tf.add(update, tf.mul(w, weightDecay));
        w.assign(tf.sub(w, tf.mul(update, lr)));
      }
    });
  }

  async getState(): Promise<AdamWState> {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, t] of this.m) m[name] = Float32Array.from(await t.data());
    for (const [name, t] of this.v) v[name] = Float32Array.from(await t.data());
    return { step: this.step, m, v };
  }

  setState(s: AdamWState): void {
    this.step = s.step;
    tf.tidy(() => {
      for (const [name, t] of this.m) if (s.m[name]?.length === t.size) t.assign(tf.tensor(s.m[name]!, t.shape));
      for (const [name, t] of this.v) if (s.v[name]?.length === t.size) t.assign(tf.tensor(s.v[name]!, t.shape));
    });
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
