import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { trainPpo, type PpoResumeState, type VecEnvLike } from '../../../src/core/rl/ppo.ts';
import { computePnlStats } from '../../../src/core/rl/pnlStats.ts';
import { PauseGate } from '../../../src/core/inverse/pauseGate.ts';
import { MemoryStore } from '../../../src/core/store/store.ts';
import { CancelledError } from '../../../src/core/jobs.ts';
import { initBackend } from '../../../src/core/backend/backends.ts';

beforeAll(async () => {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(a.error);
});

/**
 * A toy market whose optimal policy is known: a hidden-in-plain-sight regime s ∈ {−1, +1} (flips
 * with probability 0.05 per step) sets the sign of the next return, r = 0.002·s + 0.004·ε, and is
 * the first observation; two more observations are noise. Optimal: a = sign(s) (per-step Sharpe
 * 0.5); buy-and-hold earns 0 on average. Reward = a·r·100 (clipped a); episodes truncate after 200
 * steps. Its state is four numbers per env, so it can be saved for an exact resume.
 */
class RegimeVecEnv implements VecEnvLike {
  readonly obsDim = 3;
  private seedState: Uint32Array;
  private regime: Float64Array;
  private steps: Int32Array;
  private equity: Float64Array;
  private ret: Float64Array;
  private noise: Float32Array;
  constructor(readonly numEnvs: number, seed: number) {
    this.seedState = Uint32Array.from({ length: numEnvs }, (_, e) => (seed * 7919 + e * 104729 + 1) >>> 0);
    this.regime = new Float64Array(numEnvs);
    this.steps = new Int32Array(numEnvs);
    this.equity = new Float64Array(numEnvs);
    this.ret = new Float64Array(numEnvs);
    this.noise = new Float32Array(numEnvs * 2);
  }
  private u(e: number): number {
    // xorshift32: a per-env stream whose whole state is one integer.
    let x = this.seedState[e]!;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seedState[e] = x >>> 0;
    return (x >>> 0) / 4294967296;
  }
  private gauss(e: number): number {
    return Math.sqrt(-2 * Math.log(1 - this.u(e))) * Math.cos(2 * Math.PI * this.u(e));
  }
  private obsOf(e: number, out: Float32Array): void {
    out[e * 3] = this.regime[e]!;
    out[e * 3 + 1] = this.noise[e * 2]!;
    out[e * 3 + 2] = this.noise[e * 2 + 1]!;
  }
  private resetOne(e: number): void {
    this.regime[e] = this.u(e) < 0.5 ? -1 : 1;
    this.steps[e] = 0;
    this.equity[e] = 1;
    this.ret[e] = 0;
    this.noise[e * 2] = this.gauss(e);
    this.noise[e * 2 + 1] = this.gauss(e);
  }
  reset(): Float32Array {
    const obs = new Float32Array(this.numEnvs * 3);
    for (let e = 0; e < this.numEnvs; e++) {
      this.resetOne(e);
      this.obsOf(e, obs);
    }
    return obs;
  }
  step(actions: Float32Array) {
    const N = this.numEnvs;
    const obs = new Float32Array(N * 3);
    const rewards = new Float64Array(N);
    const truncated = new Uint8Array(N);
    const finalObs: (Float32Array | null)[] = new Array(N).fill(null);
    const episodes: { envIndex: number; return: number; length: number; finalEquity: number }[] = [];
    const infos: { equity: number }[] = [];
    for (let e = 0; e < N; e++) {
      const a = Math.max(-1, Math.min(1, actions[e]!));
      const r = 0.002 * this.regime[e]! + 0.004 * this.gauss(e);
      rewards[e] = a * r * 100;
      this.ret[e]! += rewards[e]!;
      this.equity[e]! *= 1 + a * r;
      this.steps[e]!++;
      if (this.u(e) < 0.05) this.regime[e] = -this.regime[e]!;
      this.noise[e * 2] = this.gauss(e);
      this.noise[e * 2 + 1] = this.gauss(e);
      infos.push({ equity: this.equity[e]! });
      if (this.steps[e]! >= 200) {
        truncated[e] = 1;
        const f = new Float32Array(N * 3);
        this.obsOf(e, f);
        finalObs[e] = f.slice(e * 3, e * 3 + 3);
        episodes.push({ envIndex: e, return: this.ret[e]!, length: this.steps[e]!, finalEquity: this.equity[e]! });
        this.resetOne(e);
      }
      this.obsOf(e, obs);
    }
    return { obs, rewards, terminated: new Uint8Array(N), truncated, finalObs, infos, episodes };
  }
  getState() {
    return { seedState: this.seedState.slice(), regime: this.regime.slice(), steps: this.steps.slice(), equity: this.equity.slice(), ret: this.ret.slice(), noise: this.noise.slice() };
  }
  setState(s: ReturnType<RegimeVecEnv['getState']>): Float32Array {
    this.seedState = s.seedState.slice();
    this.regime = s.regime.slice();
    this.steps = s.steps.slice();
    this.equity = s.equity.slice();
    this.ret = s.ret.slice();
    this.noise = s.noise.slice();
    const obs = new Float32Array(this.numEnvs * 3);
    for (let e = 0; e < this.numEnvs; e++) this.obsOf(e, obs);
    return obs;
  }
}

const small = { rolloutLen: 256, numEnvs: 4, epochs: 2, minibatchSize: 64, totalSteps: 256 * 6, seed: 3 };

describe('trainPpo', () => {
  it.each(['cpu', 'tfjs'] as const)('learns the regime market (update on %s): out-of-sample Sharpe far above buy-and-hold', async (updateOn) => {
    const env = new RegimeVecEnv(8, 1);
    const r = await trainPpo(env, { rolloutLen: 512, numEnvs: 8, epochs: 4, minibatchSize: 128, totalSteps: 512 * 24, lr: 1e-3, seed: 1, updateOn });
    expect(r.history).toHaveLength(24);
    const first = r.history[0]!;
    const last = r.history.at(-1)!;
    // Episodes last 200 steps, 64 per env per iteration: the first ends in iteration 4.
    const withEpisodes = r.history.filter((h) => h.meanEpisodeReturn !== null);
    expect(withEpisodes.at(-1)!.meanEpisodeReturn!).toBeGreaterThan(withEpisodes[0]!.meanEpisodeReturn! + 5);
    for (const d of r.history) {
      for (const k of ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFrac', 'lr', 'stepsPerSec'] as const) expect(Number.isFinite(d[k])).toBe(true);
    }
    expect(last.lr).toBeLessThan(first.lr); // annealed
    // Out of sample: a fresh market (other seed), deterministic policy vs buy-and-hold, 4 × 200 steps.
    const test = new RegimeVecEnv(4, 99);
    let obs = test.reset();
    const eqAgent = [[1], [1], [1], [1]];
    const eqHold = [[1], [1], [1], [1]];
    for (let t = 0; t < 199; t++) {
      const { actions } = r.agent.act(obs, 4, { deterministic: true });
      const s = test.step(actions);
      for (let e = 0; e < 4; e++) {
        const a = Math.max(-1, Math.min(1, actions[e]!));
        const ret = s.rewards[e]! / 100 / (a === 0 ? 1 : a);
        eqAgent[e]!.push(s.infos[e]!.equity);
        eqHold[e]!.push(eqHold[e]!.at(-1)! * (1 + ret));
      }
      obs = s.obs;
    }
    const sharpe = (eq: number[][]) => eq.map((x) => computePnlStats(x, 8760).sharpe!).reduce((a, b) => a + b, 0) / eq.length;
    // The optimal policy's annualised Sharpe is ≈ 0.5·√8760 ≈ 47 (less after regime flips); hold ≈ 0 ± 10.
    expect(sharpe(eqAgent)).toBeGreaterThan(25);
    expect(sharpe(eqAgent)).toBeGreaterThan(sharpe(eqHold) + 20);
    r.agent.dispose();
  }, 60_000);

  it('same seed, same run; cancel; pause; resume from a stored state reproduces the uninterrupted run', async () => {
    const full = await trainPpo(new RegimeVecEnv(4, 5), small);
    const again = await trainPpo(new RegimeVecEnv(4, 5), small);
    expect(again.history.map((h) => h.policyLoss)).toEqual(full.history.map((h) => h.policyLoss));
    expect(again.agent.parameters().get('pi.w0')).toEqual(full.agent.parameters().get('pi.w0'));
    again.agent.dispose();

    // Cancel after iteration 2 (its state is stored before the next iteration sees the abort).
    const store = new MemoryStore();
    const ac = new AbortController();
    const tensorsBefore = tf.memory().numTensors;
    await expect(
      trainPpo(new RegimeVecEnv(4, 5), small, { store, checkpointEvery: 1, onIteration: (d) => void (d.iteration === 2 && ac.abort()) }, { signal: ac.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    const saved = (await store.get<PpoResumeState>('rl/run/latest'))!;
    expect(saved.iteration).toBe(2); // the abort lands at the next iteration's start, after iteration 2's state was stored
    expect(tf.memory().numTensors).toBe(tensorsBefore); // the cancelled run freed its variables

    // Pause: no iteration completes while paused; resume continues.
    const gate = new PauseGate();
    const seen: number[] = [];
    const pausedHeld: boolean[] = [];
    const resumed = trainPpo(new RegimeVecEnv(4, 5), small, {
      resume: saved,
      gate,
      onIteration: (d) => {
        seen.push(d.iteration);
        const atPause = seen.length;
        gate.pause();
        setTimeout(() => {
          pausedHeld.push(seen.length === atPause); // nothing completed while paused
          gate.resume();
        }, 100);
      },
    });
    const r = await resumed;
    expect(seen[0]).toBe(saved.iteration + 1);
    expect(pausedHeld.length).toBeGreaterThan(0);
    expect(pausedHeld.every(Boolean)).toBe(true);
    expect(r.history.map((h) => h.policyLoss)).toEqual(full.history.map((h) => h.policyLoss));
    expect(r.agent.parameters().get('v.w1')).toEqual(full.agent.parameters().get('v.w1'));
    full.agent.dispose();
    r.agent.dispose();
  }, 60_000);

  it('reports each iteration with the time left from the second report on', async () => {
    const reports: { done: number; total?: number; etaMs?: number }[] = [];
    const r = await trainPpo(new RegimeVecEnv(4, 2), small, {}, { onProgress: (p) => void reports.push(p) });
    expect(reports.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(reports[0]!.etaMs).toBeUndefined(); // no rate yet
    for (const p of reports.slice(1)) expect(p.etaMs).toBeGreaterThanOrEqual(0);
    expect(reports.at(-1)!.etaMs).toBe(0);
    r.agent.dispose();
  });

  it('targetKl stops an update early; a cancel lands within ~50 ms', async () => {
    const r = await trainPpo(new RegimeVecEnv(4, 2), { ...small, epochs: 10, lr: 1e-2, targetKl: 1e-6 });
    expect(r.history.every((h) => h.epochsRun < 10)).toBe(true);
    r.agent.dispose();
    const ac = new AbortController();
    let abortedAt = 0;
    // Far longer than the 300 ms before the abort however fast training gets (it never finishes).
    const p = trainPpo(new RegimeVecEnv(4, 2), { ...small, totalSteps: 256 * 100_000 }, {}, { signal: ac.signal });
    setTimeout(() => {
      abortedAt = performance.now();
      ac.abort();
    }, 300);
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    // Yields every ~20 ms; 150 ms allows for a loaded 2-core test machine.
    expect(performance.now() - abortedAt).toBeLessThan(150);
  }, 30_000);
});

describe('trainJob / backtestJob (the RL page worker jobs)', () => {
  it('stores a resumable run, resumes it after a cancel, backtests the agent', async () => {
    const { trainJob, savedRun } = await import('../../../src/core/rl/ppo.ts');
    const { backtestJob } = await import('../../../src/core/rl/backtest.ts');
    const store = new MemoryStore();
    const args = {
      market: { kind: 'gbm' as const, steps: 600, seed: 3 },
      features: { modules: 'generic,sentiment' },
      env: { window: 4 },
      ppo: { rolloutLen: 128, numEnvs: 4, minibatchSize: 64, epochs: 1, totalSteps: 128 * 4, seed: 2 },
      checkpointEvery: 1,
    };
    const ac = new AbortController();
    let seen = 0;
    await expect(trainJob(args, { store }, { signal: ac.signal, onProgress: () => ++seen === 2 && ac.abort() })).rejects.toBeInstanceOf(CancelledError);
    const mid = (await savedRun(store))!;
    expect(mid.finished).toBe(false);
    expect(mid.iteration).toBeGreaterThanOrEqual(1);
    expect(mid.agent).toBeInstanceOf(Uint8Array);
    const done = await trainJob({ ...args, resume: true }, { store });
    expect(done.history).toHaveLength(4);
    expect(done.history[0]!.policyLoss).toBe(mid.history[0]!.policyLoss); // the stored iterations are kept
    expect((await savedRun(store))!.finished).toBe(true);
    const b = await backtestJob({ agent: done.agent, market: args.market });
    expect(b.span.start).toBe(420);
    expect(b.n_steps).toBe(599 - 420);
    expect(b.featureNames).toEqual(done.featureNames);
  }, 30_000);
});
