/**
 * Gymnasium's Box space: a float32 array of a fixed shape with per-element bounds (±Infinity for
 * an unbounded element). Declared by TradingEnv for its observation and action, so a policy can
 * size its input and output layers and squash its actions without reading the environment's code.
 */
import type { Rng } from '../math/rng.ts';

export class Box {
  readonly shape: readonly number[];
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly dtype = 'float32' as const;

  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape: readonly number[]) {
    this.shape = [...shape];
    const size = shape.reduce((a, b) => a * b, 1);
    this.low = new Float32Array(size);
    this.high = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      this.low[i] = typeof low === 'number' ? low : low[i]!;
      this.high[i] = typeof high === 'number' ? high : high[i]!;
      if (!(this.low[i]! <= this.high[i]!)) throw new Error(`Box: low[${i}] = ${this.low[i]} > high[${i}] = ${this.high[i]}`);
    }
  }

  get size(): number {
    return this.low.length;
  }

  /** True when x has the space's size and every element lies within its bounds (NaN never does). */
  contains(x: ArrayLike<number>): boolean {
    if (x.length !== this.size) return false;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!(v >= this.low[i]! && v <= this.high[i]!)) return false;
    }
    return true;
  }

  /** A uniform draw for bounded elements; a standard normal for unbounded ones (Gymnasium's rule). */
  sample(rng: Rng): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < out.length; i++) {
      const lo = this.low[i]!;
      const hi = this.high[i]!;
      out[i] = Number.isFinite(lo) && Number.isFinite(hi) ? rng.range(lo, hi) : rng.normal();
    }
    return out;
  }

  toJSON(): { shape: number[]; low: number[]; high: number[]; dtype: 'float32' } {
    // JSON has no Infinity: unbounded elements are written as null.
    const fin = (v: number) => (Number.isFinite(v) ? v : null) as number;
    return { shape: [...this.shape], low: Array.from(this.low, fin), high: Array.from(this.high, fin), dtype: this.dtype };
  }
}
