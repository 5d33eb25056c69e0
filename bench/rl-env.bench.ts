/**
 * TradingEnv throughput (issue 10 item 8): environment steps per second with uniform random
 * actions in [−1, 1], window 16, on a 10 000-step hourly GBM market with a random feature matrix
 * (the env only normalises, stacks and does the accounting, so what the features mean does not
 * matter here; D is what does). Measured:
 *   - stepInto (allocation-free: obs written into one preallocated array), for D = 8 and D = 57
 *     (57: what buildFeatureMatrix gives on the seed's simulated market, all four modules on);
 *   - step() (the Gymnasium form: a fresh obs array and info object per step), D = 57;
 *   - VecTradingEnv, 16 envs, D = 57, with reused buffers (copy: false) and with copies (default);
 *     vectorised figures are env-steps per second (16 per vec step).
 * Aim: more than the seed's Python TradingEnv, ~735k steps/s on this machine class.
 * Each figure is the best of 5 timed runs after a warm-up, both per wall-clock second and per
 * CPU-second of this process (on a shared 2-core machine other jobs steal the core mid-run: the
 * CPU-second figure is the honest per-core speed, the wall figure what a user waits).
 * Run: npx tsx bench/rl-env.bench.ts — prints one JSON object.
 */
import { Rng } from '../src/core/math/rng.ts';
import { TradingEnv } from '../src/core/rl/tradingEnv.ts';
import { VecTradingEnv } from '../src/core/rl/vecEnv.ts';
import { BENCH_BARS, benchFeatures, benchMarket } from './rlSynthMarket.ts';

const N = BENCH_BARS;
const WINDOW = 16;

const actions = (() => {
  const rng = new Rng(3);
  return Float64Array.from({ length: 1 << 16 }, () => rng.range(-1, 1));
})();
const MASK = actions.length - 1;

interface Rate {
  wall: number;
  cpu: number;
}

/** f runs `steps` steps and returns them; best wall and best CPU rates over `runs` runs. */
function best(runs: number, f: () => number): Rate {
  f(); // warm-up (JIT)
  const top = { wall: 0, cpu: 0 };
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const steps = f();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    top.wall = Math.max(top.wall, steps / wall);
    top.cpu = Math.max(top.cpu, steps / ((c.user + c.system) / 1e6));
  }
  return top;
}

const m = benchMarket(1);

function stepIntoRate(d: number, steps: number): Rate {
  const env = new TradingEnv(m, benchFeatures(d, 2), { window: WINDOW }, { seed: 1 });
  const obs = new Float32Array(env.obsDim);
  return best(5, () => {
    env.resetInto(undefined, obs, 0);
    let sink = 0;
    for (let k = 0; k < steps; k++) {
      sink += env.stepInto(actions[k & MASK]!, obs, 0);
      if (env.terminated || env.truncated) env.resetInto(undefined, obs, 0);
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite reward sum');
    return steps;
  });
}

function gymStepRate(d: number, steps: number): Rate {
  const env = new TradingEnv(m, benchFeatures(d, 2), { window: WINDOW }, { seed: 1 });
  return best(5, () => {
    env.reset();
    let sink = 0;
    for (let k = 0; k < steps; k++) {
      const r = env.step(actions[k & MASK]!);
      sink += r.obs[0]! + r.info.equity;
      if (r.terminated || r.truncated) env.reset();
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite sum');
    return steps;
  });
}

function vecRate(d: number, numEnvs: number, vecSteps: number, copy: boolean): Rate {
  const vec = new VecTradingEnv(m, benchFeatures(d, 2), { window: WINDOW }, { numEnvs, span: { start: 0, end: N }, seed: 1, copy });
  const a = new Float32Array(numEnvs);
  return best(5, () => {
    vec.reset();
    let sink = 0;
    for (let k = 0; k < vecSteps; k++) {
      for (let i = 0; i < numEnvs; i++) a[i] = actions[(k * numEnvs + i) & MASK]!;
      const r = vec.step(a);
      sink += r.rewards[0]!;
    }
    if (!Number.isFinite(sink)) throw new Error('non-finite sum');
    return vecSteps * numEnvs;
  });
}

const round = (r: Rate) => ({ wall: Math.round(r.wall), cpu: Math.round(r.cpu) });
const stepInto8 = stepIntoRate(8, 1_000_000);
const stepInto57 = stepIntoRate(57, 500_000);
const gym57 = gymStepRate(57, 200_000);
const vec16 = vecRate(57, 16, 20_000, false);
const vec16copy = vecRate(57, 16, 10_000, true);

console.log(
  JSON.stringify({
    benchmark: 'rl-env',
    window: WINDOW,
    marketSteps: N,
    units: 'steps per second: wall / per CPU-second (vectorised: env-steps)',
    stepInto_d8: round(stepInto8),
    stepInto_d57: round(stepInto57),
    gymStep_d57: round(gym57),
    vec16_d57_noCopy: round(vec16),
    vec16_d57_copy: round(vec16copy),
    seedPythonStepsPerSec: 735_000,
    ok: stepInto8.cpu > 735_000 && stepInto57.cpu > 735_000,
  }),
);
