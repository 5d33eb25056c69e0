/**
 * The RL environment in a browser worker: simulate the seed's GBM market, build its features with
 * the bundled inverse networks (wasm backend) and run a seeded episode in workers/rl.worker.ts,
 * then do the same in Node and compare — same seed, same market, same start, same accounting.
 * The worker is bundled by Vite with the lab's build settings on a small test page
 * (tests/e2e/rlenv/), so this runs before any RL page exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab, stopServer } from './harness.ts';
import { initBackend } from '../../src/core/backend/backends.ts';
import { envEpisodeJob, type EnvEpisodeJobArgs, type EnvEpisodeJobResult } from '../../src/core/rl/envJobs.ts';
import { trainJob, type TrainJobArgs, type TrainJobResult } from '../../src/core/rl/ppo.ts';
import { decodeAgentCheckpoint } from '../../src/core/rl/agentCheckpoint.ts';

let out = '';

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'heston-lab-rlenv-'));
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '-c', 'tests/e2e/rlenv/vite.config.ts'], { env: { ...process.env, RLENV_OUT: out }, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`vite build of the RL test page failed (status ${r.status})`);
  process.env.LAB_DIST = out;
}, 120_000);

afterAll(async () => {
  await stopServer();
  if (out) rmSync(out, { recursive: true, force: true });
});

/** 800 hourly rows: the shitcoin module's 480-step pseudo-surface window fills (warmup ~530). */
const ARGS: Omit<EnvEpisodeJobArgs, 'inverse' | 'shitcoinInverse'> = {
  market: { kind: 'gbm', steps: 800, seed: 7 },
  env: { reward: 'risk', funding: true, transactionCost: 0.0005 },
  episode: { seed: 3, maxSteps: 60 },
};

describe('TradingEnv in a worker', () => {
  it('builds features and runs the same seeded episode as Node', async () => {
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(lab.url);
      await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 60_000 });
      const browser = (await page.evaluate(async (args) => {
        type Client = { run(name: string, a: unknown): Promise<unknown> };
        const c = (window as unknown as { rlJobs: Client }).rlJobs;
        const picked = (await c.run('setBackend', { name: 'wasm' })) as { active: string };
        if (picked.active !== 'wasm') throw new Error(`worker backend is ${picked.active}, not wasm`);
        const bytes = async (p: string) => new Uint8Array(await (await fetch(p)).arrayBuffer());
        return c.run('envEpisode', { ...args, inverse: await bytes('checkpoints/seed-grid-heston.hlckpt'), shitcoinInverse: await bytes('checkpoints/shitcoin-pseudo-heston.hlckpt') });
      }, ARGS)) as EnvEpisodeJobResult;

      const a = await initBackend('wasm');
      if (!a.ok) throw new Error(`wasm backend unavailable in Node: ${a.error}`);
      const file = (p: string) => new Uint8Array(readFileSync(new URL(`../../public/checkpoints/${p}`, import.meta.url)));
      const node = await envEpisodeJob({ ...ARGS, inverse: file('seed-grid-heston.hlckpt'), shitcoinInverse: file('shitcoin-pseudo-heston.hlckpt') });

      expect(browser.marketName).toBe(node.marketName);
      expect(browser.featureNames).toEqual(node.featureNames);
      expect(browser.warmup).toBe(node.warmup);
      expect(browser.start).toBe(node.start);
      expect(browser.start).toBeGreaterThanOrEqual(node.warmup);
      expect(browser.steps.length).toBe(60);
      expect(browser.steps.map((s) => s.t)).toEqual(node.steps.map((s) => s.t));
      // Accounting: prices come from Box–Muller draws (Math.log/cos), which Node's and Chromium's
      // V8 may round one ulp apart (src/core/math/rng.ts); everything after that is the same
      // float64 arithmetic, so 1e-9 relative is ~1e6 ulps of slack and still catches any change
      // of formula (a 5 bp fee is 5e-4 relative). Measured: bit-identical (Node 20, Chromium 156).
      const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(1, Math.abs(y));
      browser.steps.forEach((s, k) => {
        const n = node.steps[k]!;
        expect(s.action).toBe(n.action);
        for (const key of ['equity', 'units', 'cash', 'cost', 'exposure'] as const) expect(rel(s[key], n[key])).toBeLessThan(1e-9);
        expect(Math.abs(s.reward - n.reward)).toBeLessThan(1e-9);
        expect([s.terminated, s.truncated]).toEqual([n.terminated, n.truncated]);
      });
      // The observation goes through the inverse networks (float32 wasm kernels, the same binary in
      // both) and the z-scores; 1e-4 absolute on values clipped to ±5 allows float32 reassociation
      // and still catches a shifted window or a different normalisation (those move entries by O(1)).
      // Measured: bit-identical.
      expect(browser.finalObs.length).toBe(node.finalObs.length);
      const worst = Math.max(...browser.finalObs.map((v, i) => Math.abs(v - node.finalObs[i]!)));
      expect(worst).toBeLessThan(1e-4);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });

  it('PPO trains to the same parameters in the worker as in Node (wasm SIMD kernels, float32 products, seeded)', async () => {
    // Two iterations of 256 steps over 4 envs, 2 epochs of minibatch 64: every kernel of the CPU
    // update (f32x4 products, the mixed-precision Adam, the f32x4 tanh) and of the rollout forward runs.
    const args: TrainJobArgs = {
      market: { kind: 'gbm', steps: 800, seed: 7 },
      features: { modules: 'generic,sentiment' },
      ppo: { totalSteps: 512, rolloutLen: 256, numEnvs: 4, epochs: 2, minibatchSize: 64, seed: 5 },
      trainFraction: 0.7,
      checkpointEvery: 0,
    };
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(lab.url);
      await page.waitForSelector('body[data-ready="1"]', { state: 'attached', timeout: 60_000 });
      const browser = (await page.evaluate(async (a) => {
        type Client = { run(name: string, x: unknown): Promise<unknown> };
        const c = (window as unknown as { rlJobs: Client }).rlJobs;
        await c.run('setBackend', { name: 'wasm' });
        return c.run('train', a);
      }, args)) as TrainJobResult;
      const a = await initBackend('wasm');
      if (!a.ok) throw new Error(`wasm backend unavailable in Node: ${a.error}`);
      const node = await trainJob(args, {});
      const pb = (await decodeAgentCheckpoint(new Uint8Array(browser.agent), 'browser.hlckpt')).params;
      const pn = (await decodeAgentCheckpoint(node.agent, 'node.hlckpt')).params;
      expect([...pb.keys()]).toEqual([...pn.keys()]);
      // Same bits: wasm arithmetic is fully specified, the rollout noise and shuffles are integer
      // streams, and tanh is plain float32 IEEE arithmetic (math/simdTanh). Measured: bit-identical.
      for (const [k, v] of pn) expect(Array.from(pb.get(k)!)).toEqual(Array.from(v));
      expect(browser.history.map((d) => d.policyLoss)).toEqual(node.history.map((d) => d.policyLoss));
      expect(browser.history).toHaveLength(2);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close();
    }
  });
});
