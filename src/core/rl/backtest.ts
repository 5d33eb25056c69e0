/**
 * The honest version of the original design's "Backtest stats" print (VII.4): the deterministic policy (the
 * Gaussian's mean) on the held-out LATER span only, beside the two baselines a user must beat,
 * with the uncertainty a user needs to tell luck from skill.
 *
 *   span       [floor(fromFraction·n), n): never earlier than the agent's training span's end
 *              (refused otherwise), and the first step is max(span.start, feature warmup).
 *   agent      TradingEnv on that span with the checkpoint's StateBuilder statistics FROZEN and an
 *              empty StateBuffer at the first step (its window holds test rows only), the
 *              checkpoint's env config (costs, leverage, funding) but no maxEpisodeSteps: one
 *              episode over the whole span (stopping early only at ruin). n_steps counts actions.
 *   buy_and_hold  buy at the first test step with the whole equity, paying the same fee and
 *              slippage on the notional, then hold (funding charged as the env charges it).
 *   flat       no position: equity constant (every ratio with a zero denominator is null).
 *   sharpe_ci  seeded 95 % percentile bootstrap of the agent's annualised Sharpe; psr the
 *              probabilistic Sharpe ratio vs SR* = 0 (pnlStats.ts).
 *
 * Before anything runs the market is compared with the agent's: bar interval, surface grid,
 * feature names (in order) and observation size; a difference is an InputError that names it.
 */
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { resolveConfig } from '../config.ts';
import type { MarketData } from '../market/marketData.ts';
import { simulateMarket, type SimMarketConfig } from '../market/simulator.ts';
import { simulateHestonMarket, type HestonMarketConfig } from '../market/hestonMarket.ts';
import { decodeCheckpoint } from '../inverse/checkpoint.ts';
import { FEATURE_CONFIG_SPEC, activeModules, buildFeatureMatrix, type FeatureConfig, type FeatureDeps } from '../features/featureMatrix.ts';
import type { FeatureMatrix } from '../features/featureEngine.ts';
import { agentFromCheckpoint, decodeAgentCheckpoint, frozenStateBuilder, type AgentCheckpoint } from './agentCheckpoint.ts';
import { computePnlStats, periodsPerYearOf, probabilisticSharpeRatio, sharpeBootstrapCi, simpleReturns, type PnlStats } from './pnlStats.ts';
import { TradingEnv, type FeatureRows } from './tradingEnv.ts';

export interface BacktestOptions {
  /** Test span starts at floor(fromFraction·n) (default: the agent's train fraction). */
  fromFraction?: number;
  /** Bootstrap seed (default: the agent's PPO seed). */
  seed?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Where the market came from, for error messages. */
  file?: string;
}

/** Per-step series for charts: index i is test step first + i (equity has one more entry: the start). */
export interface BacktestSeries {
  steps: number[];
  timesMs: number[];
  prices: number[];
  equityAgent: number[];
  equityBuyAndHold: number[];
  equityFlat: number[];
  /** Clipped actions taken at each step. */
  actions: number[];
  /** units·p/equity after each step's trade. */
  exposure: number[];
  drawdownAgent: number[];
  drawdownBuyAndHold: number[];
  /** Actions binned on [−1, 1] in 20 bins: counts[i] for [edges[i], edges[i+1]). */
  actionHistogram: { edges: number[]; counts: number[] };
  /** Raw (unnormalised) values of the volatility-regime features (names with v0 / atm_iv / variance) at each step. */
  regimeFeatures: Record<string, number[]>;
}

export interface BacktestResult {
  agent: PnlStats;
  buy_and_hold: PnlStats;
  flat: PnlStats;
  n_steps: number;
  sharpe_ci: [number, number] | null;
  psr: number | null;
  periods_per_year: number;
  span: { start: number; end: number };
  train_span: { start: number; end: number };
  terminated: boolean;
  series: BacktestSeries;
}

/**
 * floor(fraction·n) as a person means it: 0.7·700 is 489.99999999999994 in floating point, and the
 * split must say 490. A relative nudge of 1e-12 is far below one step for any n < 1e11.
 */
export function splitStep(fraction: number, n: number): number {
  return Math.floor(fraction * n * (1 + 1e-12));
}

function sameNumbers(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 1e-9 * Math.max(1, Math.abs(a[i]!))) return false;
  return true;
}

/** InputError naming the first difference between the agent's training market/features and these. */
export function checkCompatible(c: AgentCheckpoint, market: Pick<MarketData, 'dtYears' | 'kGrid' | 'tGrid'>, features: FeatureRows, file = 'market'): void {
  const fail = (what: string, agent: unknown, here: unknown) => {
    throw new InputError(`${what} differs from the agent's: the agent was trained with ${JSON.stringify(agent)}, this market has ${JSON.stringify(here)}`, file);
  };
  if (Math.abs(c.market.dtYears - market.dtYears) > 1e-9 * c.market.dtYears) {
    fail('bar interval (dtYears)', c.market.dtYears, market.dtYears);
  }
  if (!sameNumbers(c.market.kGrid, market.kGrid)) fail('surface k grid', c.market.kGrid, Array.from(market.kGrid));
  if (!sameNumbers(c.market.tGrid, market.tGrid)) fail('surface t grid', c.market.tGrid, Array.from(market.tGrid));
  const names = features.names ?? [];
  if (names.length !== c.featureNames.length) fail(`feature count (${c.featureNames.length} vs ${names.length})`, c.featureNames, names);
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== c.featureNames[i]) fail(`feature ${i}`, c.featureNames[i], names[i]);
  }
}

function histogram(x: number[], bins = 20): { edges: number[]; counts: number[] } {
  const edges = Array.from({ length: bins + 1 }, (_, i) => -1 + (2 * i) / bins);
  const counts = new Array<number>(bins).fill(0);
  for (const v of x) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v + 1) / 2) * bins)))]!++;
  return { edges, counts };
}

function drawdown(eq: number[]): number[] {
  let peak = -Infinity;
  return eq.map((e) => {
    peak = Math.max(peak, e);
    return e / peak - 1;
  });
}

export function runBacktest(c: AgentCheckpoint, market: MarketData, features: FeatureRows, opts: BacktestOptions = {}): BacktestResult {
  const file = opts.file ?? 'market';
  checkCompatible(c, market, features, file);
  const n = market.btcPrices.length;
  const fraction = opts.fromFraction ?? c.market.trainFraction;
  if (!(fraction > 0 && fraction < 1)) throw new InputError(`must be in (0, 1), got ${fraction}`, '--from-fraction');
  const start = splitStep(fraction, n);
  // Same market length: the training span is known in steps and the test must not overlap it.
  if (n === c.market.nSteps && start < c.market.trainSpan.end) {
    throw new InputError(
      `from-fraction ${fraction} starts the test at step ${start}, inside the agent's training span [${c.market.trainSpan.start}, ${c.market.trainSpan.end}); use ≥ ${c.market.trainFraction}`,
      '--from-fraction',
    );
  }
  const sb = frozenStateBuilder(c);
  const envCfg = { ...c.envConfig, maxEpisodeSteps: null };
  const env = new TradingEnv(market, features, envCfg, { span: { start, end: n }, stateBuilder: sb, seed: 0 });
  if (env.obsDim !== c.topology.obsDim) throw new InputError(`observation size ${env.obsDim} differs from the agent's ${c.topology.obsDim}`, file);
  const agent = agentFromCheckpoint(c);
  const prices = market.btcPrices;
  const first = env.first;
  let { obs, info } = env.reset({ options: { start: first } });
  const E0 = info.equity;
  const eqAgent = [E0];
  const units: number[] = [];
  const tradePrices: number[] = [];
  const actions: number[] = [];
  const exposure: number[] = [];
  const steps: number[] = [];
  let terminated = false;
  try {
    for (;;) {
      const t = env.t;
      const { actions: a } = agent.act(obs, 1, { deterministic: true });
      const clipped = Math.max(-1, Math.min(1, a[0]!));
      const s = env.step(clipped);
      steps.push(t);
      actions.push(clipped);
      units.push(s.info.units);
      tradePrices.push(prices[t]!);
      exposure.push(s.info.exposure);
      eqAgent.push(Math.max(s.info.equity, Number.MIN_VALUE));
      obs = s.obs;
      info = s.info;
      if (s.terminated) terminated = true;
      if (s.terminated || s.truncated) break;
    }
  } finally {
    agent.dispose();
  }
  const nSteps = steps.length;

  // Buy-and-hold with the env's costs: E0 = u·p0·(1 + fee) → u = E0 / (p0·(1 + fee)).
  const fee = c.envConfig.transactionCost + c.envConfig.slippageBps * 1e-4;
  const p0 = prices[first]!;
  const uHold = E0 / (p0 * (1 + fee));
  let cash = E0 - uHold * p0 * (1 + fee);
  const eqHold = [E0];
  for (let i = 0; i < nSteps; i++) {
    const t1 = steps[i]! + 1;
    if (c.envConfig.funding) cash -= uHold * prices[t1]! * market.btcFunding[t1]!;
    eqHold.push(Math.max(cash + uHold * prices[t1]!, Number.MIN_VALUE));
  }
  const eqFlat = new Array<number>(nSteps + 1).fill(E0);

  const ppy = periodsPerYearOf(market.dtYears);
  const r = simpleReturns(eqAgent);
  const seed = opts.seed ?? c.ppoConfig.seed;
  const regimeFeatures: Record<string, number[]> = {};
  const names = features.names ?? [];
  names.forEach((name, j) => {
    if (/v0|atm_iv|variance/i.test(name)) regimeFeatures[name] = steps.map((t) => features.values[t * features.d + j]!);
  });
  return {
    agent: computePnlStats(eqAgent, ppy, { units, prices: tradePrices }),
    buy_and_hold: computePnlStats(eqHold, ppy, { units: new Array(nSteps).fill(uHold), prices: tradePrices }),
    flat: computePnlStats(eqFlat, ppy, { units: new Array(nSteps).fill(0), prices: tradePrices }),
    n_steps: nSteps,
    sharpe_ci: sharpeBootstrapCi(r, ppy, { seed, resamples: opts.resamples }),
    psr: probabilisticSharpeRatio(r),
    periods_per_year: ppy,
    span: { start: first, end: n },
    train_span: { ...c.market.trainSpan },
    terminated,
    series: {
      steps,
      timesMs: steps.map((t) => market.timesMs[t]!),
      prices: steps.map((t) => prices[t]!),
      equityAgent: eqAgent,
      equityBuyAndHold: eqHold,
      equityFlat: eqFlat,
      actions,
      exposure,
      drawdownAgent: drawdown(eqAgent),
      drawdownBuyAndHold: drawdown(eqHold),
      actionHistogram: histogram(actions),
      regimeFeatures,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Jobs for the RL page's worker (workers/rl.worker.ts): the same in a worker and in Node.

/** A market a job can rebuild: simulated from a seed, or given as data (a stored RealMarketData). */
export type MarketSpec =
  | { kind: 'gbm'; steps: number; seed: number; config?: Partial<SimMarketConfig> }
  | { kind: 'heston'; steps: number; seed: number; config?: Partial<HestonMarketConfig> }
  | { kind: 'data'; data: MarketData };

export interface FeatureInputs {
  features?: Partial<FeatureConfig>;
  /** BTC inverse network (.hlckpt bytes), e.g. the bundled one; needed when the btc module is on. */
  inverse?: Uint8Array;
  /** Pseudo-surface network for the shitcoin module. */
  shitcoinInverse?: Uint8Array;
}

export async function marketFromSpec(spec: MarketSpec, ctx: JobContext = {}): Promise<MarketData> {
  if (spec.kind === 'data') return spec.data;
  if (!Number.isInteger(spec.steps) || spec.steps < 3) throw new InputError(`must be a whole number ≥ 3, got ${spec.steps}`, 'market.steps');
  if (spec.kind === 'gbm') return simulateMarket({ ...spec.config, nSteps: spec.steps }, spec.seed);
  if (spec.kind === 'heston') return simulateHestonMarket({ ...spec.config, nSteps: spec.steps }, spec.seed, ctx);
  throw new InputError(`must be gbm, heston or data, got ${JSON.stringify((spec as { kind: unknown }).kind)}`, 'market.kind');
}

/** Market → feature matrix with the given networks (cached nowhere: the job's inputs define it). */
export async function marketAndFeatures(spec: MarketSpec, f: FeatureInputs, ctx: JobContext = {}): Promise<{ market: MarketData; features: FeatureMatrix; featureConfig: FeatureConfig; inverseHash: string | null }> {
  const market = await marketFromSpec(spec, ctx);
  const featureConfig = resolveConfig(FEATURE_CONFIG_SPEC, f.features ?? {}, 'features');
  const active = activeModules(market, featureConfig);
  const deps: FeatureDeps = {};
  let inverseHash: string | null = null;
  if (active.includes('btc')) {
    if (!f.inverse) throw new InputError('the btc features need the BTC inverse network (the page passes the bundled one)', 'inverse');
    const ck = await decodeCheckpoint(f.inverse, 'inverse.hlckpt');
    deps.inverse = ck;
    inverseHash = ck.hash;
  }
  if (active.includes('shitcoin')) {
    if (!f.shitcoinInverse) throw new InputError('the shitcoin features need the pseudo-surface network', 'shitcoinInverse');
    deps.shitcoinInverse = await decodeCheckpoint(f.shitcoinInverse, 'shitcoin-inverse.hlckpt');
  }
  const features = await buildFeatureMatrix(market, featureConfig, deps, ctx);
  return { market, features, featureConfig, inverseHash };
}

export interface BacktestJobArgs extends FeatureInputs {
  /** The agent (.hlckpt bytes). */
  agent: Uint8Array;
  market: MarketSpec;
  fromFraction?: number;
  seed?: number;
}

/** Decode the agent, rebuild the market's features with the agent's feature config, backtest. */
export async function backtestJob(a: BacktestJobArgs, ctx: JobContext = {}): Promise<BacktestResult & { featureNames: string[] }> {
  const ckpt = await decodeAgentCheckpoint(a.agent, 'agent.hlckpt');
  const { market, features, inverseHash } = await marketAndFeatures(a.market, { ...a, features: ckpt.featureConfig as Partial<FeatureConfig> }, ctx);
  const trainedWith = ckpt.provenance.inverse ?? null;
  if (trainedWith !== null && inverseHash !== null && trainedWith !== inverseHash) {
    throw new InputError(`the agent was trained on features of another inverse network (${String(trainedWith).slice(0, 12)}…, here ${inverseHash.slice(0, 12)}…)`, 'inverse');
  }
  return { ...runBacktest(ckpt, market, features, { fromFraction: a.fromFraction, seed: a.seed, file: market.name }), featureNames: features.names };
}
