import { beforeAll, describe, expect, it } from 'vitest';
import { trainSmile } from '../../../src/core/smile/trainer.ts';
import { SMILE_MODEL_KINDS } from '../../../src/core/smile/models/registry.ts';
import { SESSION, SMALL, quoteSet, useWasm } from './fixtures.ts';

// On a random walk (φ = 1) the next IV's change is independent of everything before it, so
// persistence is the best forecast: a model's test MSE is persistence's plus mean(d²) − 2·mean(d·ε)
// (d = forecast − last IV). The cross term has mean 0 and, with ~1300 test windows of independent
// innovations, a standard deviation below 0.006 in skill for any d up to 0.2σ, so skill above 0.02
// would be a > 3σ fluke, not learning: the margin. Fewer epochs than the mean-reverting test (the
// point is that there is nothing to learn, not how long one tries).
describe('no model shows skill on a random walk', () => {
  beforeAll(useWasm);
  const quotes = quoteSet(1, 4);
  for (const kind of SMILE_MODEL_KINDS) {
    it(`${kind}: skill ≤ 0.02`, async () => {
      const r = await trainSmile({ ...SMALL[kind], epochs: Math.min(4, SMALL[kind].epochs!) }, { quotes, session: SESSION, ivUnit: 'decimal' });
      expect(r.test.skill).not.toBeNull();
      expect(r.test.skill!).toBeLessThanOrEqual(0.02);
    });
  }
});
