/**
 * The one split of a synthetic data set across workers (Surfaces page and `synth --threads`):
 * no part smaller than a worker's start-up's worth of work, never more parts than cores, slices
 * that tile 0…n−1 in order, and a threaded run bit-identical to a single-threaded one.
 */
import { describe, expect, it } from 'vitest';
import { GENERATION_RATE_PER_CORE, WORKER_START_SECONDS, generationPlan } from '../../../src/core/surface/generationPlan.ts';
import { generateDataset } from '../../../src/core/surface/synthetic.ts';
import { generateDatasetThreaded } from '../../../cli/synthThreads.ts';

describe('generationPlan', () => {
  it('starts a worker only for a start-up’s worth of work, and never more than the cores', () => {
    const minHeston = Math.ceil(GENERATION_RATE_PER_CORE.heston * WORKER_START_SECONDS);
    expect(minHeston).toBe(450);
    expect(generationPlan(449, 'heston', 8).parts).toBe(1);
    expect(generationPlan(2 * 450 - 1, 'heston', 8).parts).toBe(1);
    expect(generationPlan(2 * 450, 'heston', 8).parts).toBe(2);
    expect(generationPlan(20_000, 'heston', 4).parts).toBe(4);
    expect(generationPlan(20_000, 'heston', 1).parts).toBe(1);
    // The proxy prices nothing: 20k of them take ~40 ms on one core, less than one worker's start.
    expect(generationPlan(20_000, 'proxy', 8).parts).toBe(1);
    expect(generationPlan(1_000_000, 'proxy', 8).parts).toBe(8);
    expect(generationPlan(0, 'heston', 4)).toMatchObject({ parts: 1, slices: [{ start: 0, count: 0 }] });
  });

  it('tiles the samples in order, sizes within one of each other', () => {
    for (const [n, cores] of [[20_000, 3], [1801, 4], [5000, 7]] as const) {
      const plan = generationPlan(n, 'heston', cores);
      let next = 0;
      for (const s of plan.slices) {
        expect(s.start).toBe(next);
        expect(s.count).toBeGreaterThanOrEqual(plan.minPerPart);
        next += s.count;
      }
      expect(next).toBe(n);
      const counts = plan.slices.map((s) => s.count);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('worker threads on the plan give the bytes of one thread', async () => {
    const n = 900; // two parts of 450 true-Heston surfaces (~0.3 s of pricing)
    expect(generationPlan(n, 'heston', 2).parts).toBe(2);
    const threaded = await generateDatasetThreaded({ kind: 'heston', n, seed: 7 }, 2);
    const direct = await generateDataset({ kind: 'heston', n, seed: 7 });
    expect(Array.from(threaded.params)).toEqual(Array.from(direct.params));
    expect(Array.from(threaded.mask)).toEqual(Array.from(direct.mask));
    expect(Array.from(threaded.iv)).toEqual(Array.from(direct.iv));
  }, 30_000);
});
