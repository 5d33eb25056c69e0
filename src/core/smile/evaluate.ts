/**
 * Honest evaluation: every error in vol points (1 vol point = 0.01 in decimal IV), always beside
 * persistence (next IV = last IV) on the SAME windows, with skill = 1 − RMSE_model / RMSE_persistence
 * (> 0: the model beats persistence; ≤ 0: it does not, and is reported as such). Buckets use what
 * is known when the forecast is made: dte and log-moneyness of the window's last quote.
 * predictSmile is the seed's future `predict_smile.py`: the next-step smile of one expiry at one
 * time, predicted against realised.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.ts';
import { throwIfAborted, yieldToEventLoop, type JobContext } from '../jobs.ts';
import type { SmileNet } from './models/registry.ts';
import { N_SEED_FEATURES, featureMatrix } from './optionFeatures.ts';
import { contractSegments, distinctTimes, ivFromTarget, writeWindow, type SequenceSet, type SmileTarget, type TargetScale } from './sequences.ts';
import { netFromCheckpoint, scalerOf, type SmileCheckpoint } from './checkpoint.ts';
import { isoTime, type OptionRight, type QuoteRecord } from './quotes.ts';

export const MATURITY_BUCKETS = [
  { name: '<7d', lo: -Infinity, hi: 7 },
  { name: '7-30d', lo: 7, hi: 30 },
  { name: '30-90d', lo: 30, hi: 90 },
  { name: '>90d', lo: 90, hi: Infinity },
] as const;
export const MONEYNESS_BUCKETS = [
  { name: '|lm|<0.05', lo: 0, hi: 0.05 },
  { name: '0.05-0.15', lo: 0.05, hi: 0.15 },
  { name: '>0.15', lo: 0.15, hi: Infinity },
] as const;

export interface ErrorStats {
  n: number;
  rmse_vol: number | null;
  mae_vol: number | null;
  persistence_rmse_vol: number | null;
  persistence_mae_vol: number | null;
  /** 1 − rmse / persistence rmse; null when undefined (no rows, or persistence exact). */
  skill: number | null;
}

export interface SmileEvaluation extends ErrorStats {
  by_maturity: Record<string, ErrorStats>;
  by_moneyness: Record<string, ErrorStats>;
}

/** Model outputs (scaled target) for every window of a set, in batches (async reads only). */
export async function predictScaled(net: SmileNet, set: Pick<SequenceSet, 'n' | 'x' | 'seqLength' | 'nInputs'>, ctx: JobContext = {}, batch = 1024): Promise<Float32Array> {
  const out = new Float32Array(set.n);
  const per = set.seqLength * set.nInputs;
  for (let s = 0; s < set.n; s += batch) {
    throwIfAborted(ctx.signal);
    const m = Math.min(batch, set.n - s);
    const y = tf.tidy(() => net.apply(tf.tensor3d(set.x.subarray(s * per, (s + m) * per), [m, set.seqLength, set.nInputs])));
    out.set((await y.data()) as Float32Array, s);
    y.dispose();
    await yieldToEventLoop();
  }
  return out;
}

/** Predicted next IVs (decimals) from scaled outputs. */
export function toIv(scaled: Float32Array, lastIv: Float64Array, target: SmileTarget, ts: TargetScale): Float64Array {
  return Float64Array.from(scaled, (v, i) => ivFromTarget(target, lastIv[i]!, v * ts.std + ts.mean));
}

function stats(rows: number[], pred: Float64Array, set: Pick<SequenceSet, 'lastIv' | 'nextIv'>): ErrorStats {
  if (rows.length === 0) return { n: 0, rmse_vol: null, mae_vol: null, persistence_rmse_vol: null, persistence_mae_vol: null, skill: null };
  let se = 0;
  let ae = 0;
  let pse = 0;
  let pae = 0;
  for (const i of rows) {
    const e = (pred[i]! - set.nextIv[i]!) * 100;
    const p = (set.lastIv[i]! - set.nextIv[i]!) * 100;
    se += e * e;
    ae += Math.abs(e);
    pse += p * p;
    pae += Math.abs(p);
  }
  const n = rows.length;
  const rmse = Math.sqrt(se / n);
  const prmse = Math.sqrt(pse / n);
  return { n, rmse_vol: rmse, mae_vol: ae / n, persistence_rmse_vol: prmse, persistence_mae_vol: pae / n, skill: prmse > 0 ? 1 - rmse / prmse : null };
}

/** Errors of `predIv` on a set, overall and per bucket; `features` is the quotes' [n, 7] matrix. */
export function evaluatePredictions(set: Pick<SequenceSet, 'n' | 'lastIv' | 'nextIv' | 'lastIndex'>, predIv: Float64Array, features: Float64Array): SmileEvaluation {
  const all = Array.from({ length: set.n }, (_, i) => i);
  const dte = (i: number) => features[set.lastIndex[i]! * N_SEED_FEATURES + 1]!;
  const alm = (i: number) => Math.abs(features[set.lastIndex[i]! * N_SEED_FEATURES]!);
  const by = (buckets: readonly { name: string; lo: number; hi: number }[], f: (i: number) => number) =>
    Object.fromEntries(buckets.map((b) => [b.name, stats(all.filter((i) => f(i) >= b.lo && f(i) < b.hi), predIv, set)]));
  return { ...stats(all, predIv, set), by_maturity: by(MATURITY_BUCKETS, dte), by_moneyness: by(MONEYNESS_BUCKETS, alm) };
}

// ---------------------------------------------------------------------------------------------
// predictSmile

export interface SmilePoint {
  strike: number;
  right: OptionRight;
  log_moneyness: number;
  last_iv: number;
  predicted_iv: number;
  /** The contract's next quote (same segment: no gap), null when there is none yet. */
  realised_iv: number | null;
}

export interface PredictedSmile {
  /** ISO time of the last input quote. */
  at: string;
  /** ISO expiry. */
  expiry: string;
  underlying: string;
  spot: number;
  contracts: SmilePoint[];
  /** Contracts quoted at `at` with too short a history for a window (no prediction). */
  skipped: number;
}

export interface PredictSmileOptions {
  /** The expiry to predict (ms); when omitted, the nearest expiry with a prediction at `at`. */
  expiryMs?: number;
  /** A bare date: the expiry falling on this UTC calendar day (ms of its 00:00 UTC). */
  expiryDayMs?: number;
  /** Reuse a net built from the checkpoint (the live page does); otherwise one is built and freed. */
  net?: SmileNet;
}

/**
 * The next-step smile of one expiry: each contract quoted at `at` (the latest quote time ≤ atMs)
 * with a full gap-free window ending there. `quotes` must be time-sorted.
 */
export async function predictSmile(ck: SmileCheckpoint, quotes: readonly QuoteRecord[], atMs: number, opts: PredictSmileOptions = {}): Promise<PredictedSmile> {
  const times = distinctTimes(quotes);
  const at = times.filter((t) => t <= atMs).pop();
  if (at === undefined) throw new InputError(`no quote at or before ${new Date(atMs).toISOString()} (quotes start ${times.length ? new Date(times[0]!).toISOString() : 'nowhere'})`, '--at');
  const L = ck.model.seqLength;
  const segs = contractSegments(quotes, { samplingMs: ck.samplingMs, maxGapIntervals: ck.dataset.maxGapIntervals, session: ck.session });
  const candidates: { seg: number[]; end: number }[] = [];
  let skipped = 0;
  for (const seg of segs) {
    const end = seg.findIndex((i) => quotes[i]!.tsMs === at);
    if (end < 0) continue;
    if (end < L - 1) skipped++;
    else candidates.push({ seg, end });
  }
  const expiryOf = (c: { seg: number[]; end: number }) => quotes[c.seg[c.end]!]!.expiryMs;
  let chosen: number | undefined = opts.expiryMs;
  if (chosen === undefined && opts.expiryDayMs !== undefined) {
    const day = opts.expiryDayMs;
    chosen = [...new Set(candidates.map(expiryOf))].filter((e) => e >= day && e < day + 86_400_000).sort((a, b) => a - b)[0];
    if (chosen === undefined) throw new InputError(`no contract expiring on ${new Date(day).toISOString().slice(0, 10)} (UTC) has a full window at ${new Date(at).toISOString()}`, '--expiry');
  }
  if (chosen === undefined) chosen = [...new Set(candidates.map(expiryOf))].sort((a, b) => a - b)[0];
  if (chosen === undefined) throw new InputError(`no contract has ${L} gap-free quotes ending at ${new Date(at).toISOString()}`, '--at');
  const picked = candidates.filter((c) => expiryOf(c) === chosen);
  if (picked.length === 0) throw new InputError(`no contract of expiry ${new Date(chosen).toISOString()} has ${L} gap-free quotes ending at ${new Date(at).toISOString()}`, '--expiry');
  const sub: QuoteRecord[] = [];
  const idx = picked.map((c) => c.seg.slice(c.end - L + 1, c.end + 1).map((i) => (sub.push(quotes[i]!), sub.length - 1)));
  const features = featureMatrix(sub, ck.session);
  const scaler = scalerOf(ck);
  const d = ck.scaler.names.length;
  const x = new Float32Array(picked.length * L * d);
  idx.forEach((w, k) => writeWindow(x, k, w, sub, features, scaler));
  const net = opts.net ?? netFromCheckpoint(ck);
  let scaled: Float32Array;
  try {
    scaled = await predictScaled(net, { n: picked.length, x, seqLength: L, nInputs: d });
  } finally {
    if (!opts.net) net.dispose();
  }
  const lastIv = Float64Array.from(picked, (c) => quotes[c.seg[c.end]!]!.iv);
  const pred = toIv(scaled, lastIv, ck.dataset.target, ck.targetScale);
  const contracts = picked
    .map((c, k) => {
      const q = quotes[c.seg[c.end]!]!;
      const next = c.end + 1 < c.seg.length ? quotes[c.seg[c.end + 1]!]!.iv : null;
      return { strike: q.strike, right: q.right, log_moneyness: Math.log(q.strike / q.spot), last_iv: q.iv, predicted_iv: pred[k]!, realised_iv: next };
    })
    .sort((a, b) => a.strike - b.strike || (a.right < b.right ? -1 : 1));
  const q0 = quotes[picked[0]!.seg[picked[0]!.end]!]!;
  return { at: isoTime(at), expiry: isoTime(chosen), underlying: q0.underlying, spot: q0.spot, contracts, skipped };
}
