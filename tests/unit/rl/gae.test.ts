import { describe, expect, it } from 'vitest';
import { computeGae } from '../../../src/core/rl/gae.ts';
import { InputError } from '../../../src/core/errors.ts';

// Worked by hand (γ = 0.9, λ = 0.8, γλ = 0.72). Step 1 terminates (ruin), step 3 is truncated with
// V(final obs) = 2.0, V(s_5) = lastValue = 1.5:
//   t=4  δ = 3 + 0.9·1.5 − 0.6 = 3.75                 A = 3.75
//   t=3  δ = −1 + 0.9·2.0 − 0.4 = 0.4 (truncation)     A = 0.4            (no carry from t=4)
//   t=2  δ = 0.5 + 0.9·0.4 − 0.2 = 0.66                A = 0.66 + 0.72·0.4 = 0.948
//   t=1  δ = 2 + 0 − 1.0 = 1.0 (termination)           A = 1.0
//   t=0  δ = 1 + 0.9·1.0 − 0.5 = 1.4                   A = 1.4 + 0.72·1.0 = 2.12
const worked = {
  rewards: [1, 2, 0.5, -1, 3],
  values: [0.5, 1.0, 0.2, 0.4, 0.6],
  dones: [0, 1, 0, 1, 0],
  truncated: [0, 0, 0, 1, 0],
  truncatedValues: [0, 0, 0, 2.0, 0],
  lastValue: 1.5,
  gamma: 0.9,
  lam: 0.8,
};
const ADV = [2.12, 1.0, 0.948, 0.4, 3.75];

describe('computeGae', () => {
  it('matches the hand-worked example with a termination and a truncation', () => {
    const { advantages, returns } = computeGae(worked);
    expect(advantages).toBeInstanceOf(Float64Array);
    // Float64 arithmetic on these few terms: agreement to 1e-12 (a few ulps of the sums).
    ADV.forEach((a, i) => expect(advantages[i]).toBeCloseTo(a, 12));
    ADV.forEach((a, i) => expect(returns[i]).toBeCloseTo(a + worked.values[i]!, 12));
  });

  it('a truncation treated as a termination would lose the 0.9·2.0 bootstrap', () => {
    const asTerm = computeGae({ ...worked, truncated: undefined, truncatedValues: undefined });
    expect(asTerm.advantages[3]).toBeCloseTo(-1.4, 12);
    expect(asTerm.advantages[2]).toBeCloseTo(0.66 + 0.72 * -1.4, 12);
  });

  it('γ = λ = 1 with no dones gives Monte-Carlo advantages Σr + V_T − V_t', () => {
    const r = [0.1, -0.2, 0.3, 0.4];
    const v = [1, 2, 3, 4];
    const { advantages } = computeGae({ rewards: r, values: v, dones: [0, 0, 0, 0], lastValue: 5, gamma: 1, lam: 1 });
    for (let t = 0; t < 4; t++) {
      const mc = r.slice(t).reduce((a, b) => a + b, 0) + 5 - v[t]!;
      expect(advantages[t]).toBeCloseTo(mc, 12);
    }
  });

  it('time-major vectorised input equals each environment on its own', () => {
    const other = { rewards: [0.3, -0.1, 0.2, 0.0, 1.0], values: [0.1, 0.2, 0.3, 0.4, 0.5], dones: [0, 0, 1, 0, 0], truncated: [0, 0, 1, 0, 0], truncatedValues: [0, 0, -0.7, 0, 0], lastValue: 0.25 };
    const inter = (a: number[], b: number[]) => a.flatMap((x, i) => [x, b[i]!]);
    const vec = computeGae({
      rewards: inter(worked.rewards, other.rewards),
      values: inter(worked.values, other.values),
      dones: inter(worked.dones, other.dones),
      truncated: inter(worked.truncated, other.truncated),
      truncatedValues: inter(worked.truncatedValues, other.truncatedValues),
      lastValue: [worked.lastValue, other.lastValue],
      gamma: 0.9,
      lam: 0.8,
      numEnvs: 2,
    });
    const b = computeGae({ ...other, gamma: 0.9, lam: 0.8 });
    for (let t = 0; t < 5; t++) {
      expect(vec.advantages[2 * t]).toBe(computeGae(worked).advantages[t]);
      expect(vec.advantages[2 * t + 1]).toBe(b.advantages[t]);
    }
  });

  it('refuses inconsistent input, naming the field', () => {
    expect(() => computeGae({ ...worked, values: [1, 2] })).toThrow(/values: length 2/);
    expect(() => computeGae({ ...worked, dones: [0, 0, 0, 0, 0] })).toThrow(/truncated: element 3 is truncated but dones is 0/);
    expect(() => computeGae({ ...worked, truncatedValues: undefined })).toThrow(/truncated_values: required/);
    expect(() => computeGae({ ...worked, rewards: [1, NaN, 0, 0, 0] })).toThrow(InputError);
    expect(() => computeGae({ ...worked, gamma: 1.5 })).toThrow(/gamma/);
  });
});
