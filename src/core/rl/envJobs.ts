/**
 * The environment's end-to-end job, the same in a worker (workers/rl.worker.ts), the page and
 * Node: simulate a market from a seed, build its feature matrix with the given inverse network(s)
 * on the active tfjs backend, and run one episode — a seeded start and seeded uniform actions, or
 * a fixed list of actions — returning every step's accounting and the final observation. The
 * browser test runs it in a worker and in Node and compares: same seed, same episode.
 */
import { InputError } from '../errors.ts';
import type { JobContext } from '../jobs.ts';
import { Rng } from '../math/rng.ts';
import { decodeCheckpoint } from '../inverse/checkpoint.ts';
import type { MarketData } from '../market/marketData.ts';
import { simulateMarket, type SimMarketConfig } from '../market/simulator.ts';
import { simulateHestonMarket, type HestonMarketConfig } from '../market/hestonMarket.ts';
import { buildFeatureMatrix, type FeatureConfig, type FeatureDeps } from '../features/featureMatrix.ts';
import type { EnvConfigInput } from './envConfig.ts';
import { replayActions, type ReplayStep } from './replay.ts';
import { TradingEnv } from './tradingEnv.ts';

export interface EnvEpisodeJobArgs {
  /** The seed's GBM market (gbm) or the Heston market (heston), `steps` rows from `seed`. */
  market: { kind: 'gbm' | 'heston'; steps: number; seed: number; config?: Partial<SimMarketConfig> | Partial<HestonMarketConfig> };
  features?: Partial<FeatureConfig>;
  /** BTC inverse-network checkpoint (.hlckpt bytes), e.g. the bundled one. */
  inverse?: Uint8Array;
  /** Pseudo-surface network for the shitcoin module. */
  shitcoinInverse?: Uint8Array;
  env?: EnvConfigInput;
  /**
   * seed: the start step (reset({seed})) and, without `actions`, uniform actions in [−1, 1] from
   * their own stream; `maxSteps` caps a random episode (default: until it ends).
   */
  episode: { seed: number; actions?: number[]; start?: number; maxSteps?: number };
}

export interface EnvEpisodeJobResult {
  marketName: string;
  featureNames: string[];
  d: number;
  warmup: number;
  start: number;
  steps: ReplayStep[];
  finalObs: number[];
}

/** Named Rng stream ids. */
const STREAM = { actions: 2 } as const;

async function simulate(spec: EnvEpisodeJobArgs['market'], ctx: JobContext): Promise<MarketData> {
  if (!Number.isInteger(spec.steps) || spec.steps < 3) throw new InputError(`must be a whole number ≥ 3, got ${spec.steps}`, 'market.steps');
  if (spec.kind === 'gbm') return simulateMarket({ ...(spec.config as Partial<SimMarketConfig>), nSteps: spec.steps }, spec.seed);
  if (spec.kind === 'heston') return simulateHestonMarket({ ...(spec.config as Partial<HestonMarketConfig>), nSteps: spec.steps } as Partial<HestonMarketConfig>, spec.seed, ctx);
  throw new InputError(`must be gbm or heston, got ${JSON.stringify((spec as { kind: unknown }).kind)}`, 'market.kind');
}

export async function envEpisodeJob(args: EnvEpisodeJobArgs, ctx: JobContext = {}): Promise<EnvEpisodeJobResult> {
  const market = await simulate(args.market, ctx);
  const deps: FeatureDeps = {};
  if (args.inverse) deps.inverse = await decodeCheckpoint(args.inverse, 'inverse.hlckpt');
  if (args.shitcoinInverse) deps.shitcoinInverse = await decodeCheckpoint(args.shitcoinInverse, 'shitcoin-inverse.hlckpt');
  const fm = await buildFeatureMatrix(market, args.features ?? {}, deps, ctx);
  const ep = args.episode;
  // The start a TradingEnv seeded ep.seed draws (its Gymnasium reset), unless one is given.
  const start = ep.start ?? new TradingEnv(market, fm, args.env ?? {}).reset({ seed: ep.seed }).info.t;
  let actions = ep.actions;
  if (!actions) {
    // Uniform actions until the data's last step, or maxSteps.
    const room = market.btcPrices.length - 1 - start;
    const rng = Rng.stream(ep.seed, STREAM.actions);
    actions = Array.from({ length: Math.min(room, ep.maxSteps ?? room) }, () => rng.range(-1, 1));
  }
  const r = replayActions(market, fm, args.env ?? {}, { start, actions }, 'episode');
  return { marketName: market.name, featureNames: fm.names, d: fm.d, warmup: fm.warmup, start, steps: r.steps, finalObs: Array.from(r.finalObs) };
}
