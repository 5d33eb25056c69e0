import { describe, expect, it } from 'vitest';
import { buildSmileDataset, type SequenceSet } from '../../../src/core/smile/sequences.ts';
import { CRYPTO_SESSION, SPY_SESSION } from '../../../src/core/smile/session.ts';
import type { QuoteRecord } from '../../../src/core/smile/quotes.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 6, 14, 30); // 09:30 EST, a Tuesday
const EXP = Date.UTC(2026, 2, 20, 20);

/** iv encodes (contract c, minute t): 0.1 + 0.01·c + 1e-5·t, so a window can be decoded. */
function tape(contracts: number, minutes: number[], t0 = T0): QuoteRecord[] {
  const out: QuoteRecord[] = [];
  for (const t of minutes) {
    for (let c = 0; c < contracts; c++) {
      out.push({ tsMs: t0 + t * MIN, underlying: 'SPY', expiryMs: EXP, strike: 580 + 10 * Math.floor(c / 2), right: c % 2 ? 'P' : 'C', iv: 0.1 + 0.01 * c + 1e-5 * t, spot: 590 + Math.sin(t / 7) });
    }
  }
  return out;
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

/** (contract, minute) of every step of window w, read back from its scaled iv column. */
function decode(set: SequenceSet, w: number, ivMean: number, ivStd: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < set.seqLength; s++) {
    const iv = set.x[(w * set.seqLength + s) * set.nInputs + set.nInputs - 1]! * ivStd + ivMean;
    const c = Math.round((iv - 0.1) / 0.01 - 0.25);
    out.push([c, Math.round((iv - 0.1 - 0.01 * c) / 1e-5)]);
  }
  return out;
}

describe('buildSmileDataset', () => {
  it('splits by time (70/15/15) with every target of a period after every target of the one before', () => {
    const quotes = tape(4, range(0, 200), Date.UTC(2026, 0, 6, 0, 0));
    const ds = buildSmileDataset(quotes, { seqLength: 5 }, CRYPTO_SESSION);
    const times = (s: SequenceSet) => [...s.targetIndex].map((i) => quotes[i]!.tsMs);
    expect(Math.max(...times(ds.train))).toBeLessThan(Math.min(...times(ds.val)));
    expect(Math.max(...times(ds.val))).toBeLessThan(Math.min(...times(ds.test)));
    expect(ds.valStartMs).toBe(quotes[0]!.tsMs + 140 * MIN);
    expect(ds.testStartMs).toBe(quotes[0]!.tsMs + 170 * MIN);
    // Windows of 5 and a target: every minute from 5 to 139 is a training target, per contract.
    expect(ds.train.n).toBe(4 * (140 - 5));
    expect(ds.val.n).toBe(4 * 30);
    expect(ds.test.n).toBe(4 * 30);
  });

  it('fits the scaler on the training period only: changing the test period changes no statistic', () => {
    const quotes = tape(4, range(0, 100), Date.UTC(2026, 0, 6, 0, 0));
    const a = buildSmileDataset(quotes, { seqLength: 5 }, CRYPTO_SESSION);
    const shocked = quotes.map((q) => (q.tsMs >= a.valStartMs ? { ...q, spot: q.spot * 10, iv: q.iv * 3 } : q));
    const b = buildSmileDataset(shocked, { seqLength: 5 }, CRYPTO_SESSION);
    expect(b.scaler.state).toEqual(a.scaler.state);
    expect(b.targetScale).toEqual(a.targetScale);
    expect(b.train.x).toEqual(a.train.x);
    expect(b.test.x).not.toEqual(a.test.x); // the shock is there, just not in the statistics
    // The statistics are those of the training rows: mean spot over minutes 0..69.
    const spots = quotes.filter((q) => q.tsMs < a.valStartMs).map((q) => q.spot);
    expect(a.scaler.state.mean[5]).toBeCloseTo(spots.reduce((s, v) => s + v, 0) / spots.length, 10);
    expect(a.scaler.state.n).toBe(spots.length);
  });

  it('never crosses a contract or a gap: every window is one contract at consecutive minutes', () => {
    // Minutes 0–59, a 10-minute hole (> 3 sampling intervals), then 70–129; and contract 3 misses
    // minutes 20–23 (4 intervals) on its own.
    const quotes = tape(4, [...range(0, 60), ...range(70, 130)]).filter((q) => !(Math.round((q.iv - 0.1) / 0.01 - 0.25) === 3 && (q.tsMs - T0) / MIN >= 20 && (q.tsMs - T0) / MIN < 24));
    const ds = buildSmileDataset(quotes, { seqLength: 6 }, SPY_SESSION);
    const j = ds.names.indexOf('iv');
    const [mean, std] = [ds.scaler.state.mean[j]!, ds.scaler.state.std[j]!];
    let n = 0;
    for (const set of [ds.train, ds.val, ds.test]) {
      for (let w = 0; w < set.n; w++) {
        const steps = decode(set, w, mean, std);
        const target = quotes[set.targetIndex[w]!]!;
        const [tc, tt] = [Math.round((target.iv - 0.1) / 0.01 - 0.25), (target.tsMs - T0) / MIN];
        for (let s = 1; s < steps.length; s++) expect(steps[s]![1] - steps[s - 1]![1]).toBe(1);
        expect(steps.every(([c]) => c === tc)).toBe(true);
        expect(tt - steps[steps.length - 1]![1]).toBe(1);
        expect(steps.some(([, t]) => t >= 60 && t < 70)).toBe(false);
        expect(steps[0]![1] < 60 && tt >= 70).toBe(false);
        if (tc === 3) expect(steps[0]![1] < 20 && tt >= 24).toBe(false);
        n++;
      }
    }
    // Per contract: segments of 60 and 60 minutes give 2·(60 − 6) windows; contract 3 loses the
    // minutes 20–23 and windows across them: segments 20, 36, 60 → 14 + 30 + 54.
    expect(n).toBe(3 * 2 * 54 + (14 + 30 + 54));
  });

  it('an equity session never bridges a night, however short the sampling rule makes it', () => {
    // 09:30–16:00 on two days, sampled every 30 min; maxGapIntervals is huge so only the day rule acts.
    const day = range(0, 14).map((i) => i * 30);
    const quotes = [...tape(2, day), ...tape(2, day, T0 + 86_400_000)];
    const ds = buildSmileDataset(quotes, { seqLength: 3, maxGapIntervals: 1e6 }, SPY_SESSION);
    for (const set of [ds.train, ds.val, ds.test]) {
      for (let w = 0; w < set.n; w++) {
        const firstDay = Math.floor((quotes[set.lastIndex[w]!]!.tsMs - T0) / 86_400_000);
        expect(Math.floor((quotes[set.targetIndex[w]!]!.tsMs - T0) / 86_400_000)).toBe(firstDay);
      }
    }
    expect(ds.train.n + ds.val.n + ds.test.n).toBe(2 * 2 * (14 - 3));
    // With a continuous session the same tape would bridge the night.
    const c = buildSmileDataset(quotes, { seqLength: 3, maxGapIntervals: 1e6 }, { ...SPY_SESSION, kind: 'continuous' });
    expect(c.train.n + c.val.n + c.test.n).toBe(2 * (28 - 3));
  });

  it('targets: level and change from the last IV, standardised with training statistics; seed inputs have 7 columns', () => {
    const quotes = tape(2, range(0, 60), Date.UTC(2026, 0, 6, 0, 0));
    for (const target of ['level', 'change'] as const) {
      const ds = buildSmileDataset(quotes, { seqLength: 4, target, inputs: 'original' }, CRYPTO_SESSION);
      expect(ds.train.nInputs).toBe(7);
      for (let w = 0; w < ds.test.n; w += 7) {
        const y = ds.test.y[w]! * ds.targetScale.std + ds.targetScale.mean;
        const want = target === 'level' ? ds.test.nextIv[w]! : ds.test.nextIv[w]! - ds.test.lastIv[w]!;
        expect(y).toBeCloseTo(want, 6); // float32 target
      }
    }
  });

  it('refuses data with no full window, naming what to change', () => {
    expect(() => buildSmileDataset(tape(2, range(0, 10)), { seqLength: 20 }, CRYPTO_SESSION)).toThrow(/shorten seqLength/);
    expect(() => buildSmileDataset(tape(2, range(0, 10)), { trainFraction: 0.9, valFraction: 0.2 }, CRYPTO_SESSION)).toThrow(/must leave a test period/);
  });
});
