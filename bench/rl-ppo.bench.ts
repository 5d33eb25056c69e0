/**
 * PPO throughput (issue 11 item 9) at the original design's settings — rollout 2048 per iteration, 10 epochs,
 * minibatch 64, 2 × 64 tanh MLPs, observation 16 × D (+ the exposure) — against the original design's PyTorch
 * on this machine class: rollout 7.2k–7.5k steps/s, full training 2.5k–2.8k steps/s. Targets:
 * rollouts ≥ 10×, training ≥ 1× in Node. Measured on a 10 000-step hourly GBM market with a random
 * feature matrix (the env only normalises, stacks and accounts; D is what costs):
 *   rollout   VecTradingEnv (8 envs, reused buffers) + PPOAgent.act (the batched float32 CPU
 *             forward of both nets on math/simdGemm's f32x4 kernel, Gaussian sampling), env-steps per second;
 *   training  trainPpo end to end (rollout + GAE + 10 × 32 minibatch updates + diagnostics), for the
 *             update on the CPU (updateOn 'cpu', the default: float32 products, float64 master weights
 *             and Adam) and on tfjs's wasm backend ('tfjs'; RL_PPO_QUICK=1 skips it).
 * D = 8 and D = 57 (57: buildFeatureMatrix on the original design's simulated market, all four modules).
 * Every figure is per wall-clock second and per CPU-second of this process (the machine is shared:
 * the CPU-second figure is the honest per-core speed); ratios use the original design's upper figures (7.5k,
 * 2.8k) and the CPU-second rates. The kernels' own history (scalar → f64x2 → workspace → float32)
 * is in the README's benchmark notes, each step measured before/after in one session.
 * Run: npx tsx bench/rl-ppo.bench.ts — prints one JSON object (RL_PPO_D=57: that D only).
 */
import { initBackend } from '../src/core/backend/backends.ts';
import { Rng } from '../src/core/math/rng.ts';
import { VecTradingEnv } from '../src/core/rl/vecEnv.ts';
import { BENCH_BARS, benchFeatures, benchMarket } from './rlSynthMarket.ts';
import { PPOAgent } from '../src/core/rl/ppoAgent.ts';
import { trainPpo, type VecEnvLike } from '../src/core/rl/ppo.ts';
import type { PpoUpdateOn } from '../src/core/rl/ppoConfig.ts';
import { simdGemmAvailable } from '../src/core/math/simdGemm.ts';

const N = BENCH_BARS;
const WINDOW = 16;
const NUM_ENVS = 8;
const SEED_ROLLOUT = 7_500;
const SEED_TRAIN = 2_800;

function vecEnv(d: number): VecTradingEnv {
  return new VecTradingEnv(benchMarket(1), benchFeatures(d, 2), { window: WINDOW }, { numEnvs: NUM_ENVS, span: { start: 0, end: N }, seed: 1, copy: false });
}

interface Rate {
  wall: number;
  cpu: number;
}

async function timed(f: () => Promise<number> | number): Promise<Rate> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const steps = await f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: steps / wall, cpu: steps / ((c.user + c.system) / 1e6) };
}

async function best(runs: number, f: () => Promise<number> | number): Promise<Rate> {
  await f(); // warm-up (JIT)
  const top = { wall: 0, cpu: 0 };
  for (let r = 0; r < runs; r++) {
    const x = await timed(f);
    top.wall = Math.max(top.wall, x.wall);
    top.cpu = Math.max(top.cpu, x.cpu);
  }
  return top;
}

async function rolloutRate(d: number): Promise<Rate> {
  const vec = vecEnv(d);
  const agent = PPOAgent.create({ obsDim: vec.obsDim, actDim: 1, hiddenSizes: [64, 64], activation: 'tanh' }, { init: 'torch', seed: 1, logStdInit: 0 });
  const rng = Rng.stream(1, 7);
  const rate = await best(5, () => {
    let obs = vec.reset();
    let sink = 0;
    const iters = 2048 / NUM_ENVS;
    for (let k = 0; k < iters * 4; k++) {
      const a = agent.act(obs, NUM_ENVS, { rng });
      const s = vec.step(a.actions);
      sink += s.rewards[0]! + a.values[0]!;
      obs = s.obs;
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite sum');
    return iters * 4 * NUM_ENVS;
  });
  agent.dispose();
  return rate;
}

async function trainRate(d: number, updateOn: PpoUpdateOn, iterations: number): Promise<Rate & { perIteration_s: number }> {
  const vec = vecEnv(d);
  const env: VecEnvLike = vec;
  const cfg = { rolloutLen: 2048, numEnvs: NUM_ENVS, epochs: 10, minibatchSize: 64, totalSteps: 2048 * iterations, seed: 1, updateOn };
  // Warm-up: one iteration (JIT, wasm kernels).
  (await trainPpo(env, { ...cfg, totalSteps: 2048 })).agent.dispose();
  let seconds = 0;
  const rate = await timed(async () => {
    const r = await trainPpo(env, cfg);
    seconds = r.seconds;
    r.agent.dispose();
    return 2048 * iterations;
  });
  return { ...rate, perIteration_s: seconds / iterations };
}

const round = (r: Rate) => ({ wall: Math.round(r.wall), cpu: Math.round(r.cpu) });
const ratio = (x: number, ref: number) => +(x / ref).toFixed(2);

async function main(): Promise<void> {
  const a = await initBackend('wasm');
  if (!a.ok) throw new Error(`wasm backend: ${a.error}`);
  const out: Record<string, unknown> = { benchmark: 'rl-ppo', simdGemm: simdGemmAvailable(), precision: 'rollout float32; cpu update float32 products, float64 master + Adam', window: WINDOW, numEnvs: NUM_ENVS, rolloutLen: 2048, epochs: 10, minibatch: 64, hidden: [64, 64], units: 'env-steps per second: wall / per CPU-second' };
  let ok = true;
  // RL_PPO_D=8 measures one D only (a quick check).
  const ds = process.env.RL_PPO_D ? [Number(process.env.RL_PPO_D)] : [8, 57];
  for (const d of ds) {
    process.stderr.write(`D = ${d}: rollout…\n`);
    const roll = await rolloutRate(d);
    process.stderr.write(`D = ${d}: training (cpu update)…\n`);
    const cpu = await trainRate(d, 'cpu', 3);
    const tfjs = process.env.RL_PPO_QUICK ? null : (process.stderr.write(`D = ${d}: training (tfjs wasm update)…\n`), await trainRate(d, 'tfjs', 1));
    out[`d${d}`] = {
      obsDim: WINDOW * d + 1,
      rollout: round(roll),
      train_cpuUpdate: { ...round(cpu), perIteration_s: +cpu.perIteration_s.toFixed(2) },
      ...(tfjs ? { train_tfjsWasmUpdate: { ...round(tfjs), perIteration_s: +tfjs.perIteration_s.toFixed(2) } } : {}),
      rolloutVsSeed: ratio(roll.cpu, SEED_ROLLOUT),
      trainVsSeed_cpuUpdate: ratio(cpu.cpu, SEED_TRAIN),
      ...(tfjs ? { trainVsSeed_tfjsUpdate: ratio(tfjs.cpu, SEED_TRAIN) } : {}),
    };
    ok &&= roll.cpu >= 10 * SEED_ROLLOUT && cpu.cpu >= SEED_TRAIN;
  }
  out.seedPyTorch = { rollout: [7_200, 7_500], train: [2_500, 2_800] };
  out.targets = { rollout: '≥ 10× (75k steps/s)', train: '≥ 1× (2.8k steps/s)' };
  out.ok = ok;
  console.log(JSON.stringify(out));
}

void main();
