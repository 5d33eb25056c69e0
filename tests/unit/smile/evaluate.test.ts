import { beforeAll, describe, expect, it } from 'vitest';
import { evaluatePredictions, predictSmile } from '../../../src/core/smile/evaluate.ts';
import { trainSmile } from '../../../src/core/smile/trainer.ts';
import { SESSION, SMALL, quoteSet, useWasm } from './fixtures.ts';

describe('evaluatePredictions', () => {
  it('RMSE and MAE in vol points beside persistence on the same rows, skill, buckets — by hand', () => {
    // Four windows; features [n, 7] of the last quotes: (log_moneyness, dte, …).
    const f = (lm: number, dte: number) => [lm, dte, 0, 1, 0, 100, 0];
    const features = Float64Array.from([...f(0.01, 3), ...f(-0.1, 10), ...f(0.2, 45), ...f(0.02, 200)]);
    const set = { n: 4, lastIndex: Int32Array.from([0, 1, 2, 3]), lastIv: Float64Array.from([0.2, 0.2, 0.2, 0.2]), nextIv: Float64Array.from([0.21, 0.19, 0.2, 0.22]) };
    const pred = Float64Array.from([0.205, 0.19, 0.21, 0.22]);
    const e = evaluatePredictions(set, pred, features);
    // Model errors (vol pts): −0.5, 0, 1, 0 → RMSE √(1.25/4), MAE 1.5/4. Persistence: −1, 1, 0, −2 → √(6/4), 4/4.
    expect(e.rmse_vol).toBeCloseTo(Math.sqrt(1.25 / 4), 12);
    expect(e.mae_vol).toBeCloseTo(0.375, 12);
    expect(e.persistence_rmse_vol).toBeCloseTo(Math.sqrt(1.5), 12);
    expect(e.persistence_mae_vol).toBeCloseTo(1, 12);
    expect(e.skill).toBeCloseTo(1 - Math.sqrt(1.25 / 4) / Math.sqrt(1.5), 12);
    expect(Object.fromEntries(Object.entries(e.by_maturity).map(([k, v]) => [k, v.n]))).toEqual({ '<7d': 1, '7-30d': 1, '30-90d': 1, '>90d': 1 });
    expect(Object.fromEntries(Object.entries(e.by_moneyness).map(([k, v]) => [k, v.n]))).toEqual({ '|lm|<0.05': 2, '0.05-0.15': 1, '>0.15': 1 });
    // The 30–90 d window: model off by 1 point, persistence exact → skill undefined (null), never NaN.
    expect(e.by_maturity['30-90d']).toMatchObject({ persistence_rmse_vol: 0, skill: null });
    expect(e.by_maturity['30-90d']!.rmse_vol).toBeCloseTo(1, 12);
    expect(e.by_moneyness['|lm|<0.05']!.skill).toBeCloseTo(1 - Math.sqrt(0.25 / 2) / Math.sqrt(5 / 2), 12);
    expect(evaluatePredictions({ ...set, n: 0 }, pred, features)).toMatchObject({ n: 0, rmse_vol: null, skill: null });
  });
});

describe('predictSmile', () => {
  beforeAll(useWasm);
  it('predicts the next smile of one expiry at a time, against the realised next quotes', async () => {
    const quotes = quoteSet(0.5).slice(0, 6 * 600);
    const r = await trainSmile({ ...SMALL.mlp, epochs: 2 }, { quotes, session: SESSION, ivUnit: 'decimal' });
    const at = quotes[6 * 300]!.tsMs;
    const s = await predictSmile(r.checkpoint, quotes, at + 30_000); // between two quotes: the last one ≤ it
    expect(s.at).toBe(new Date(at).toISOString().replace('.000Z', 'Z'));
    expect(s.contracts).toHaveLength(6);
    expect(s.contracts.map((c) => `${c.strike}${c.right}`)).toEqual(['561C', '561P', '590C', '590P', '620C', '620P']);
    for (const c of s.contracts) {
      const mine = quotes.filter((q) => q.strike === c.strike && q.right === c.right);
      const k = mine.findIndex((q) => q.tsMs === at);
      expect(c.last_iv).toBe(mine[k]!.iv);
      expect(c.realised_iv).toBe(mine[k + 1]!.iv);
      expect(Math.abs(c.predicted_iv - c.last_iv)).toBeLessThan(0.05);
    }
    // The last quote has no next one: realised is null. A bare date selects that UTC day's expiry.
    const last = quotes[quotes.length - 1]!;
    const end = await predictSmile(r.checkpoint, quotes, last.tsMs, { expiryDayMs: Date.UTC(2026, 0, 25) });
    expect(end.contracts.every((c) => c.realised_iv === null)).toBe(true);
    expect(end.expiry).toBe(new Date(last.expiryMs).toISOString().replace('.000Z', 'Z'));
    await expect(predictSmile(r.checkpoint, quotes, last.tsMs, { expiryDayMs: Date.UTC(2026, 0, 26) })).rejects.toThrow(/no contract expiring on 2026-01-26/);
    await expect(predictSmile(r.checkpoint, quotes, quotes[0]!.tsMs - 1)).rejects.toThrow(/no quote at or before/);
    await expect(predictSmile(r.checkpoint, quotes, quotes[6 * 3]!.tsMs)).rejects.toThrow(/no contract has 8 gap-free quotes/);
  });
});
