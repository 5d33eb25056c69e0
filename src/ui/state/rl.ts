/**
 * RL page settings: the market (which simulator, its length and seed, or a stored RealMarketData
 * by name), the feature modules, the environment and reward (ENV_CONFIG_SPEC, its nested
 * rewardConfig flattened to top-level fields so every number has its own flag in the link), the
 * whole PPOConfig (PPO_CONFIG_SPEC: the flags `rl train` takes) and the train split. Defaults come
 * from the core specs; the three page overrides below say why. `#/rl?lr=0.0001&reward=risk` is a
 * link to a setup.
 */
import type { ConfigSpec } from '../../core/config.ts';
import { DEFAULT_TRAIN_FRACTION, PPO_CONFIG_SPEC, type PPOConfig } from '../../core/rl/ppoConfig.ts';
import { ENV_CONFIG_SPEC, type EnvConfig, type EnvConfigInput } from '../../core/rl/envConfig.ts';
import { REWARD_CONFIG_SPEC, type RewardConfig } from '../../core/rl/rewardEngine.ts';
import { HESTON_MARKET_CONFIG_SPEC } from '../../core/market/hestonMarket.ts';
import { FEATURE_CONFIG_SPEC } from '../../core/features/featureMatrix.ts';
import { pickSpec } from './urlState.ts';

export type RlMarketKind = 'hestonRegimes' | 'heston' | 'gbm' | 'stored';

type EnvFields = Omit<EnvConfig, 'rewardConfig'>;

export interface RlState extends PPOConfig, EnvFields, RewardConfig {
  marketKind: RlMarketKind;
  marketSteps: number;
  marketSeed: number;
  /** Name of the stored RealMarketData ('' = the first one this browser holds). */
  stored: string;
  modules: string;
  trainFraction: number;
  checkpointEvery: number;
}

const { rewardConfig: _nested, ...ENV_FIELDS_SPEC } = ENV_CONFIG_SPEC;
export const ENV_FIELD_KEYS = Object.keys(ENV_FIELDS_SPEC) as (keyof EnvFields)[];
export const REWARD_FIELD_KEYS = Object.keys(REWARD_CONFIG_SPEC) as (keyof RewardConfig)[];
export const PPO_FIELD_KEYS = Object.keys(PPO_CONFIG_SPEC) as (keyof PPOConfig)[];

/** The environment/reward part of the page's form: EnvConfig's own fields, then the reward terms. */
export const RL_ENV_FORM_SPEC: ConfigSpec<EnvFields & RewardConfig> = { ...(ENV_FIELDS_SPEC as ConfigSpec<EnvFields>), ...REWARD_CONFIG_SPEC };

export const RL_STATE_SPEC: ConfigSpec<RlState> = {
  marketKind: { default: 'hestonRegimes', choices: ['hestonRegimes', 'heston', 'gbm', 'stored'], doc: 'market: simulated Heston with two regimes and a variance-linked drift, Heston defaults, the original design’s GBM, or a stored RealMarketData' },
  // 4 000 bars where the simulators default to 10 000: the btc features run the inverse network
  // on every surface in the worker, and a page run is watched; 0.7 of 4 000 still trains on 2 800 h.
  marketSteps: { ...HESTON_MARKET_CONFIG_SPEC.nSteps, default: 4000, min: 100, doc: 'rows of the simulated market (hourly bars)' },
  marketSeed: { ...HESTON_MARKET_CONFIG_SPEC.seed, min: 0, doc: 'seed of the simulated market' },
  stored: { default: '', doc: 'name of the stored RealMarketData (empty: the first one)' },
  // 'btc,generic' where the feature config says 'auto': auto would add the neutral sentiment
  // module (a constant on simulated markets, issue 10) and, on stored markets, shitcoin features
  // that need a second network the page does not load.
  modules: { ...FEATURE_CONFIG_SPEC.modules, default: 'btc,generic' },
  trainFraction: { default: DEFAULT_TRAIN_FRACTION, min: 0.1, max: 0.95, doc: 'train on steps [0, floor(F·n)); the backtest uses the rest (rl train --train-fraction)' },
  checkpointEvery: { default: 5, min: 1, integer: true, doc: 'iterations between resumable states stored in IndexedDB' },
  ...(ENV_FIELDS_SPEC as ConfigSpec<EnvFields>),
  ...REWARD_CONFIG_SPEC,
  // PPOConfig's own defaults, totalSteps 200 000 included (the page once started at 40 960 so a
  // first run ended in about a minute; with the float32 CPU update 200 000 steps on the default
  // market take ~20 s in headless Chromium on the 2-core test machine).
  ...PPO_CONFIG_SPEC,
};

/** The PPOConfig part of the page's form. */
export const RL_PPO_FORM_SPEC: ConfigSpec<PPOConfig> = pickSpec(RL_STATE_SPEC, ...PPO_FIELD_KEYS);

const pick = <K extends keyof RlState>(st: RlState, keys: K[]) => Object.fromEntries(keys.map((k) => [k, st[k]])) as Pick<RlState, K>;

/** The EnvConfig input the state describes (reward terms nested again). */
export function envOf(st: RlState): EnvConfigInput {
  return { ...pick(st, ENV_FIELD_KEYS), rewardConfig: pick(st, REWARD_FIELD_KEYS) };
}

/** The PPOConfig the state describes. */
export function ppoOf(st: RlState): PPOConfig {
  return pick(st, PPO_FIELD_KEYS);
}
