/**
 * EnvConfig: every knob of the TradingEnv, declared once as a ConfigSpec (src/core/config.ts) so
 * the ENV.json of `rl env`, the CLI help and the page form share one default and one doc line.
 * Keys are the code's camelCase names (issue 10 item 7); an omitted key takes its default, an
 * unknown key (at any level) is an InputError naming the file and the key.
 *
 * rewardPreset picks where the RewardEngine's numbers come from when reward is "risk":
 *   "original" rewardConfig as given (defaults: the original design's raw per-step numbers);
 *   "perYear"  perYearRewardConfig(market.dtYears): the penalties as per-year rates converted to
 *              the bar interval (rewardEngine.ts explains why the raw numbers teach an agent to stay
 *              flat). It sets every term: a rewardConfig that differs from the defaults is an error with it.
 */
import { resolveConfig, defaultsOf, type ConfigSpec } from '../config.ts';
import { InputError } from '../errors.ts';
import { DEFAULT_CLIP_VALUE, DEFAULT_WINDOW } from '../features/stateBuilder.ts';
import { REWARD_CONFIG_SPEC, perYearRewardConfig, type RewardConfig } from './rewardEngine.ts';

export type RewardKind = 'simple' | 'risk';
export type RewardPreset = 'original' | 'perYear';

export interface EnvConfig {
  initialCapital: number;
  transactionCost: number;
  slippageBps: number;
  maxLeverage: number;
  ruinFraction: number;
  maxEpisodeSteps: number | null;
  funding: boolean;
  reward: RewardKind;
  rewardPreset: RewardPreset;
  rewardConfig: RewardConfig;
  window: number;
  clipValue: number;
}

/** What callers may pass: any subset, the reward config partial too. */
export type EnvConfigInput = Partial<Omit<EnvConfig, 'rewardConfig'>> & { rewardConfig?: Partial<RewardConfig> };

export const ENV_CONFIG_SPEC: ConfigSpec<EnvConfig> = {
  initialCapital: { default: 10_000, doc: 'cash at reset', min: Number.MIN_VALUE, unit: 'USD' },
  transactionCost: { default: 0.0005, doc: 'fee per unit of traded notional (original design: 0.0005 = 5 bps)', min: 0, max: 0.5 },
  slippageBps: { default: 0, doc: 'extra cost per unit of traded notional', min: 0, max: 5000, unit: 'bps' },
  maxLeverage: { default: 1, doc: 'action ±1 targets ±maxLeverage × equity of exposure', min: Number.MIN_VALUE, max: 100 },
  ruinFraction: { default: 0.1, doc: 'terminate when equity ≤ ruinFraction × initialCapital', min: 0, max: 1 },
  maxEpisodeSteps: { default: null, doc: 'truncate an episode after this many steps (none: at the span end)', nullable: true, min: 1, integer: true },
  funding: { default: false, doc: 'charge perpetual funding units·p·funding at funding steps' },
  reward: { default: 'simple', doc: 'simple: Δequity/initialCapital (original design); risk: the RewardEngine', choices: ['simple', 'risk'] },
  rewardPreset: { default: 'original', doc: 'risk reward numbers: original (the original design’s raw per-step numbers, rewardConfig: on hourly bars the leverage term alone costs ~730× the expected return of holding, so an agent learns to stay flat) or perYear (the penalties read as per-year rates, scaled to the bar)', choices: ['original', 'perYear'] },
  rewardConfig: { default: defaultsOf(REWARD_CONFIG_SPEC), doc: 'RewardEngine terms (per step)', fields: REWARD_CONFIG_SPEC },
  window: { default: DEFAULT_WINDOW, doc: 'feature rows stacked in an observation', min: 1, max: 4096, integer: true },
  clipValue: { default: DEFAULT_CLIP_VALUE, doc: 'normalised features are clipped to ±clipValue', min: Number.MIN_VALUE },
};

export const DEFAULT_ENV_CONFIG: EnvConfig = defaultsOf(ENV_CONFIG_SPEC);

/** A full config from a partial one (code, a form, a file's JSON), checked; `where` names the source. */
export function resolveEnvConfig(partial: unknown, where = 'env config'): EnvConfig {
  const cfg = resolveConfig(ENV_CONFIG_SPEC, partial, where);
  // A resolved config passed on (parseEnvConfig's result handed to an env) carries the default
  // rewardConfig: only numbers that differ from it conflict with the preset.
  const d = DEFAULT_ENV_CONFIG.rewardConfig;
  const differs = (Object.keys(d) as (keyof RewardConfig)[]).some((k) => cfg.rewardConfig[k] !== d[k]);
  if (cfg.rewardPreset === 'perYear' && differs) {
    throw new InputError('cannot be combined with rewardPreset "perYear" (the preset sets every term; use "original" to give them)', `${where}: rewardConfig`);
  }
  return cfg;
}

/** ENV.json (text or parsed JSON) → EnvConfig; errors name `file` and the key. */
export function parseEnvConfig(json: unknown, file: string): EnvConfig {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new InputError(`not valid JSON: ${(e as Error).message}`, file);
    }
  }
  return resolveEnvConfig(value, file);
}

/** The RewardEngine's per-step numbers for this config on bars of dtYears. */
export function effectiveRewardConfig(cfg: EnvConfig, dtYears: number): RewardConfig {
  return cfg.rewardPreset === 'perYear' ? perYearRewardConfig(dtYears) : cfg.rewardConfig;
}
