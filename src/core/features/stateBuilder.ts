/**
 * StateBuilder (seed III): turns each raw feature vector into what the agent sees.
 *
 *   Normalizer    z = clip((x − mean) / max(std, stdFloor), ±clipValue), with mean and the
 *                 POPULATION std of a RunningStats over every row seen so far; update first, then
 *                 normalise, as the seed's normalize(x, update_stats=True), so the row itself is
 *                 part of its own statistics (the first row of a stream is therefore all zeros:
 *                 x − mean = 0 with std floored at 1e-8). clipValue 5 and stdFloor 1e-8 are the
 *                 seed's. Frozen mode (evaluation, backtests) normalises with the statistics
 *                 learnt so far and never updates them, so a test span cannot leak into them.
 *   StateBuffer   a circular [window × dim] buffer (window 16). getState() returns the rows
 *                 oldest → newest (t−15 … t); before it has `window` rows the missing oldest rows
 *                 are zeros (0 is the running mean in z units: "no information").
 *   StateBuilder  Normalizer + StateBuffer: buildState(x) = push(normalize(x)) and return the
 *                 window (seed III.4). The vectorised environment shares ONE StateBuilder — one
 *                 set of statistics, updated by every environment's rows in environment order —
 *                 with one StateBuffer per environment (newBuffer(), pushRow()).
 *
 * Cost per row: O(dim) for the normalisation (one sqrt per feature) and one row write; reading the
 * window is two TypedArray.set copies (window·dim floats). Buffers hold float32 (what the policy
 * network eats; z-scores clipped to ±5 lose nothing that matters at 2^-24 relative), statistics
 * float64. toJSON / fromJSON carry the statistics, window, clip and floor, so an agent checkpoint
 * restores exactly the normalisation its policy was trained with.
 *
 * Departure from the seed: its reset() "remet le StateBuilder à zéro". Here reset clears the
 * window only, not the statistics: re-learning mean and std at every episode start would make the
 * first steps of every episode all-zero or ±clip (one sample has zero spread), and a checkpoint
 * could not carry one set of statistics.
 */
import { InputError } from '../errors.ts';
import { RunningStats, type RunningStatsJson } from '../math/runningStats.ts';

export interface NormalizerOptions {
  /** |z| is clipped to this (seed: 5). */
  clipValue?: number;
  /** std below this is replaced by it, so a constant feature maps to 0, not NaN (1e-8). */
  stdFloor?: number;
}

export const DEFAULT_CLIP_VALUE = 5;
export const DEFAULT_STD_FLOOR = 1e-8;
export const DEFAULT_WINDOW = 16;

export interface NormalizerJson {
  clipValue: number;
  stdFloor: number;
  frozen: boolean;
  stats: RunningStatsJson;
}

type Row = Float32Array | Float64Array;

export class Normalizer {
  readonly dim: number;
  readonly clipValue: number;
  readonly stdFloor: number;
  stats: RunningStats;
  /** When true, normalize() never updates the statistics (evaluation). */
  frozen = false;

  constructor(dim: number, opts: NormalizerOptions = {}) {
    this.dim = dim;
    this.clipValue = opts.clipValue ?? DEFAULT_CLIP_VALUE;
    this.stdFloor = opts.stdFloor ?? DEFAULT_STD_FLOOR;
    if (!(this.clipValue > 0)) throw new Error(`Normalizer: clipValue must be > 0, got ${this.clipValue}`);
    if (!(this.stdFloor > 0)) throw new Error(`Normalizer: stdFloor must be > 0, got ${this.stdFloor}`);
    this.stats = new RunningStats(dim);
  }

  /**
   * The seed's normalize(x, update_stats): updates the statistics with x (unless frozen or
   * updateStats is false), then returns its clipped z-score in a new Float64Array.
   */
  normalize(x: ArrayLike<number>, updateStats = true): Float64Array {
    const out = new Float64Array(this.dim);
    this.normalizeInto(x, 0, out, 0, updateStats);
    return out;
  }

  /** Allocation-free form: reads x[xOffset …], writes out[outOffset …]. */
  normalizeInto(x: ArrayLike<number>, xOffset: number, out: Row, outOffset: number, updateStats = true): void {
    const s = this.stats;
    if (updateStats && !this.frozen) s.update(x, xOffset);
    const n = s.count;
    const mean = s.mean;
    const m2 = s.m2;
    const clip = this.clipValue;
    const floor = this.stdFloor;
    for (let i = 0; i < this.dim; i++) {
      const sd = n > 0 ? Math.sqrt(m2[i]! / n) : 0;
      let z = (x[xOffset + i]! - mean[i]!) / (sd > floor ? sd : floor);
      if (z > clip) z = clip;
      else if (z < -clip) z = -clip;
      out[outOffset + i] = z;
    }
  }

  freeze(): void {
    this.frozen = true;
  }

  unfreeze(): void {
    this.frozen = false;
  }

  toJSON(): NormalizerJson {
    return { clipValue: this.clipValue, stdFloor: this.stdFloor, frozen: this.frozen, stats: this.stats.toJSON() };
  }

  static fromJSON(j: unknown, where = 'normalizer'): Normalizer {
    if (typeof j !== 'object' || j === null) throw new InputError('must be an object', where);
    const o = j as Record<string, unknown>;
    for (const key of ['clipValue', 'stdFloor'] as const) {
      const v = o[key];
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new InputError(`must be a positive number, got ${JSON.stringify(v)}`, `${where}: ${key}`);
    }
    if (typeof o.frozen !== 'boolean') throw new InputError(`must be true or false, got ${JSON.stringify(o.frozen)}`, `${where}: frozen`);
    const stats = RunningStats.fromJSON(o.stats, `${where}: stats`);
    const n = new Normalizer(stats.dim, { clipValue: o.clipValue as number, stdFloor: o.stdFloor as number });
    n.stats = stats;
    n.frozen = o.frozen;
    return n;
  }
}

export class StateBuffer {
  readonly window: number;
  readonly dim: number;
  /** window × dim rows in slot order (not time order); float32. */
  readonly data: Float32Array;
  /** The slot the next row goes to. */
  private head = 0;
  /** Rows pushed since the last reset (capped at window). */
  filled = 0;

  constructor(window: number, dim: number) {
    if (!Number.isInteger(window) || window < 1) throw new Error(`StateBuffer: window must be a positive integer, got ${window}`);
    this.window = window;
    this.dim = dim;
    this.data = new Float32Array(window * dim);
  }

  /** Empties the buffer: every row zero again. */
  reset(): void {
    this.data.fill(0);
    this.head = 0;
    this.filled = 0;
  }

  /** Copies row[offset … offset + dim) in as the newest row. */
  push(row: ArrayLike<number>, offset = 0): void {
    const base = this.head * this.dim;
    for (let i = 0; i < this.dim; i++) this.data[base + i] = row[offset + i]!;
    this.advance();
  }

  /** Where the next row goes in `data` (for writing it in place, then advance()). */
  nextRowOffset(): number {
    return this.head * this.dim;
  }

  advance(): void {
    this.head = this.head + 1 === this.window ? 0 : this.head + 1;
    if (this.filled < this.window) this.filled++;
  }

  /**
   * The window oldest → newest, flattened [window·dim]. Slots head … window−1 hold the oldest rows
   * (zeros while the buffer fills, since reset zeroes them), slots 0 … head−1 the newest.
   */
  getState(out: Float32Array = new Float32Array(this.window * this.dim), outOffset = 0): Float32Array {
    const split = this.head * this.dim;
    const total = this.window * this.dim;
    out.set(this.data.subarray(split, total), outOffset);
    out.set(this.data.subarray(0, split), outOffset + total - split);
    return out;
  }
}

export interface StateBuilderOptions extends NormalizerOptions {
  /** Rows stacked in a state (seed: 16). */
  window?: number;
}

export interface StateBuilderJson {
  window: number;
  dim: number;
  normalizer: NormalizerJson;
}

export class StateBuilder {
  readonly dim: number;
  readonly window: number;
  normalizer: Normalizer;
  /** The buffer of the seed's single-stream API (buildState); environments own their own. */
  readonly buffer: StateBuffer;

  constructor(dim: number, opts: StateBuilderOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`StateBuilder: dim must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.normalizer = new Normalizer(dim, opts);
    this.buffer = new StateBuffer(this.window, dim);
  }

  /** Flattened state length window·dim. */
  get stateSize(): number {
    return this.window * this.dim;
  }

  get frozen(): boolean {
    return this.normalizer.frozen;
  }

  freeze(): void {
    this.normalizer.freeze();
  }

  unfreeze(): void {
    this.normalizer.unfreeze();
  }

  /** Seed III.4: normalise (updating the statistics unless frozen), push, return [window·dim] oldest → newest. */
  buildState(featureVec: ArrayLike<number>, out?: Float32Array): Float32Array {
    this.pushRow(this.buffer, featureVec, 0);
    return this.buffer.getState(out);
  }

  /** Clears the own buffer (statistics kept; see the header). */
  reset(): void {
    this.buffer.reset();
  }

  newBuffer(): StateBuffer {
    return new StateBuffer(this.window, this.dim);
  }

  /** Normalises x[xOffset …] straight into `buffer`'s next row: no intermediate copy. */
  pushRow(buffer: StateBuffer, x: ArrayLike<number>, xOffset: number, updateStats = true): void {
    this.normalizer.normalizeInto(x, xOffset, buffer.data, buffer.nextRowOffset(), updateStats);
    buffer.advance();
  }

  toJSON(): StateBuilderJson {
    return { window: this.window, dim: this.dim, normalizer: this.normalizer.toJSON() };
  }

  static fromJSON(j: unknown, where = 'stateBuilder'): StateBuilder {
    if (typeof j !== 'object' || j === null) throw new InputError('must be an object', where);
    const o = j as Record<string, unknown>;
    const window = o.window;
    if (typeof window !== 'number' || !Number.isInteger(window) || window < 1) throw new InputError(`must be a positive integer, got ${JSON.stringify(window)}`, `${where}: window`);
    const normalizer = Normalizer.fromJSON(o.normalizer, `${where}: normalizer`);
    if (o.dim !== normalizer.dim) throw new InputError(`is ${JSON.stringify(o.dim)} but the statistics have ${normalizer.dim} features`, `${where}: dim`);
    const sb = new StateBuilder(normalizer.dim, { window, clipValue: normalizer.clipValue, stdFloor: normalizer.stdFloor });
    sb.normalizer = normalizer;
    return sb;
  }
}
