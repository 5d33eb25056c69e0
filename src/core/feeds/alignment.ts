/**
 * As-of alignment — the seed's align_binance_deribit (pandas merge_asof, direction="backward"):
 * each left time takes the latest right time at or before it, if that is within `tolerance`.
 * Same edge rules as pandas: an exact match counts, the tolerance bound is inclusive, and among
 * equal right times the one that comes last in the input wins. Inputs need not be sorted.
 */
import { InputError } from '../errors.ts';

/** "15m", "1h", "90s", "2d", "500ms" or a plain number of ms → milliseconds. */
export function parseDuration(text: string | number, where = 'tolerance'): number {
  if (typeof text === 'number') {
    if (!(text >= 0)) throw new InputError(`must be a non-negative duration, got ${text}`, where);
    return text;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$/.exec(text);
  if (!m) throw new InputError(`"${text}" is not a duration (like 15m, 1h, 90s, 2d)`, where);
  const unit = { ms: 1, s: 1e3, m: 6e4, min: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] ?? 'ms']!;
  return Number(m[1]) * unit;
}

/**
 * For each left[i], the index into `right` of its backward as-of match, or -1.
 * Runs in O((n + m) log m).
 */
export function asofBackward(left: ArrayLike<number>, right: ArrayLike<number>, toleranceMs: number, where = { left: 'series', right: 'snapshots' }): Int32Array {
  if (!(toleranceMs >= 0)) throw new InputError(`tolerance must be ≥ 0, got ${toleranceMs}`, 'tolerance');
  const order: number[] = [];
  for (let j = 0; j < right.length; j++) {
    if (!Number.isFinite(right[j])) throw new InputError(`row ${j}: timestamp is ${right[j]}`, where.right);
    order.push(j);
  }
  // Stable sort: among equal times the original order is kept, so the last of them is the one
  // a backward search lands on.
  order.sort((a, b) => right[a]! - right[b]!);
  const times = order.map((j) => right[j]!);
  const out = new Int32Array(left.length).fill(-1);
  for (let i = 0; i < left.length; i++) {
    const t = left[i]!;
    if (!Number.isFinite(t)) throw new InputError(`row ${i}: timestamp is ${t}`, where.left);
    // Last position with times[pos] <= t.
    let lo = 0;
    let hi = times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (times[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const pos = lo - 1;
    if (pos >= 0 && t - times[pos]! <= toleranceMs) out[i] = order[pos]!;
  }
  return out;
}

export interface SnapshotRef {
  id: string;
  timestamp: number;
}

export interface Alignment {
  /** Per series row: the id of its snapshot, or null when none lies within tolerance. */
  surfaceId: (string | null)[];
  /** Per series row: index into the snapshot list, or -1. */
  surfaceIndex: Int32Array;
  /** Per series row: how old the matched snapshot is at that row (ms), NaN when unmatched. */
  ageMs: Float64Array;
  matched: number;
}

/** The seed's align_binance_deribit: series rows × snapshot index → per-row snapshot. */
export function alignBinanceDeribit(seriesTimes: ArrayLike<number>, snapshots: SnapshotRef[], toleranceMs: number): Alignment {
  const idx = asofBackward(
    seriesTimes,
    snapshots.map((s) => s.timestamp),
    toleranceMs,
  );
  const ageMs = new Float64Array(idx.length);
  let matched = 0;
  const surfaceId = Array.from(idx, (j, i) => {
    if (j < 0) {
      ageMs[i] = NaN;
      return null;
    }
    matched++;
    ageMs[i] = seriesTimes[i]! - snapshots[j]!.timestamp;
    return snapshots[j]!.id;
  });
  return { surfaceId, surfaceIndex: idx, ageMs, matched };
}
