/**
 * RunningStats (seed III.1): the online mean and variance of a stream of D-dimensional vectors,
 * one Welford recursion per component (all components share one count, because a feature vector
 * arrives whole). Welford rather than Σx, Σx²: with feature levels like a BTC price (~6e4) and
 * variances ~1, Σx² − n·mean² cancels ~9 significant digits and can go negative; Welford's
 * M2 = Σ(x − mean)² keeps full precision (the test holds it to a two-pass computation at 1e-9
 * relative on data offset by 1e6, where Σx² − n·mean² is off by ~1e-5).
 *
 *   update(x):  n += 1; δ = x − mean; mean += δ / n; M2 += δ·(x − mean)
 *   merge(b):   Chan et al. (1979): n = nₐ + n_b; δ = mean_b − meanₐ;
 *               mean = meanₐ + δ·n_b / n; M2 = M2ₐ + M2_b + δ²·nₐ·n_b / n
 *
 * so statistics gathered by N parallel environments (or workers) combine into the ones a single
 * pass over all their samples would give. Population variance M2 / n is what the Normalizer uses
 * (the seed normalises by the stream's own spread); the sample variance M2 / (n − 1) is here for
 * estimators. toJSON / fromJSON carry the exact Float64 state (JSON numbers round-trip doubles),
 * so an agent checkpoint restores bit-identical normalisation.
 */
import { InputError } from '../errors.ts';

export interface RunningStatsJson {
  dim: number;
  count: number;
  mean: number[];
  m2: number[];
}

export class RunningStats {
  readonly dim: number;
  /** Samples seen. */
  count = 0;
  /** Per-component running mean. */
  readonly mean: Float64Array;
  /** Per-component Σ(x − mean)². */
  readonly m2: Float64Array;

  constructor(dim = 1) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`RunningStats: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim);
  }

  /** Adds one sample: x[offset … offset + dim). */
  update(x: ArrayLike<number>, offset = 0): void {
    const n = ++this.count;
    const mean = this.mean;
    const m2 = this.m2;
    for (let i = 0; i < this.dim; i++) {
      const v = x[offset + i]!;
      const d = v - mean[i]!;
      const m = mean[i]! + d / n;
      mean[i] = m;
      m2[i] = m2[i]! + d * (v - m);
    }
  }

  /** Folds `other` into this (Chan's parallel formula); `other` is unchanged. */
  merge(other: RunningStats): this {
    if (other.dim !== this.dim) throw new Error(`RunningStats.merge: dim ${other.dim} ≠ ${this.dim}`);
    const na = this.count;
    const nb = other.count;
    if (nb === 0) return this;
    const n = na + nb;
    for (let i = 0; i < this.dim; i++) {
      const d = other.mean[i]! - this.mean[i]!;
      this.mean[i] = this.mean[i]! + (d * nb) / n;
      this.m2[i] = this.m2[i]! + other.m2[i]! + (d * d * na * nb) / n;
    }
    this.count = n;
    return this;
  }

  /** Population variance M2 / n of component i (0 before any sample). */
  variance(i = 0): number {
    return this.count > 0 ? this.m2[i]! / this.count : 0;
  }

  /** Sample (Bessel-corrected) variance M2 / (n − 1) of component i (0 with fewer than 2 samples). */
  sampleVariance(i = 0): number {
    return this.count > 1 ? this.m2[i]! / (this.count - 1) : 0;
  }

  /** Population standard deviation of component i. */
  std(i = 0): number {
    return Math.sqrt(this.variance(i));
  }

  reset(): void {
    this.count = 0;
    this.mean.fill(0);
    this.m2.fill(0);
  }

  clone(): RunningStats {
    const c = new RunningStats(this.dim);
    c.count = this.count;
    c.mean.set(this.mean);
    c.m2.set(this.m2);
    return c;
  }

  toJSON(): RunningStatsJson {
    return { dim: this.dim, count: this.count, mean: Array.from(this.mean), m2: Array.from(this.m2) };
  }

  /** Strict: a wrong length, a negative count or M2, or a non-finite number is an InputError at `where`. */
  static fromJSON(j: unknown, where = 'runningStats'): RunningStats {
    if (typeof j !== 'object' || j === null) throw new InputError('must be an object', where);
    const o = j as Record<string, unknown>;
    const dim = o.dim;
    if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < 1) throw new InputError(`must be a positive integer, got ${JSON.stringify(dim)}`, `${where}: dim`);
    const count = o.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new InputError(`must be a non-negative integer, got ${JSON.stringify(count)}`, `${where}: count`);
    const s = new RunningStats(dim);
    s.count = count;
    for (const key of ['mean', 'm2'] as const) {
      const arr = o[key];
      if (!Array.isArray(arr) || arr.length !== dim) throw new InputError(`must be a list of ${dim} numbers`, `${where}: ${key}`);
      arr.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`must be a finite number, got ${JSON.stringify(v)}`, `${where}: ${key}[${i}]`);
        if (key === 'm2' && v < 0) throw new InputError(`must be ≥ 0, got ${v}`, `${where}: ${key}[${i}]`);
        s[key][i] = v;
      });
    }
    return s;
  }
}
