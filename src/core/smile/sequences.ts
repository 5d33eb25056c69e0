/**
 * From quotes to training windows, without leaking the future.
 *
 *  - Splits by time: the distinct quote timestamps, in order, are cut 70 / 15 / 15 % (default) into
 *    train, validation and test periods; a window belongs to the period of its TARGET, so every
 *    training target precedes every validation target, which precedes every test target. Nothing
 *    is shuffled across time (batches are shuffled only inside the training period).
 *  - StandardScaler (sklearn's: mean and population std per column) is fitted on the quotes of the
 *    training period only. Fitting it on all the data, as a naive pipeline does, puts the test
 *    period's mean and spread of spot, dte and moneyness into every input the model sees.
 *  - Sequences follow one contract, grouped by (expiry, strike, right) as the seed does; a gap
 *    longer than `maxGapIntervals` sampling intervals (and, in an equity session, any change of
 *    local day: nights, weekends, holidays) splits the contract's history into segments that no
 *    window crosses. The target is the same contract's IV at the next quote of its segment.
 *  - Inputs: the original design's seven features ('original'), or those plus the contract's past IV in the
 *    window ('original+iv', the default: a next-step IV forecast that cannot see the current IV has to
 *    guess the level from moneyness and time alone). Target: the next IV ('level') or its change
 *    from the last IV of the window ('change'); either is standardised with training statistics.
 */
import { InputError } from '../errors.ts';
import { featureMatrix, N_SEED_FEATURES, SEED_FEATURES } from './optionFeatures.ts';
import { contractKey, type QuoteRecord } from './quotes.ts';
import { localDayKey, type SessionConfig } from './session.ts';

export type SmileTarget = 'level' | 'change';
export type SmileInputs = 'original' | 'original+iv';

export interface DatasetConfig {
  /** Quotes per input window (the seed's SEQ_LENGTH; 10 in its code, 20 the CLI default). */
  seqLength: number;
  /** Predict the next IV ('level') or its change from the window's last IV ('change'). */
  target: SmileTarget;
  /** The original design's seven features only ('original'), or those plus the contract's past IVs ('original+iv'). */
  inputs: SmileInputs;
  /** Share of timestamps in the training period (the earliest). */
  trainFraction: number;
  /** Share of timestamps in the validation period (next); the rest is the test period. */
  valFraction: number;
  /** A contract's quotes further apart than this many sampling intervals start a new segment. */
  maxGapIntervals: number;
  /** Sampling interval in ms; null: the median step between distinct timestamps. */
  samplingMs: number | null;
}

export const DEFAULT_DATASET_CONFIG: DatasetConfig = {
  seqLength: 20,
  target: 'level',
  inputs: 'original+iv',
  trainFraction: 0.7,
  valFraction: 0.15,
  maxGapIntervals: 3,
  samplingMs: null,
};

export function inputNames(inputs: SmileInputs): string[] {
  return inputs === 'original' ? [...SEED_FEATURES] : [...SEED_FEATURES, 'iv'];
}

// ---------------------------------------------------------------------------------------------
// StandardScaler

export interface ScalerState {
  names: string[];
  mean: number[];
  std: number[];
  /** Rows the statistics came from. */
  n: number;
}

export class StandardScaler {
  constructor(readonly state: ScalerState) {}

  /**
   * Fits on the rows `rows` of the row-major matrix `m` [*, d]. A constant column gets std 1 (it
   * is centred, not blown up), as sklearn does.
   */
  static fit(m: Float64Array, d: number, rows: ArrayLike<number>, names: string[]): StandardScaler {
    const mean = new Float64Array(d);
    const m2 = new Float64Array(d);
    let n = 0;
    for (let r = 0; r < rows.length; r++) {
      const o = rows[r]! * d;
      n++;
      for (let j = 0; j < d; j++) {
        const x = m[o + j]!;
        const delta = x - mean[j]!;
        mean[j]! += delta / n;
        m2[j]! += delta * (x - mean[j]!);
      }
    }
    if (n === 0) throw new InputError('no rows to fit the scaler on (the training period is empty)', 'StandardScaler');
    const std = Array.from(m2, (v) => {
      const s = Math.sqrt(v / n);
      return s > 1e-12 ? s : 1;
    });
    return new StandardScaler({ names, mean: [...mean], std, n });
  }

  scale(j: number, x: number): number {
    return (x - this.state.mean[j]!) / this.state.std[j]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Contracts and segments

/** Median step between distinct timestamps (ms); 0 when there is only one. */
export function inferSamplingMs(quotes: readonly QuoteRecord[]): number {
  const ts = distinctTimes(quotes);
  const steps: number[] = [];
  for (let i = 1; i < ts.length; i++) steps.push(ts[i]! - ts[i - 1]!);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

export function distinctTimes(quotes: readonly QuoteRecord[]): number[] {
  return [...new Set(quotes.map((q) => q.tsMs))].sort((a, b) => a - b);
}

export interface GapRule {
  samplingMs: number;
  maxGapIntervals: number;
  session: SessionConfig;
}

/** True when a window may NOT join quotes at times a and b (a < b) of one contract. */
export function isGap(aMs: number, bMs: number, rule: GapRule): boolean {
  if (bMs - aMs > rule.maxGapIntervals * rule.samplingMs) return true;
  return rule.session.kind === 'equity' && localDayKey(aMs, rule.session.tz) !== localDayKey(bMs, rule.session.tz);
}

/**
 * Each contract's quotes (indices into `quotes`, time order) cut into gap-free segments.
 * `quotes` must be sorted by time (readQuotesCsv and QuoteStore.query return them so).
 */
export function contractSegments(quotes: readonly QuoteRecord[], rule: GapRule): number[][] {
  const byContract = new Map<string, number[]>();
  for (let i = 0; i < quotes.length; i++) {
    if (i > 0 && quotes[i]!.tsMs < quotes[i - 1]!.tsMs) throw new InputError('quotes must be sorted by time', 'contractSegments');
    const k = contractKey(quotes[i]!);
    let list = byContract.get(k);
    if (!list) byContract.set(k, (list = []));
    list.push(i);
  }
  const segments: number[][] = [];
  for (const list of byContract.values()) {
    let seg: number[] = [list[0]!];
    for (let j = 1; j < list.length; j++) {
      if (isGap(quotes[list[j - 1]!]!.tsMs, quotes[list[j]!]!.tsMs, rule)) {
        segments.push(seg);
        seg = [];
      }
      seg.push(list[j]!);
    }
    segments.push(seg);
  }
  return segments;
}

// ---------------------------------------------------------------------------------------------
// Windows

export interface SequenceSet {
  n: number;
  seqLength: number;
  nInputs: number;
  /** Scaled inputs [n, seqLength, nInputs], row-major. */
  x: Float32Array;
  /** Scaled target [n]. */
  y: Float32Array;
  /** Last IV of each window, and the realised next IV (decimals). */
  lastIv: Float64Array;
  nextIv: Float64Array;
  /** Index (into the quotes) of each window's last input quote and of its target quote. */
  lastIndex: Int32Array;
  targetIndex: Int32Array;
}

export interface TargetScale {
  mean: number;
  std: number;
}

export interface SmileDataset {
  config: DatasetConfig;
  names: string[];
  scaler: StandardScaler;
  targetScale: TargetScale;
  samplingMs: number;
  /** First timestamp of the validation and of the test period. */
  valStartMs: number;
  testStartMs: number;
  train: SequenceSet;
  val: SequenceSet;
  test: SequenceSet;
  /** Feature matrix [nQuotes, 7] of the quotes (float64, unscaled), for buckets and predictions. */
  features: Float64Array;
}

/** The unscaled input row of quote i: the seven features, then its IV when inputs = 'original+iv'. */
function inputRow(features: Float64Array, quotes: readonly QuoteRecord[], i: number, withIv: boolean, out: Float64Array): Float64Array {
  for (let j = 0; j < N_SEED_FEATURES; j++) out[j] = features[i * N_SEED_FEATURES + j]!;
  if (withIv) out[N_SEED_FEATURES] = quotes[i]!.iv;
  return out;
}

export function targetOf(target: SmileTarget, lastIv: number, nextIv: number): number {
  return target === 'level' ? nextIv : nextIv - lastIv;
}

export function ivFromTarget(target: SmileTarget, lastIv: number, t: number): number {
  return target === 'level' ? t : lastIv + t;
}

/** Writes the scaled window of quote indices `idx` into x at window slot w. */
export function writeWindow(x: Float32Array, w: number, idx: readonly number[], quotes: readonly QuoteRecord[], features: Float64Array, scaler: StandardScaler): void {
  const d = scaler.state.names.length;
  const withIv = d > N_SEED_FEATURES;
  const row = new Float64Array(d);
  for (let s = 0; s < idx.length; s++) {
    inputRow(features, quotes, idx[s]!, withIv, row);
    const o = (w * idx.length + s) * d;
    for (let j = 0; j < d; j++) x[o + j] = scaler.scale(j, row[j]!);
  }
}

interface WindowRef {
  seg: number[];
  /** Position of the last input quote in seg. */
  end: number;
}

function buildSet(refs: WindowRef[], quotes: readonly QuoteRecord[], features: Float64Array, scaler: StandardScaler, cfg: DatasetConfig, ts: TargetScale): SequenceSet {
  const L = cfg.seqLength;
  const d = scaler.state.names.length;
  const n = refs.length;
  const set: SequenceSet = { n, seqLength: L, nInputs: d, x: new Float32Array(n * L * d), y: new Float32Array(n), lastIv: new Float64Array(n), nextIv: new Float64Array(n), lastIndex: new Int32Array(n), targetIndex: new Int32Array(n) };
  refs.forEach((r, w) => {
    writeWindow(set.x, w, r.seg.slice(r.end - L + 1, r.end + 1), quotes, features, scaler);
    const last = r.seg[r.end]!;
    const next = r.seg[r.end + 1]!;
    set.lastIndex[w] = last;
    set.targetIndex[w] = next;
    set.lastIv[w] = quotes[last]!.iv;
    set.nextIv[w] = quotes[next]!.iv;
    set.y[w] = (targetOf(cfg.target, quotes[last]!.iv, quotes[next]!.iv) - ts.mean) / ts.std;
  });
  return set;
}

export function checkDatasetConfig(cfg: DatasetConfig, where = 'dataset'): void {
  if (!Number.isInteger(cfg.seqLength) || cfg.seqLength < 1) throw new InputError(`seqLength must be a positive integer (got ${cfg.seqLength})`, where);
  if (!(cfg.trainFraction > 0 && cfg.valFraction >= 0 && cfg.trainFraction + cfg.valFraction < 1)) {
    throw new InputError(`trainFraction ${cfg.trainFraction} and valFraction ${cfg.valFraction} must leave a test period (train > 0, val ≥ 0, train + val < 1)`, where);
  }
  if (!(cfg.maxGapIntervals >= 1)) throw new InputError(`maxGapIntervals must be ≥ 1 (got ${cfg.maxGapIntervals})`, where);
}

/** Windows, splits and scaler from time-sorted quotes. */
export function buildSmileDataset(quotes: readonly QuoteRecord[], config: Partial<DatasetConfig>, session: SessionConfig, where = 'quotes'): SmileDataset {
  const cfg: DatasetConfig = { ...DEFAULT_DATASET_CONFIG, ...config };
  checkDatasetConfig(cfg);
  const times = distinctTimes(quotes);
  if (times.length < 3) throw new InputError(`${times.length} distinct timestamps: need at least 3 to split into train, validation and test periods`, where);
  const samplingMs = cfg.samplingMs ?? inferSamplingMs(quotes);
  const nTrainT = Math.max(1, Math.floor(times.length * cfg.trainFraction));
  const nValT = Math.floor(times.length * cfg.valFraction);
  const valStartMs = times[Math.min(nTrainT, times.length - 1)]!;
  const testStartMs = times[Math.min(nTrainT + nValT, times.length - 1)]!;
  const features = featureMatrix(quotes, session);
  const names = inputNames(cfg.inputs);
  const withIv = cfg.inputs === 'original+iv';
  // Scaler statistics: quotes of the training period only.
  const trainRows: number[] = [];
  for (let i = 0; i < quotes.length; i++) if (quotes[i]!.tsMs < valStartMs) trainRows.push(i);
  const d = names.length;
  const m = new Float64Array(trainRows.length * d);
  const row = new Float64Array(d);
  trainRows.forEach((i, r) => m.set(inputRow(features, quotes, i, withIv, row), r * d));
  const scaler = StandardScaler.fit(m, d, Int32Array.from({ length: trainRows.length }, (_, r) => r), names);

  const refs: Record<'train' | 'val' | 'test', WindowRef[]> = { train: [], val: [], test: [] };
  for (const seg of contractSegments(quotes, { samplingMs, maxGapIntervals: cfg.maxGapIntervals, session })) {
    for (let end = cfg.seqLength - 1; end + 1 < seg.length; end++) {
      const t = quotes[seg[end + 1]!]!.tsMs;
      refs[t < valStartMs ? 'train' : t < testStartMs ? 'val' : 'test'].push({ seg, end });
    }
  }
  if (refs.train.length === 0) {
    throw new InputError(`no training window: no contract has ${cfg.seqLength + 1} consecutive quotes without a gap in the training period (shorten seqLength or bring more quotes)`, where);
  }
  if (refs.test.length === 0) throw new InputError('no test window: the test period holds no contract with a full window before its quote', where);
  // Windows in time order (then contract), so a set reads like the tape it came from.
  for (const k of ['train', 'val', 'test'] as const) refs[k].sort((a, b) => a.seg[a.end + 1]! - b.seg[b.end + 1]!);
  let sum = 0;
  let sum2 = 0;
  for (const r of refs.train) {
    const v = targetOf(cfg.target, quotes[r.seg[r.end]!]!.iv, quotes[r.seg[r.end + 1]!]!.iv);
    sum += v;
    sum2 += v * v;
  }
  const nT = refs.train.length;
  const mean = sum / nT;
  const sd = Math.sqrt(Math.max(0, sum2 / nT - mean * mean));
  const targetScale = { mean, std: sd > 1e-12 ? sd : 1 };
  return {
    config: cfg,
    names,
    scaler,
    targetScale,
    samplingMs,
    valStartMs,
    testStartMs,
    features,
    train: buildSet(refs.train, quotes, features, scaler, cfg, targetScale),
    val: buildSet(refs.val, quotes, features, scaler, cfg, targetScale),
    test: buildSet(refs.test, quotes, features, scaler, cfg, targetScale),
  };
}
