import { describe, expect, it } from 'vitest';
import { defaultsOf, flagName } from '../../../src/core/config.ts';
import { DEFAULT_PPO_CONFIG, DEFAULT_TRAIN_FRACTION, PPO_CONFIG_SPEC, resolvePpoConfig } from '../../../src/core/rl/ppoConfig.ts';
import { DEFAULT_ENV_CONFIG, ENV_CONFIG_SPEC, resolveEnvConfig } from '../../../src/core/rl/envConfig.ts';
import { REWARD_CONFIG_SPEC } from '../../../src/core/rl/rewardEngine.ts';
import { FEATURE_CONFIG_SPEC } from '../../../src/core/features/featureMatrix.ts';
import { envOf, ppoOf, RL_ENV_FORM_SPEC, RL_PPO_FORM_SPEC, RL_STATE_SPEC } from '../../../src/ui/state/rl.ts';
import { decodeState, encodeState } from '../../../src/ui/state/urlState.ts';

describe('RL page state (src/ui/state/rl.ts)', () => {
  it('holds every PPOConfig, EnvConfig and reward field with core’s defaults; flag names are unique', () => {
    const d = defaultsOf(RL_STATE_SPEC);
    expect(ppoOf(d)).toEqual(DEFAULT_PPO_CONFIG);
    expect(resolveEnvConfig(envOf(d), 'page')).toEqual(DEFAULT_ENV_CONFIG);
    expect(d).toMatchObject({ marketKind: 'hestonRegimes', marketSteps: 4000, marketSeed: 1, stored: '', modules: 'btc,generic', trainFraction: DEFAULT_TRAIN_FRACTION, checkpointEvery: 5 });
    // No field of one config hides another's: the state has exactly the sum of their fields + 7 page fields.
    const nEnv = Object.keys(ENV_CONFIG_SPEC).length - 1 + Object.keys(REWARD_CONFIG_SPEC).length;
    expect(Object.keys(RL_STATE_SPEC)).toHaveLength(Object.keys(PPO_CONFIG_SPEC).length + nEnv + 7);
    expect(Object.keys(RL_ENV_FORM_SPEC)).toHaveLength(nEnv);
    expect(Object.keys(RL_PPO_FORM_SPEC)).toEqual(Object.keys(PPO_CONFIG_SPEC));
    expect(RL_STATE_SPEC.modules.doc).toBe(FEATURE_CONFIG_SPEC.modules.doc);
    const flags = Object.keys(RL_STATE_SPEC).map(flagName);
    expect(new Set(flags).size).toBe(flags.length);
    expect(encodeState(RL_STATE_SPEC, d)).toBe('');
  });

  it('round-trips a setup through the link under the CLI flag names and gives the job its configs; a bad field is skipped', () => {
    const st = {
      ...defaultsOf(RL_STATE_SPEC),
      marketKind: 'gbm' as const,
      marketSeed: 9,
      lr: 1e-4,
      hiddenSizes: [32, 32],
      targetKl: 0.02,
      reward: 'risk' as const,
      turnoverPenalty: 0.002,
      init: 'orthogonal' as const,
      trainFraction: 0.6,
    };
    const q = encodeState(RL_STATE_SPEC, st);
    const p = new URLSearchParams(q);
    expect([p.get('lr'), p.get('hidden-sizes'), p.get('turnover-penalty'), p.get('market-seed'), p.get('train-fraction')]).toEqual(['0.0001', '32,32', '0.002', '9', '0.6']);
    const back = decodeState(RL_STATE_SPEC, q);
    expect(back.ignored).toEqual([]);
    const restored = { ...defaultsOf(RL_STATE_SPEC), ...back.values };
    expect(restored).toEqual(st);
    expect(resolvePpoConfig(ppoOf(restored))).toMatchObject({ lr: 1e-4, hiddenSizes: [32, 32], targetKl: 0.02, init: 'orthogonal' });
    expect(resolveEnvConfig(envOf(restored)).rewardConfig.turnoverPenalty).toBe(0.002);
    const bad = decodeState(RL_STATE_SPEC, 'lr=-1&gamma=0.95&market-kind=lstm&bogus=1');
    expect(bad.values).toEqual({ gamma: 0.95 });
    expect(bad.ignored).toHaveLength(3);
  });
});
