import { describe, expect, it } from 'vitest';
import { configFlags, configFromFlags, configHelp, defaultsOf, formFields, resolveConfig, type ConfigSpec } from '../../src/core/config.ts';
import { InputError } from '../../src/core/errors.ts';

interface Inner { scale: number; window: number }
interface Cfg { rolloutLen: number; gamma: number; hidden: number[]; init: string; annealLr: boolean; targetKl: number | null; inner: Inner }

const SPEC: ConfigSpec<Cfg> = {
  rolloutLen: { default: 2048, doc: 'total steps per iteration', min: 1, integer: true },
  gamma: { default: 0.99, doc: 'discount', min: 0, max: 1 },
  hidden: { default: [64, 64], doc: 'hidden sizes', min: 1, integer: true },
  init: { default: 'torch', doc: 'weight init', choices: ['torch', 'orthogonal'] },
  annealLr: { default: false, doc: 'anneal the learning rate' },
  targetKl: { default: null, doc: 'early-stop KL', nullable: true, min: 0 },
  inner: { default: { scale: 1, window: 20 }, doc: 'nested', fields: { scale: { default: 1, doc: 's' }, window: { default: 20, doc: 'w', integer: true, min: 2 } } },
};

describe('config specs', () => {
  it('derives defaults, fresh each time', () => {
    const a = defaultsOf(SPEC);
    expect(a).toEqual({ rolloutLen: 2048, gamma: 0.99, hidden: [64, 64], init: 'torch', annealLr: false, targetKl: null, inner: { scale: 1, window: 20 } });
    a.hidden.push(3);
    a.inner.scale = 5;
    expect(defaultsOf(SPEC).hidden).toEqual([64, 64]);
    expect(defaultsOf(SPEC).inner.scale).toBe(1);
  });

  it('merges a partial over the defaults, nested included', () => {
    const c = resolveConfig(SPEC, { gamma: 0.9, inner: { window: 5 } }, 'ppo.json');
    expect(c.gamma).toBe(0.9);
    expect(c.rolloutLen).toBe(2048);
    expect(c.inner).toEqual({ scale: 1, window: 5 });
  });

  it('refuses unknown keys, wrong types and out-of-range values, naming file and key', () => {
    expect(() => resolveConfig(SPEC, { gama: 0.9 }, 'ppo.json')).toThrow(/ppo\.json: unknown key "gama"/);
    expect(() => resolveConfig(SPEC, { gamma: '0.9' }, 'ppo.json')).toThrow(/ppo\.json: gamma: must be a number/);
    expect(() => resolveConfig(SPEC, { gamma: 1.5 }, 'ppo.json')).toThrow(/gamma: must be ≤ 1/);
    expect(() => resolveConfig(SPEC, { rolloutLen: 10.5 }, 'f')).toThrow(/whole number/);
    const positive: ConfigSpec<{ lev: number }> = { lev: { default: 1, doc: 'leverage', min: Number.MIN_VALUE } };
    expect(() => resolveConfig(positive, { lev: -1 }, 'env.json')).toThrow('env.json: lev: must be > 0, got -1');
    expect(() => resolveConfig(SPEC, { init: 'glorot' }, 'f')).toThrow(/one of torch, orthogonal/);
    expect(() => resolveConfig(SPEC, { inner: { window: 1 } }, 'env.json')).toThrow(/env\.json: inner: window: must be ≥ 2/);
    expect(() => resolveConfig(SPEC, { gamma: null }, 'f')).toThrow(InputError);
    expect(resolveConfig(SPEC, { targetKl: null }, 'f').targetKl).toBeNull();
    expect(() => resolveConfig(SPEC, [1], 'f')).toThrow(/JSON object/);
  });

  it('parses CLI flags and writes help from the same spec', () => {
    const flags = configFlags(SPEC);
    expect(Object.keys(flags)).toEqual(['rollout-len', 'gamma', 'hidden', 'init', 'anneal-lr', 'target-kl']);
    const p = configFromFlags(SPEC, { 'rollout-len': '512', hidden: '32,16', 'anneal-lr': 'true', 'target-kl': '0.02' });
    expect(p).toEqual({ rolloutLen: 512, hidden: [32, 16], annealLr: true, targetKl: 0.02 });
    expect(() => configFromFlags(SPEC, { 'rollout-len': '-5' })).toThrow(/--rollout-len: must be ≥ 1/);
    expect(() => configFromFlags(SPEC, { gamma: 'abc' })).toThrow(/--gamma: must be a number/);
    const help = configHelp(SPEC);
    expect(help).toMatch(/--rollout-len N\s+total steps per iteration \(default 2048\)/);
    expect(help).toMatch(/--target-kl X\s+early-stop KL \(default none\)/);
    expect(formFields(SPEC).map((f) => f.kind)).toEqual(['number', 'number', 'numbers', 'string', 'boolean', 'number']);
  });
});
