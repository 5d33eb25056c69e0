import { describe, expect, it } from 'vitest';
import { envEpisodeJob } from '../../../src/core/rl/envJobs.ts';
import { simulateMarket } from '../../../src/core/market/simulator.ts';
import { buildFeatureMatrix } from '../../../src/core/features/featureMatrix.ts';
import { replayActions } from '../../../src/core/rl/replay.ts';

// generic + sentiment need no inverse network: the job's own logic is what is under test here
// (the browser test runs it with the bundled networks in a worker).
const features = { modules: 'generic,sentiment' };
const market = { kind: 'gbm' as const, steps: 400, seed: 11 };

describe('envEpisodeJob', () => {
  it('same seed → same start and random actions; another seed → another episode', async () => {
    const a = await envEpisodeJob({ market, features, episode: { seed: 5, maxSteps: 30 } });
    const b = await envEpisodeJob({ market, features, episode: { seed: 5, maxSteps: 30 } });
    const c = await envEpisodeJob({ market, features, episode: { seed: 6, maxSteps: 30 } });
    expect(b).toEqual(a);
    expect(a.steps.length).toBe(30);
    expect(a.start).toBeGreaterThanOrEqual(a.warmup);
    expect(c.steps.map((s) => s.action)).not.toEqual(a.steps.map((s) => s.action));
    expect(a.steps.every((s) => s.action >= -1 && s.action < 1)).toBe(true);
  });

  it('fixed actions from a given start = replayActions on the same market and features', async () => {
    const r = await envEpisodeJob({ market, features, env: { transactionCost: 0.001 }, episode: { seed: 0, start: 300, actions: [1, -1, 0.5] } });
    const m = simulateMarket({ nSteps: 400 }, 11);
    const fm = await buildFeatureMatrix(m, features);
    const want = replayActions(m, fm, { transactionCost: 0.001 }, { start: 300, actions: [1, -1, 0.5] });
    expect(r.steps).toEqual(want.steps);
    expect(r.finalObs).toEqual(Array.from(want.finalObs));
    expect(r.featureNames).toEqual(fm.names);
  });
});
