import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { PPOAgent, initialParameters, orthogonalMatrix } from '../../../src/core/rl/ppoAgent.ts';
import { Rng } from '../../../src/core/math/rng.ts';
import { initBackend } from '../../../src/core/backend/backends.ts';

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
});

const topo = { obsDim: 16 * 5 + 1, actDim: 1, hiddenSizes: [64, 64], activation: 'tanh' as const };
function obsBatch(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  // StateBuilder output: normalised features clipped to ±5, here N(0, 1).
  return Float32Array.from({ length: n * topo.obsDim }, () => r.normal());
}

describe('PPOAgent', () => {
  it("'torch' init: U(±1/√fan_in) weights and biases; same seed, same weights", () => {
    const p = initialParameters(topo, 'torch', 3, 0);
    const w0 = p.get('pi.w0')!;
    const bound = 1 / Math.sqrt(topo.obsDim);
    expect(Math.max(...w0.map(Math.abs))).toBeLessThanOrEqual(bound);
    // Uniform on ±b has std b/√3; 81·64 draws pin it to ~1 %.
    const sd = Math.sqrt(w0.reduce((a, x) => a + x * x, 0) / w0.length);
    expect(sd / (bound / Math.sqrt(3))).toBeCloseTo(1, 1);
    expect(Math.max(...p.get('v.b1')!.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(initialParameters(topo, 'torch', 3, 0).get('pi.w2')).toEqual(p.get('pi.w2'));
    expect(initialParameters(topo, 'torch', 4, 0).get('pi.w2')).not.toEqual(p.get('pi.w2'));
  });

  it('orthogonal init is orthogonal with CleanRL gains', () => {
    const q = orthogonalMatrix(64, 81, Math.SQRT2, new Rng(1)); // wide: orthonormal rows × √2
    for (const [i, j] of [[0, 0], [0, 1], [5, 63], [63, 63]] as const) {
      let d = 0;
      for (let k = 0; k < 81; k++) d += q[i * 81 + k]! * q[j * 81 + k]!;
      expect(d).toBeCloseTo(i === j ? 2 : 0, 5);
    }
    const p = initialParameters(topo, 'orthogonal', 1, 0);
    expect(p.get('pi.b0')!.every((x) => x === 0)).toBe(true);
    // policy head gain 0.01: a unit column of 64 → norm 0.01
    expect(Math.hypot(...p.get('pi.w2')!)).toBeCloseTo(0.01, 5);
    expect(Math.hypot(...p.get('v.w2')!)).toBeCloseTo(1, 5);
  });

  it('both inits start the mean well inside [−1, 1] on 16 × D inputs', () => {
    const obs = obsBatch(256, 9);
    for (const init of ['torch', 'orthogonal'] as const) {
      const agent = PPOAgent.create(topo, { init, seed: 1, logStdInit: 0 });
      const { means } = agent.act(obs, 256, { deterministic: true });
      expect(Math.max(...means.map(Math.abs))).toBeLessThan(0.6);
      agent.dispose();
    }
  });

  it('the CPU forward matches the tfjs forward (float32)', async () => {
    for (const activation of ['tanh', 'relu'] as const) {
      const agent = PPOAgent.create({ ...topo, activation }, { init: 'torch', seed: 5, logStdInit: -0.5 });
      const obs = obsBatch(13, 2);
      const cpu = agent.act(obs, 13, { deterministic: true });
      const { mean, value } = agent.forward(tf.tensor2d(obs, [13, topo.obsDim]));
      const m = await mean.data();
      const v = await value.data();
      // Same float32 weights, summation order differs: ~1e-6 absolute on O(0.1) outputs.
      for (let i = 0; i < 13; i++) {
        expect(cpu.means[i]).toBeCloseTo(m[i]!, 5);
        expect(cpu.values[i]).toBeCloseTo(v[i]!, 5);
      }
      tf.dispose([mean, value]);
      agent.dispose();
    }
  });

  it('new parameters reach the CPU forward (written into its existing workspace): same outputs as a fresh agent', () => {
    const a = PPOAgent.create(topo, { init: 'torch', seed: 5, logStdInit: -0.5 });
    const b = PPOAgent.create(topo, { init: 'orthogonal', seed: 9, logStdInit: 0 });
    const obs = obsBatch(8, 3);
    const before = a.act(obs, 8, { deterministic: true }); // builds a's workspace
    a.setParameters(b.parameters());
    const after = a.act(obs, 8, { deterministic: true });
    const fresh = b.act(obs, 8, { deterministic: true });
    expect(Array.from(after.means)).toEqual(Array.from(fresh.means));
    expect(Array.from(after.values)).toEqual(Array.from(fresh.values));
    expect(Array.from(after.means)).not.toEqual(Array.from(before.means));
    a.dispose();
    b.dispose();
  });

  it('sampled actions: log-prob agrees with tfjs, noise is seeded, deterministic gives the mean', async () => {
    const agent = PPOAgent.create(topo, { init: 'torch', seed: 5, logStdInit: -0.5 });
    const obs = obsBatch(8, 3);
    const a = agent.act(obs, 8, { rng: Rng.stream(1, 2) });
    const b = agent.act(obs, 8, { rng: Rng.stream(1, 2) });
    expect(b.actions).toEqual(a.actions);
    const lp = await tf.tidy(() => {
      const { mean } = agent.forward(tf.tensor2d(obs, [8, topo.obsDim]));
      return agent.logProb(mean, tf.tensor2d(a.actions, [8, 1]));
    }).data();
    for (let i = 0; i < 8; i++) expect(a.logProbs[i]).toBeCloseTo(lp[i]!, 4);
    const d = agent.act(obs, 8, { deterministic: true });
    expect(d.actions).toEqual(d.means);
    // σ = e^−0.5: the spread of (a − μ)/σ over 8 draws is O(1), not 0.
    expect(a.actions.some((x, i) => Math.abs(x - a.means[i]!) > 0.05)).toBe(true);
    const ent = (await agent.entropy().data())[0]!;
    expect(ent).toBeCloseTo(0.5 + 0.5 * Math.log(2 * Math.PI) - 0.5, 5);
    agent.dispose();
  });
});
