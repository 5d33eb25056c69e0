import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ClippedAdam, ppoLossTerms } from '../../../src/core/rl/ppo.ts';
import { initBackend } from '../../../src/core/backend/backends.ts';

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
});

// Fixed tensors worked by hand (ε = 0.2). ratio ρ = exp(Δlogp) = [1, 1.349859, 0.740818, 1.105171]:
//   −A·ρ vs −A·clip(ρ):  [−1 | −1], [−1.349859 | −1.2], [0.740818 | 0.8], [2.210342 | 2.210342]
//   policy loss = mean(max) = (−1 − 1.2 + 0.8 + 2.210342)/4 = 0.202585
//   approx KL = mean((ρ−1) − log ρ) = (0 + 0.049859 + 0.040818 + 0.005171)/4 = 0.023962
//   old approx KL = mean(−log ρ) = −0.1/4 = −0.025;  clip fraction: |ρ−1| > 0.2 for 2 of 4 = 0.5
//   value: V = [1, 2, 0, 0.5], V_old = [0.5, 2.5, 0, 0], R = [2, 2, 1, 0]
//     unclipped (V−R)² = [1, 0, 1, 0.25]; V_clip = [0.7, 2.3, 0, 0.2] → [1.69, 0.09, 1, 0.04]
//     clipped loss ½·mean(max) = ½·(1.69 + 0.09 + 1 + 0.25)/4 = 0.37875; unclipped ½·2.25/4 = 0.28125
//   loss = 0.202585 − 0.01·1.2 + 0.5·0.37875 = 0.379960
const dlp = [0, 0.3, -0.3, 0.1];
function inputs() {
  return {
    newLogProb: tf.tensor1d(dlp),
    oldLogProb: tf.zeros([4]) as tf.Tensor1D,
    advantages: tf.tensor1d([1, 1, -1, -2]),
    newValue: tf.tensor1d([1, 2, 0, 0.5]),
    oldValue: tf.tensor1d([0.5, 2.5, 0, 0]),
    returns: tf.tensor1d([2, 2, 1, 0]),
    entropy: tf.scalar(1.2),
  };
}
const cfg = { clipRatio: 0.2, clipVloss: true, entCoef: 0.01, vfCoef: 0.5 };

describe('ppoLossTerms on fixed tensors', () => {
  it('clipped surrogate, clipped value loss, KL and clip fraction', async () => {
    const t = ppoLossTerms(inputs(), cfg);
    // float32 on wasm: ~1e-7 relative; 5 decimals is far above that and below any formula slip.
    expect((await t.policyLoss.data())[0]).toBeCloseTo(0.202585, 5);
    expect((await t.approxKl.data())[0]).toBeCloseTo(0.023962, 5);
    expect((await t.oldApproxKl.data())[0]).toBeCloseTo(-0.025, 6);
    expect((await t.clipFrac.data())[0]).toBeCloseTo(0.5, 7);
    expect((await t.valueLoss.data())[0]).toBeCloseTo(0.37875, 5);
    expect((await t.loss.data())[0]).toBeCloseTo(0.37996, 5);
    const u = ppoLossTerms(inputs(), { ...cfg, clipVloss: false });
    expect((await u.valueLoss.data())[0]).toBeCloseTo(0.28125, 6);
  });

  it('no gradient through a clipped ratio', async () => {
    const x = inputs();
    const g = tf.grad((lp: tf.Tensor) => ppoLossTerms({ ...x, newLogProb: lp as tf.Tensor1D }, cfg).policyLoss)(x.newLogProb);
    const d = await g.data();
    // d/dlogp of −A·ρ/4 = −A·ρ/4 where the unclipped branch is active:
    expect(d[0]).toBeCloseTo(-0.25, 6); // ρ = 1, A = 1
    expect(d[1]).toBeCloseTo(0, 7); // ρ > 1 + ε with A > 0: clipped
    expect(d[2]).toBeCloseTo(0, 7); // ρ < 1 − ε with A < 0: clipped
    expect(d[3]).toBeCloseTo((2 * Math.exp(0.1)) / 4, 6); // inside the band
  });
});

describe('ClippedAdam', () => {
  it('clips the GLOBAL norm across variables, then takes an Adam step', async () => {
    const a = tf.variable(tf.tensor1d([0, 0]));
    const b = tf.variable(tf.tensor2d([[0]]));
    const opt = new ClippedAdam([a, b], { eps: 1e-5, maxGradNorm: 0.5 });
    // g = (3, 0 | 4): ‖g‖ = 5 globally (per-variable norms 3 and 4 would both exceed 0.5 differently).
    const norm = opt.apply({ [a.name]: tf.tensor1d([3, 0]), [b.name]: tf.tensor2d([[4]]) }, 0.1);
    expect((await norm.data())[0]).toBeCloseTo(5, 5);
    const s = await opt.getState();
    // m = (1 − β1)·g·(0.5 / (5 + 1e-6)) = 0.1·g·0.1
    expect(Array.from(s.m)).toEqual([expect.closeTo(0.03, 6), 0, expect.closeTo(0.04, 6)]);
    // Adam's first step moves each coordinate by lr·ĝ/(|ĝ| + ε) ≈ lr·sign(g).
    expect((await a.data())[0]).toBeCloseTo(-0.1, 4);
    expect((await b.data())[0]).toBeCloseTo(-0.1, 4);
    // Below the threshold nothing is scaled.
    const opt2 = new ClippedAdam([a], { eps: 1e-5, maxGradNorm: 10 });
    opt2.apply({ [a.name]: tf.tensor1d([3, 0]) }, 0.1);
    expect((await opt2.getState()).m[0]).toBeCloseTo(0.3, 6);
    opt.dispose();
    opt2.dispose();
  });
});

describe('CpuPpoUpdater', () => {
  it('loss terms and gradients equal the tfjs path (tanh and relu, value clipping on and off)', async () => {
    const { CpuPpoUpdater } = await import('../../../src/core/rl/ppo.ts');
    const { PPOAgent } = await import('../../../src/core/rl/ppoAgent.ts');
    const { Rng } = await import('../../../src/core/math/rng.ts');
    const D = 21;
    const B = 37; // not a multiple of 4: the blocked kernel's remainder rows are exercised
    const rng = new Rng(11);
    const f32 = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
    for (const [activation, clipVloss] of [['tanh', true], ['relu', false], ['tanh', false]] as const) {
      const agent = PPOAgent.create({ obsDim: D, actDim: 1, hiddenSizes: [16, 8], activation }, { init: 'torch', seed: 3, logStdInit: -0.3 });
      const obs = f32(B * D);
      const act = f32(B, 0.8);
      // Old log-probs near the current ones so that some ratios fall inside the band and some outside.
      const mean = agent.act(obs, B, { deterministic: true }).means;
      const logStd = -0.3;
      const oldLogp = Float32Array.from(act, (a, i) => -0.5 * ((a - mean[i]!) / Math.exp(logStd)) ** 2 - logStd - 0.5 * Math.log(2 * Math.PI) + 0.3 * rng.normal());
      const adv = f32(B);
      const ret = f32(B, 0.5);
      const oldV = Float32Array.from(agent.value(obs, B), (v) => v + 0.3 * rng.normal());
      const cfg = { clipRatio: 0.2, clipVloss, entCoef: 0.01, vfCoef: 0.5, maxGradNorm: 0.5, adamEps: 1e-5 };
      const cpu = new CpuPpoUpdater(agent, cfg);
      const terms = cpu.lossAndGrad(obs, act, oldLogp, adv, ret, oldV, B);
      const g = cpu.gradients();
      const vars = [...agent.vars.values()];
      const names = [...agent.vars.keys()];
      let tfTerms: number[] = [];
      const { grads } = tf.variableGrads(() => {
        const { mean: m, value } = agent.forward(tf.tensor2d(obs, [B, D]));
        const t = ppoLossTerms({ newLogProb: agent.logProb(m, tf.tensor2d(act, [B, 1])), oldLogProb: tf.tensor1d(oldLogp), advantages: tf.tensor1d(adv), newValue: value, oldValue: tf.tensor1d(oldV), returns: tf.tensor1d(ret), entropy: agent.entropy() }, cfg);
        tfTerms = [t.policyLoss, t.valueLoss, t.entropy, t.approxKl, t.oldApproxKl, t.clipFrac].map((x) => x.dataSync()[0]!);
        return t.loss;
      }, vars);
      // float32 (tfjs) against float64 (CPU): agreement to ~1e-6 relative on these O(1) sums.
      terms.forEach((x, i) => expect(x).toBeCloseTo(tfTerms[i]!, 5));
      expect(tfTerms[5]).toBeGreaterThan(0); // some ratios were clipped
      for (let k = 0; k < names.length; k++) {
        const want = await grads[vars[k]!.name]!.data();
        const got = g.get(names[k]!)!;
        const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!) / scale).toBeLessThan(2e-5);
      }
      tf.dispose(Object.values(grads));
      agent.dispose();
    }
  });
});
