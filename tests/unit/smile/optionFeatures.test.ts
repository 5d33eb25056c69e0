import { describe, expect, it } from 'vitest';
import { featureMatrix, quoteFeatures, SEED_FEATURES } from '../../../src/core/smile/optionFeatures.ts';
import { CRYPTO_SESSION, SPY_SESSION } from '../../../src/core/smile/session.ts';
import type { QuoteRecord } from '../../../src/core/smile/quotes.ts';

const EXPIRY = Date.UTC(2026, 2, 20, 20); // 2026-03-20 16:00 EDT
function q(iso: string, right: 'C' | 'P' = 'C'): QuoteRecord {
  return { tsMs: Date.parse(iso), underlying: 'SPY', expiryMs: EXPIRY, strike: 600, right, iv: 0.2, spot: 590 };
}
const f = (r: QuoteRecord, s = SPY_SESSION) => Object.fromEntries(SEED_FEATURES.map((n, i) => [n, quoteFeatures(r, s)[i]!]));
const sinH = (h: number) => Math.sin((2 * Math.PI * h) / 24);
const cosH = (h: number) => Math.cos((2 * Math.PI * h) / 24);

// Expected values are worked by hand from the wall clock in New York (EST = UTC−5 until
// 2026-03-08 02:00, EDT = UTC−4 until 2026-11-01 02:00); closeness 1e-12 is float64 rounding of
// log / sin / division, far below any feature's meaningful digit.
describe('the seed features', () => {
  it('an ordinary winter row, every column', () => {
    // 2026-03-06 15:00:30Z = 10:00:30 EST; dte to 2026-03-20 20:00Z = 14 d 4 h 59 min 30 s.
    const r = f(q('2026-03-06T15:00:30Z', 'P'));
    expect(r.log_moneyness).toBeCloseTo(Math.log(600 / 590), 12);
    expect(r.dte).toBeCloseTo(14 + (4 * 3600 + 59 * 60 + 30) / 86400, 12);
    expect(r.hour_sin).toBeCloseTo(sinH(10 + 0.5 / 60), 12);
    expect(r.hour_cos).toBeCloseTo(cosH(10 + 0.5 / 60), 12);
    expect(r.minutes_since_open).toBeCloseTo(30.5, 12);
    expect(r.spot_price).toBe(590);
    expect(r.right_enc).toBe(1);
    expect(f(q('2026-03-06T15:00:30Z', 'C')).right_enc).toBe(0);
  });

  it('the open is 09:30 New York on both sides of the spring change (2026-03-08)', () => {
    // Friday before: the open is 14:30Z (EST). The seed's fixed 13:30Z would call this +60.
    expect(f(q('2026-03-06T14:30:00Z')).minutes_since_open).toBe(0);
    // Monday after: the open is 13:30Z (EDT).
    expect(f(q('2026-03-09T13:30:00Z')).minutes_since_open).toBe(0);
    // On the change day itself: 14:30Z is 10:30 EDT.
    const day = f(q('2026-03-08T14:30:00Z'));
    expect(day.minutes_since_open).toBe(60);
    expect(day.hour_sin).toBeCloseTo(sinH(10.5), 12);
    // 06:30Z is 01:30 EST, before the jump; the open (09:30 EDT) is 13:30Z: 420 real minutes later
    // (the wall clocks differ by 480: the hour skipped at 02:00 never elapsed).
    const early = f(q('2026-03-08T06:30:00Z'));
    expect(early.minutes_since_open).toBe(-420);
    expect(early.hour_cos).toBeCloseTo(cosH(1.5), 12);
  });

  it('the autumn change (2026-11-01): the repeated 01:30 and the open at 14:30Z', () => {
    const exp = Date.UTC(2026, 10, 20, 21);
    const r = (iso: string) => f({ ...q(iso), expiryMs: exp });
    expect(r('2026-11-01T14:30:00Z').minutes_since_open).toBe(0); // 09:30 EST
    expect(r('2026-10-30T13:30:00Z').minutes_since_open).toBe(0); // 09:30 EDT, the Friday before
    // 05:30Z = 01:30 EDT (first pass), 06:30Z = 01:30 EST (second): same hour feature, and 540 / 480
    // real minutes before the 14:30Z open.
    const first = r('2026-11-01T05:30:00Z');
    const second = r('2026-11-01T06:30:00Z');
    expect(first.minutes_since_open).toBe(-540);
    expect(second.minutes_since_open).toBe(-480);
    expect(first.hour_sin).toBeCloseTo(sinH(1.5), 12);
    expect(second.hour_sin).toBeCloseTo(sinH(1.5), 12);
  });

  it('a crypto session counts from 00:00 UTC, seconds included', () => {
    const r = f(q('2026-03-08T14:30:36Z'), CRYPTO_SESSION);
    expect(r.minutes_since_open).toBeCloseTo(870.6, 12);
    expect(r.hour_sin).toBeCloseTo(sinH(14.51), 12);
    expect(r.hour_cos).toBeCloseTo(cosH(14.51), 12);
  });

  it('the batch path equals the single-quote path', () => {
    const rows = ['2026-03-06T15:00:30Z', '2026-03-08T06:30:00Z', '2026-03-08T06:30:00Z', '2026-11-01T05:30:00Z'].map((t, i) => ({ ...q(t, i % 2 ? 'P' : 'C'), strike: 580 + i, expiryMs: Date.UTC(2026, 11, 18, 21) }));
    const m = featureMatrix(rows, SPY_SESSION);
    rows.forEach((r, i) => expect([...m.subarray(i * 7, i * 7 + 7)]).toEqual([...quoteFeatures(r, SPY_SESSION)]));
  });
});
