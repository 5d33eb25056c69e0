import { describe, expect, it } from 'vitest';
import { DEFAULT_PPO_CONFIG, PPO_CONFIG_SPEC, resolvePpoConfig } from '../../../src/core/rl/ppoConfig.ts';
import { configFromFlags, configHelp } from '../../../src/core/config.ts';

describe('PPOConfig', () => {
  it("carries the seed's defaults", () => {
    expect(DEFAULT_PPO_CONFIG).toMatchObject({
      rolloutLen: 2048, gamma: 0.99, lam: 0.95, clipRatio: 0.2, epochs: 10, minibatchSize: 64, lr: 3e-4,
      hiddenSizes: [64, 64], activation: 'tanh', logStdInit: 0, maxGradNorm: 0.5, targetKl: null, init: 'torch',
    });
    expect(DEFAULT_PPO_CONFIG.rolloutLen % DEFAULT_PPO_CONFIG.numEnvs).toBe(0);
  });
  it('refuses unknown keys, bad values and a numEnvs that does not divide rolloutLen', () => {
    expect(() => resolvePpoConfig({ gama: 0.9 }, 'ppo.json')).toThrow(/ppo.json: unknown key "gama"/);
    expect(() => resolvePpoConfig({ clipRatio: 2 }, 'ppo.json')).toThrow(/clipRatio/);
    expect(() => resolvePpoConfig({ numEnvs: 3 }, 'ppo.json')).toThrow(/numEnvs 3 must divide rolloutLen 2048/);
    expect(() => resolvePpoConfig({ init: 'glorot' }, 'ppo.json')).toThrow(/torch, orthogonal/);
    expect(resolvePpoConfig({ targetKl: 0.02, numEnvs: 4 }).targetKl).toBe(0.02);
  });
  it('flags and help derive from the spec', () => {
    expect(configFromFlags(PPO_CONFIG_SPEC, { 'rollout-len': '1024', 'target-kl': 'none', 'hidden-sizes': '32,32' })).toEqual({ rolloutLen: 1024, targetKl: null, hiddenSizes: [32, 32] });
    expect(configHelp(PPO_CONFIG_SPEC)).toMatch(/--rollout-len N\s+steps collected per iteration .*\(default 2048 steps\)/);
  });
});
