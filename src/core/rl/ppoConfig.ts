/**
 * PPOConfig — every knob of a PPO run, declared once (CleanRL's `Args`): the original design's names
 * (rollout_len, gamma, lam, clip_ratio … as camelCase) and defaults (V, VII), CleanRL's
 * ppo_continuous_action.py for what the original design does not fix. Defaults, validation of a JSON file,
 * CLI flags, `--help` and the RL page's form all derive from PPO_CONFIG_SPEC (src/core/config.ts).
 *
 * Where it departs from the original design (README, "PPO trader"): the original design's sketch has one environment and
 * separate policy / value losses; here `numEnvs` environments share the rollout (rolloutLen stays
 * the TOTAL per iteration, numEnvs × rolloutLen/numEnvs, so the update sees the original design's 2048), and the
 * losses are combined CleanRL-style (pg − entCoef·entropy + vfCoef·v) under one Adam with global
 * grad-norm clipping, which the original design's PyTorch would also need to match CleanRL's diagnostics.
 */
import { defaultsOf, resolveConfig, type ConfigSpec } from '../config.ts';
import { InputError } from '../errors.ts';

export type PpoInit = 'torch' | 'orthogonal';
export type PpoActivation = 'tanh' | 'relu';
export type PpoUpdateOn = 'cpu' | 'tfjs';

export interface PPOConfig {
  totalSteps: number;
  rolloutLen: number;
  numEnvs: number;
  gamma: number;
  lam: number;
  clipRatio: number;
  epochs: number;
  minibatchSize: number;
  lr: number;
  annealLr: boolean;
  adamEps: number;
  hiddenSizes: number[];
  activation: PpoActivation;
  logStdInit: number;
  entCoef: number;
  vfCoef: number;
  maxGradNorm: number;
  clipVloss: boolean;
  normAdv: boolean;
  targetKl: number | null;
  rewardScale: number;
  init: PpoInit;
  updateOn: PpoUpdateOn;
  seed: number;
}

export const PPO_CONFIG_SPEC: ConfigSpec<PPOConfig> = {
  totalSteps: { default: 200_000, doc: 'environment steps in the whole run (CleanRL total_timesteps; 1e6 there, 200k here: ~20 s on the default page market on a 2-core machine)', min: 1, integer: true, unit: 'steps' },
  rolloutLen: { default: 2048, doc: 'steps collected per iteration over ALL environments (original design’s rollout_len); each env runs rolloutLen/numEnvs', min: 2, integer: true, unit: 'steps' },
  numEnvs: { default: 8, doc: 'environments stepped together with one batched policy call (original design: 1); must divide rolloutLen', min: 1, max: 1024, integer: true },
  gamma: { default: 0.99, doc: 'discount factor γ (original design)', min: 0, max: 1 },
  lam: { default: 0.95, doc: 'GAE λ (original design)', min: 0, max: 1 },
  clipRatio: { default: 0.2, doc: 'surrogate clipping ε: ratio kept in [1−ε, 1+ε] (original design’s clip_ratio)', min: 0, max: 1 },
  epochs: { default: 10, doc: 'passes over each rollout in the update (original design; CleanRL update_epochs)', min: 1, integer: true },
  minibatchSize: { default: 64, doc: 'transitions per gradient step (original design); 2048/64 = 32 steps per epoch', min: 1, integer: true },
  lr: { default: 3e-4, doc: 'Adam learning rate (original design)', min: 0 },
  annealLr: { default: true, doc: 'decay the learning rate linearly to 0 over the run (CleanRL anneal_lr)' },
  adamEps: { default: 1e-5, doc: 'Adam ε (CleanRL 1e-5; PyTorch default 1e-8)', min: 0 },
  hiddenSizes: { default: [64, 64], doc: 'hidden widths of the policy and of the value MLP (original design’s MLP 2 × 64)', min: 1, integer: true },
  activation: { default: 'tanh', doc: 'hidden activation (original design’s tanh)', choices: ['tanh', 'relu'] },
  logStdInit: { default: 0, doc: 'initial state-independent log σ of the Gaussian policy, learned (original design’s zeros(1,1))', min: -5, max: 2 },
  entCoef: { default: 0, doc: 'entropy bonus coefficient (CleanRL 0.0)', min: 0 },
  vfCoef: { default: 0.5, doc: 'value-loss coefficient in the combined loss (CleanRL 0.5)', min: 0 },
  maxGradNorm: { default: 0.5, doc: 'global gradient-norm clip over all parameters (CleanRL 0.5)', min: 0 },
  clipVloss: { default: true, doc: 'clip the value update to ±clipRatio around the rollout values (CleanRL clip_vloss)' },
  normAdv: { default: true, doc: 'normalise advantages per minibatch (CleanRL norm_adv)' },
  targetKl: { default: null, doc: 'stop the epochs of an update once approx KL exceeds this (CleanRL target_kl; none = never)', nullable: true, min: 0 },
  rewardScale: { default: 1, doc: 'rewards are multiplied by this before GAE (keeps value targets O(1) for tiny per-bar PnL)', min: 0 },
  init: { default: 'torch', doc: "weight init: 'torch' = nn.Linear default U(±1/√fan_in) as the original design; 'orthogonal' = CleanRL (√2, policy head 0.01, value head 1)", choices: ['torch', 'orthogonal'] },
  updateOn: { default: 'cpu', doc: "where the update runs: 'cpu' = hand-written backprop on wasm SIMD, float32 products with float64 master weights (no kernel dispatch; fastest at 2 × 64 in Node and in the browser), 'tfjs' = the active tfjs backend (webgpu / webgl)", choices: ['cpu', 'tfjs'] },
  seed: { default: 1, doc: 'seeds the weights, the exploration noise, the minibatch order and the environments', min: 0, integer: true },
};

export const DEFAULT_PPO_CONFIG: PPOConfig = defaultsOf(PPO_CONFIG_SPEC);

/** Share of a market's steps trained on (the original design's 70/30 time split); the backtest gets the rest. */
export const DEFAULT_TRAIN_FRACTION = 0.7;

/** A full, validated PPOConfig from a partial one; cross-field checks (numEnvs divides rolloutLen) too. */
export function resolvePpoConfig(partial: unknown, where = 'ppo config'): PPOConfig {
  const cfg = resolveConfig(PPO_CONFIG_SPEC, partial, where);
  if (cfg.rolloutLen % cfg.numEnvs !== 0) {
    throw new InputError(`numEnvs ${cfg.numEnvs} must divide rolloutLen ${cfg.rolloutLen} (each env runs rolloutLen/numEnvs steps)`, `${where}: numEnvs`);
  }
  if (cfg.minibatchSize > cfg.rolloutLen) {
    throw new InputError(`minibatchSize ${cfg.minibatchSize} exceeds rolloutLen ${cfg.rolloutLen}`, `${where}: minibatchSize`);
  }
  return cfg;
}
