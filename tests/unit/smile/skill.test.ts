import { beforeAll, describe, expect, it } from 'vitest';
import { trainSmile } from '../../../src/core/smile/trainer.ts';
import { SMILE_MODEL_KINDS } from '../../../src/core/smile/models/registry.ts';
import { SESSION, SMALL, quoteSet, useWasm } from './fixtures.ts';

// Each contract's IV deviation is AR(1) with φ = 0.5: the best possible forecast has skill
// 1 − 1/√(4/3) = 0.134 over persistence (synthetic.ts). A model that has learnt at least the
// sign and a good part of the mean reversion clears 0.05; persistence-like guessing gives ≤ 0.
describe('every model beats persistence where the next IV is predictable (mean-reverting set)', () => {
  beforeAll(useWasm);
  const quotes = quoteSet(0.5);
  for (const kind of SMILE_MODEL_KINDS) {
    it(`${kind}: skill > 0.05 on the test period, and the buckets add up`, async () => {
      const r = await trainSmile(SMALL[kind], { quotes, session: SESSION, ivUnit: 'decimal' });
      expect(r.test.skill).toBeGreaterThan(0.05);
      expect(r.test.skill).toBeLessThan(0.134 + 0.03); // no model can beat the true conditional mean by more than noise
      expect(r.test.rmse_vol!).toBeLessThan(r.test.persistence_rmse_vol!);
      expect(r.nTest).toBe(r.test.n);
      const sum = (o: Record<string, { n: number }>) => Object.values(o).reduce((s, b) => s + b.n, 0);
      expect(sum(r.test.by_maturity)).toBe(r.test.n);
      expect(sum(r.test.by_moneyness)).toBe(r.test.n);
    });
  }
});
