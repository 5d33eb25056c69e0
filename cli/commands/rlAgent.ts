/**
 * `rl train | backtest | gae | stats`: the PPO trader headless (issue 11 item 8), on the wasm
 * backend. The agent file is the same .hlckpt bundle the RL page downloads and loads.
 *
 *   rl train     market .npz → features → PPO on the first --train-fraction → AGENT.hlckpt
 *                (progress on stderr, one line per iteration; stdout: final diagnostics, steps/s,
 *                seconds; params, metrics and the agent file logged to tracking)
 *   rl backtest  the deterministic policy on the held-out later span, beside buy-and-hold and flat
 *   rl gae       computeGae on JSON (checking the recursion by hand)
 *   rl stats     computePnlStats of an equity list
 */
import { basename } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import type { JobContext } from '../../src/core/jobs.ts';
import { configFlags, configFromFlags, configHelp, resolveConfig } from '../../src/core/config.ts';
import type { LoadedCheckpoint } from '../../src/core/inverse/checkpoint.ts';
import type { JsonValue } from '../../src/core/io/bundle.ts';
import { readMarketNpz, type MarketData } from '../../src/core/market/marketData.ts';
import { FEATURE_CONFIG_SPEC, buildFeatureMatrix, type FeatureConfig, type FeatureDeps } from '../../src/core/features/featureMatrix.ts';
import { parseEnvConfig } from '../../src/core/rl/envConfig.ts';
import { DEFAULT_TRAIN_FRACTION, PPO_CONFIG_SPEC, resolvePpoConfig } from '../../src/core/rl/ppoConfig.ts';
import { trainOnMarket } from '../../src/core/rl/ppo.ts';
import { decodeAgentCheckpoint, encodeAgentCheckpoint } from '../../src/core/rl/agentCheckpoint.ts';
import { runBacktest } from '../../src/core/rl/backtest.ts';
import { computeGae } from '../../src/core/rl/gae.ts';
import { computePnlStats } from '../../src/core/rl/pnlStats.ts';
import { configParams, runTracked } from '../../src/core/tracking/tracker.ts';
import { loadFeatureDeps, readJsonFile, useWasm } from '../rlInputs.ts';
import { TRACKING_HELP, TRACKING_OPTIONS, startRunFromArgs } from '../tracking.ts';
import { intOption, numberOption, parse, positiveIntOption, readBytes, readJsonInput, requireOption, writeAtomic, type CommandDef } from '../io.ts';

/** The feature networks (cli/rlInputs.ts) and the BTC network's hash, which the agent records. */
async function featureDeps(market: MarketData, fc: FeatureConfig, inverseFile: string | undefined): Promise<{ deps: FeatureDeps; inverseHash: string | null }> {
  const deps = await loadFeatureDeps(market, fc, inverseFile);
  return { deps, inverseHash: (deps.inverse as LoadedCheckpoint | undefined)?.hash ?? null };
}

function round(x: number | null, digits = 6): number | null {
  return x === null ? null : +x.toPrecision(digits);
}

const train: CommandDef = {
  name: 'rl train',
  summary: 'train a PPO agent on the first part of a market (.npz) and write AGENT.hlckpt',
  usage: `npm run --silent cli -- rl train --market MARKET.npz --steps N --seed S --out AGENT.hlckpt
      [--inverse CKPT] [--config PPO.json] [--env ENV.json] [--features FEATURES.json]
      [--train-fraction ${DEFAULT_TRAIN_FRACTION}] [PPO flags] [--tracking-uri DIR --experiment NAME]

  --market FILE                 a market .npz (rl simulate, data align, or numpy with the original design's keys)
  --steps N                     environment steps in total (PPOConfig totalSteps; wins over --total-steps)
  --seed S                      weights, noise, minibatch order and episode starts (PPOConfig seed)
  --train-fraction F            train on steps [0, floor(F·n)); the rest is left for rl backtest
  --inverse CKPT                BTC inverse network for the btc features (default: the bundled one)
  --config PPO.json             PPOConfig keys (camelCase); flags below override it
  --env ENV.json                EnvConfig as rl env takes it (default: the original design's simple reward)
  --features FEATURES.json      FeatureConfig (default: every module whose data the market has)
  --out FILE                    the agent checkpoint (.hlckpt)
${TRACKING_HELP}

  PPO flags (src/core/rl/ppoConfig.ts PPO_CONFIG_SPEC):
${configHelp(PPO_CONFIG_SPEC)}`,
  async run(argv, ctx: JobContext) {
    const { values: v } = parse(argv, {
      market: { type: 'string' },
      inverse: { type: 'string' },
      config: { type: 'string' },
      env: { type: 'string' },
      features: { type: 'string' },
      steps: { type: 'string' },
      'train-fraction': { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string' },
      ...TRACKING_OPTIONS,
      ...configFlags(PPO_CONFIG_SPEC),
    });
    const marketFile = requireOption(v.market, '--market');
    const out = requireOption(v.out, '--out');
    const steps = positiveIntOption(requireOption(v.steps, '--steps'), '--steps');
    const seed = intOption(requireOption(v.seed, '--seed'), '--seed');
    if (seed < 0) throw new InputError(`--seed must be ≥ 0, got ${seed}`);
    const fraction = numberOption(v['train-fraction'], '--train-fraction', DEFAULT_TRAIN_FRACTION);
    if (!(fraction > 0 && fraction < 1)) throw new InputError(`--train-fraction must be in (0, 1), got ${fraction}`);
    const fileCfg = v.config ? (readJsonFile(v.config) as Record<string, unknown>) : {};
    const where = v.config ? basename(v.config) : 'rl train';
    const ppo = resolvePpoConfig({ ...resolveConfig(PPO_CONFIG_SPEC, fileCfg, where), ...configFromFlags(PPO_CONFIG_SPEC, v), totalSteps: steps, seed }, where);
    const envConfig = v.env ? parseEnvConfig(readJsonFile(v.env), basename(v.env)) : parseEnvConfig({}, 'env');
    const featureConfig = resolveConfig(FEATURE_CONFIG_SPEC, v.features ? readJsonFile(v.features) : {}, v.features ? basename(v.features) : 'features');
    await useWasm();
    const market = readMarketNpz(readBytes(marketFile), basename(marketFile));
    const { deps, inverseHash } = await featureDeps(market, featureConfig, v.inverse);
    const t0 = performance.now();
    process.stderr.write(`building features of ${market.name} (${market.btcPrices.length} steps)…\n`);
    const features = await buildFeatureMatrix(market, featureConfig, deps, ctx);
    const run = await startRunFromArgs(v, {
      experiment: 'rl-train',
      name: basename(out),
      params: { ...configParams(ppo), ...configParams(envConfig, 'env.'), market: basename(marketFile), trainFraction: fraction, features: features.names.length },
    });
    const result = await runTracked(run, async () => {
      const r = await trainOnMarket(
        {
          market, features, featureConfig: featureConfig as unknown as { [k: string]: JsonValue }, envConfig, ppo, trainFraction: fraction,
          name: basename(out).replace(/\.hlckpt$/, ''),
          provenance: { market: basename(marketFile), inverse: inverseHash, featureModules: features.modules },
        },
        {
          run,
          onIteration: (d) => {
            const ret = d.meanEpisodeReturn === null ? '–' : d.meanEpisodeReturn.toFixed(4);
            process.stderr.write(`iteration ${d.iteration}/${d.iterations} · ${d.globalStep} steps · episode return ${ret} · KL ${d.approxKl.toExponential(2)} · EV ${d.explainedVariance?.toFixed(3) ?? '–'} · ${Math.round(d.stepsPerSec)} steps/s\n`);
          },
        },
        ctx,
      );
      const bytes = await encodeAgentCheckpoint(r.checkpoint);
      await writeAtomic(out, bytes);
      await run?.logArtifact(`checkpoints/${basename(out)}`, bytes);
      r.agent.dispose();
      return { r, bytes };
    });
    const { r, bytes } = result;
    const back = await decodeAgentCheckpoint(bytes, basename(out));
    const last = r.history.at(-1)!;
    const trainSecs = r.history.reduce((a, h) => a + h.seconds, 0);
    return {
      out,
      hash: back.hash,
      bytes: bytes.length,
      run_id: run?.runId ?? null,
      market: market.name,
      features: features.names,
      train_span: r.trainSpan,
      iterations: r.history.length,
      steps: last.globalStep,
      seconds: +((performance.now() - t0) / 1000).toFixed(2),
      steps_per_sec: Math.round(last.globalStep / Math.max(trainSecs, 1e-9)),
      rollout_steps_per_sec: Math.round(r.history.reduce((a, h) => a + h.rolloutStepsPerSec, 0) / r.history.length),
      final: {
        policy_loss: round(last.policyLoss), value_loss: round(last.valueLoss), entropy: round(last.entropy), approx_kl: round(last.approxKl),
        clip_frac: round(last.clipFrac), explained_variance: round(last.explainedVariance), lr: round(last.lr),
        mean_episode_return: round(last.meanEpisodeReturn), mean_episode_equity: round(last.meanEpisodeEquity), mean_equity: round(last.meanEquity),
      },
    };
  },
};

const backtest: CommandDef = {
  name: 'rl backtest',
  summary: 'the deterministic policy on the held-out later span, beside buy-and-hold and flat',
  usage: `npm run --silent cli -- rl backtest --agent AGENT.hlckpt --market MARKET.npz [--from-fraction F] [--inverse CKPT] [--seed S] [--series]

  --from-fraction F             test on steps [floor(F·n), n) (default: the agent's train fraction;
                                a span that reaches into the training steps is refused)
  --inverse CKPT                BTC inverse network (default: the bundled one; it must be the network
                                the agent was trained with, checked by hash)
  --seed S                      bootstrap seed of sharpe_ci (default: the agent's seed)
  --series                      also print the per-step series (equity, actions, exposure …)

  Prints {"agent":{stats},"buy_and_hold":{stats},"flat":{stats},"n_steps":…,"sharpe_ci":[lo,hi],"psr":…,"periods_per_year":…}.`,
  async run(argv, ctx) {
    const { values: v } = parse(argv, {
      agent: { type: 'string' },
      market: { type: 'string' },
      'from-fraction': { type: 'string' },
      inverse: { type: 'string' },
      seed: { type: 'string' },
      series: { type: 'boolean' },
    });
    const agentFile = requireOption(v.agent, '--agent');
    const marketFile = requireOption(v.market, '--market');
    await useWasm();
    const ckpt = await decodeAgentCheckpoint(readBytes(agentFile), basename(agentFile));
    const market = readMarketNpz(readBytes(marketFile), basename(marketFile));
    const fc = resolveConfig(FEATURE_CONFIG_SPEC, ckpt.featureConfig, `${basename(agentFile)}: featureConfig`);
    const { deps, inverseHash } = await featureDeps(market, fc, v.inverse);
    const trainedWith = ckpt.provenance.inverse ?? null;
    if (trainedWith !== null && inverseHash !== null && trainedWith !== inverseHash) {
      throw new InputError(`the btc features would come from inverse network ${inverseHash.slice(0, 12)}…, the agent was trained on features of ${String(trainedWith).slice(0, 12)}… (pass that network with --inverse)`, '--inverse');
    }
    const features = await buildFeatureMatrix(market, fc, deps, ctx);
    const fromFraction = v['from-fraction'] === undefined ? undefined : numberOption(v['from-fraction'], '--from-fraction');
    const seed = v.seed === undefined ? undefined : intOption(v.seed, '--seed');
    const b = runBacktest(ckpt, market, features, { fromFraction, seed, file: basename(marketFile) });
    const { series, ...rest } = b;
    return { ...rest, market: market.name, agent_hash: ckpt.hash, ...(v.series ? { series } : {}) };
  },
};

function numberList(x: unknown, field: string, where: string, required = true): number[] | undefined {
  if (x === undefined && !required) return undefined;
  if (!Array.isArray(x)) throw new InputError('must be a list of numbers', `${where}: ${field}`);
  return x.map((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new InputError(`element ${i} must be a finite number, got ${JSON.stringify(e)}`, `${where}: ${field}`);
    return e;
  });
}

const gae: CommandDef = {
  name: 'rl gae',
  summary: 'GAE advantages and returns (float64) from rewards, values and dones in JSON',
  usage: `npm run --silent cli -- rl gae [--in FILE.json]   (or JSON on stdin)

  {"rewards":[…], "values":[…], "dones":[…] (1 where the episode ended, truncations included),
   "truncated":[…] (optional), "truncated_values":[…] (optional; V of the final obs where truncated),
   "last_value": V(s_T), "gamma": 0.99, "lam": 0.95}  →  {"advantages":[…], "returns":[…]}`,
  async run(argv) {
    const { values: v } = parse(argv, { in: { type: 'string' } });
    const where = v.in ? basename(v.in) : 'stdin';
    const j = readJsonInput(v.in);
    if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new InputError('must be a JSON object', where);
    const o = j as Record<string, unknown>;
    const known = ['rewards', 'values', 'dones', 'truncated', 'truncated_values', 'last_value', 'gamma', 'lam'];
    for (const k of Object.keys(o)) if (!known.includes(k)) throw new InputError(`unknown key "${k}" (known: ${known.join(', ')})`, where);
    const num = (k: string, dflt?: number) => {
      const x = o[k] ?? dflt;
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new InputError(`must be a finite number, got ${JSON.stringify(o[k])}`, `${where}: ${k}`);
      return x;
    };
    const r = computeGae(
      {
        rewards: numberList(o.rewards, 'rewards', where)!,
        values: numberList(o.values, 'values', where)!,
        dones: numberList(o.dones, 'dones', where)!,
        truncated: numberList(o.truncated, 'truncated', where, false),
        truncatedValues: numberList(o.truncated_values, 'truncated_values', where, false),
        lastValue: num('last_value'),
        gamma: num('gamma', 0.99),
        lam: num('lam', 0.95),
      },
      where,
    );
    return { advantages: Array.from(r.advantages), returns: Array.from(r.returns) };
  },
};

const stats: CommandDef = {
  name: 'rl stats',
  summary: 'backtest statistics (empyrical conventions) of an equity curve',
  usage: `npm run --silent cli -- rl stats --equity FILE.json [--periods-per-year N]

  FILE.json is a JSON list of equity values (e_0 … e_n, > 0). --periods-per-year defaults to 365
  (daily); hourly bars are 8760.`,
  async run(argv) {
    const { values: v } = parse(argv, { equity: { type: 'string' }, 'periods-per-year': { type: 'string' } });
    const file = requireOption(v.equity, '--equity');
    const ppy = numberOption(v['periods-per-year'], '--periods-per-year', 365);
    if (!(ppy > 0)) throw new InputError(`--periods-per-year must be positive, got ${ppy}`);
    const eq = numberList(readJsonFile(file), 'equity', basename(file))!;
    return { ...computePnlStats(eq, ppy, undefined, basename(file)), n_returns: eq.length - 1, periods_per_year: ppy };
  },
};

export const rlAgentCommands: CommandDef[] = [train, backtest, gae, stats];
