/**
 * Replaying a fixed list of actions through a TradingEnv: what `rl env` prints and what the
 * browser test runs in a worker, so a user can check the accounting by hand. The replay starts at
 * `start`, takes action k at step start + k, and ends with the actions or at the first terminated
 * or truncated step (a time limit or a ruin, reported on that step). Actions that would be taken at
 * or after the data's last step — there is no next price to settle them at — are refused up front.
 */
import { InputError } from '../errors.ts';
import type { EnvConfigInput } from './envConfig.ts';
import { TradingEnv, type EnvMarket, type FeatureRows, type TradingEnvOptions } from './tradingEnv.ts';

export interface ReplayInput {
  start: number;
  actions: number[];
}

export interface ReplayStep {
  /** The step the action was taken at (the trade fills at btcPrices[t]). */
  t: number;
  action: number;
  reward: number;
  equity: number;
  units: number;
  cash: number;
  cost: number;
  exposure: number;
  terminated: boolean;
  truncated: boolean;
}

export interface ReplayResult {
  start: number;
  steps: ReplayStep[];
  /** The observation after the last step (window·D + 1 values). */
  finalObs: Float32Array;
}

/** {"start": t0, "actions": [a0, a1, …]}: strict (unknown keys, non-numbers refused, naming `file`). */
export function parseReplayInput(json: unknown, file: string): ReplayInput {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new InputError('must be a JSON object {"start": t0, "actions": [a0, a1, …]}', file);
  const o = json as Record<string, unknown>;
  for (const key of Object.keys(o)) if (key !== 'start' && key !== 'actions') throw new InputError(`unknown key "${key}" (known: start, actions)`, file);
  const start = o.start;
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) throw new InputError(`must be a non-negative whole step, got ${JSON.stringify(start)}`, `${file}: start`);
  if (!Array.isArray(o.actions) || o.actions.length === 0) throw new InputError('must be a non-empty list of numbers', `${file}: actions`);
  const actions = o.actions.map((a, i) => {
    if (typeof a !== 'number' || !Number.isFinite(a)) throw new InputError(`must be a finite number, got ${JSON.stringify(a)}`, `${file}: actions[${i}]`);
    return a;
  });
  return { start, actions };
}

export function replayActions(
  market: EnvMarket,
  features: FeatureRows,
  config: EnvConfigInput,
  input: ReplayInput,
  where = 'actions',
  opts: TradingEnvOptions = {},
): ReplayResult {
  const n = market.btcPrices.length;
  if (input.start < features.warmup) {
    throw new InputError(`${input.start} is before the feature warmup (${features.warmup}): every feature must be defined at the start`, `${where}: start`);
  }
  if (input.start > n - 2) {
    throw new InputError(`${input.start} leaves no step to trade: the market has ${n} steps (0…${n - 1}) and an action at step t settles at t+1, so the last start is ${n - 2}`, `${where}: start`);
  }
  const lastAction = input.start + input.actions.length - 1;
  if (lastAction > n - 2) {
    const k = n - 1 - input.start;
    throw new InputError(
      `${input.actions.length} actions from step ${input.start} run past the data's end: action ${k} would be taken at step ${n - 1}, the last (no later price to settle it); at most ${Math.max(0, k)} actions fit`,
      `${where}: actions`,
    );
  }
  const env = new TradingEnv(market, features, config, opts);
  const obs = new Float32Array(env.obsDim);
  env.resetInto(input.start, obs, 0);
  const steps: ReplayStep[] = [];
  for (const action of input.actions) {
    const t = env.t;
    const reward = env.stepInto(action, obs, 0);
    steps.push({
      t,
      action,
      reward,
      equity: env.equity,
      units: env.units,
      cash: env.cash,
      cost: env.cost,
      exposure: env.exposure,
      terminated: env.terminated,
      truncated: env.truncated,
    });
    if (env.terminated || env.truncated) break;
  }
  return { start: input.start, steps, finalObs: obs };
}
