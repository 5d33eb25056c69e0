import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RL_COMMANDS, normalisedStates, stringArray } from '../../../cli/commands/rl.ts';
import { readNpz, writeNpz } from '../../../src/core/io/npz.ts';
import { toNumbers, toStrings } from '../../../src/core/io/npy.ts';
import { readMarketNpz } from '../../../src/core/market/marketData.ts';
import { numpyPython } from '../../support/python.ts';

const cmd = (name: string) => RL_COMMANDS.find((c) => c.name === name)!;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rl-cli-'));
});

describe('rl simulate', () => {
  it('writes N rows of a seeded market; the same seed gives the same bytes', async () => {
    const a = join(dir, 'a.npz');
    const b = join(dir, 'b.npz');
    const r = (await cmd('rl simulate').run(['--kind', 'heston', '--steps', '120', '--seed', '4', '--out', a], {})) as Record<string, unknown>;
    expect(r).toMatchObject({ out: a, kind: 'heston', n: 120, nk: 5, nt: 6, surfaces: 120, shitcoin: true, regimes: 1 });
    await cmd('rl simulate').run(['--kind', 'heston', '--steps', '120', '--seed', '4', '--out', b], {});
    expect(readFileSync(a)).toEqual(readFileSync(b));
    const m = readMarketNpz(new Uint8Array(readFileSync(a)), 'a.npz');
    expect(m.timesMs.length).toBe(120);
    expect(m.truth!.hestonParams.length).toBe(5);
  });

  it('takes a JSON config (unknown keys refused, naming the file) and the regime preset', async () => {
    const cfg = join(dir, 'gbm.json');
    writeFileSync(cfg, JSON.stringify({ volBtc: 0.01, fundingEvery: 4 }));
    const out = join(dir, 'g.npz');
    const r = (await cmd('rl simulate').run(['--kind', 'gbm', '--steps', '64', '--seed', '1', '--config', cfg, '--out', out], {})) as Record<string, unknown>;
    expect(r.n).toBe(64);
    const m = readMarketNpz(new Uint8Array(readFileSync(out)), 'g.npz');
    expect(m.btcFunding[3]).not.toBe(0);
    expect(m.btcIvSurface[2 * 6]).toBeCloseTo(0.01 + 0.1 * Math.log(1.05), 15); // décor at k = 0, T = 0.05: base (= volBtc) + 0.1·ln(1 + T)
    writeFileSync(cfg, JSON.stringify({ volBTC: 0.01 }));
    await expect(cmd('rl simulate').run(['--kind', 'gbm', '--steps', '64', '--config', cfg, '--out', out], {})).rejects.toThrow(/gbm\.json: unknown key "volBTC"/);
    // The preset's two regimes, switching faster (the file's keys override the preset's).
    writeFileSync(cfg, JSON.stringify({ regimeSwitchProb: 0.05 }));
    const h = (await cmd('rl simulate').run(['--kind', 'heston', '--steps', '300', '--seed', '2', '--preset', 'regimes', '--config', cfg, '--out', join(dir, 'h.npz')], {})) as Record<string, unknown>;
    expect(h.regimes).toBe(2);
    await expect(cmd('rl simulate').run(['--kind', 'bs', '--steps', '5', '--out', out], {})).rejects.toThrow(/--kind must be gbm or heston/);
    await expect(cmd('rl simulate').run(['--kind', 'gbm', '--steps', '1', '--out', out], {})).rejects.toThrow(/^--steps must be ≥ 2.*got 1$/);
    writeFileSync(cfg, JSON.stringify({ nSteps: 1 }));
    await expect(cmd('rl simulate').run(['--kind', 'gbm', '--config', cfg, '--out', out], {})).rejects.toThrow(/gbm\.json: nSteps: must be ≥ 2/);
  });
});

describe('rl features', () => {
  it('writes feature_names, features (NaN before warmup) and states (zeros before, normalised after)', async () => {
    const market = join(dir, 'm.npz');
    await cmd('rl simulate').run(['--kind', 'heston', '--steps', '700', '--seed', '5', '--out', market], {});
    const out = join(dir, 'f.npz');
    const r = (await cmd('rl features').run(['--market', market, '--out', out], {})) as { names: string[]; d: number; n: number; warmup: number; seconds: number; modules: string[]; notes: string[] };
    expect(r.n).toBe(700);
    expect(r.modules).toEqual(['btc', 'generic', 'sentiment', 'shitcoin']);
    expect(r.warmup).toBe(528);
    expect(r.seconds).toBeGreaterThan(0);
    const z = readNpz(new Uint8Array(readFileSync(out)));
    expect(toStrings(z.feature_names!)).toEqual(r.names);
    expect(z.features!.shape).toEqual([700, r.d]);
    expect(z.states!.dtype).toBe('float32');
    expect(toNumbers(z.warmup!)[0]).toBe(528);
    const f = z.features!.data as Float64Array;
    const s = z.states!.data as Float32Array;
    expect(f.subarray(0, r.warmup * r.d).some(Number.isNaN)).toBe(true);
    expect(f.subarray(r.warmup * r.d).every(Number.isFinite)).toBe(true);
    expect(s.subarray(0, r.warmup * r.d).every((x) => x === 0)).toBe(true);
    expect(s.subarray(r.warmup * r.d).every((x) => Math.abs(x) <= 5)).toBe(true);
    // Modules and sentiment choice from flags; a missing CSV path is a named error.
    const only = (await cmd('rl features').run(['--market', market, '--modules', 'generic', '--out', join(dir, 'g.npz')], {})) as { names: string[]; warmup: number };
    expect(only.names.every((n) => n.startsWith('generic.'))).toBe(true);
    expect(only.warmup).toBe(168); // ret_168 needs 169 prices
    await expect(cmd('rl features').run(['--market', market, '--sentiment', 'csv', '--out', join(dir, 'x.npz')], {})).rejects.toThrow(/--sentiment csv needs --sentiment-csv FILE/);
    await expect(cmd('rl features').run(['--market', join(dir, 'missing.npz'), '--out', join(dir, 'x.npz')], {})).rejects.toThrow(/missing\.npz: cannot read/);
  }, 60_000);

  it('refuses a market too short for its windows instead of writing NaN', async () => {
    const market = join(dir, 'short.npz');
    await cmd('rl simulate').run(['--kind', 'heston', '--steps', '100', '--seed', '5', '--out', market], {});
    await expect(cmd('rl features').run(['--market', market, '--out', join(dir, 's.npz')], {})).rejects.toThrow(/no step has every feature defined \(100 steps; .* is still undefined/);
  });

  it('states are the Normalizer’s update-then-normalise output from warmup on', () => {
    const fm = { names: ['a'], n: 4, d: 1, values: Float64Array.of(NaN, 1, 3, 5), warmup: 1, modules: [], notes: [] };
    const s = normalisedStates(fm);
    // Step 1: one sample, std 0 → floor → (1 − 1)/1e-8 = 0; step 2: mean 2, std 1 → 1; step 3: mean 3, std √(8/3) → 2/1.633.
    expect(Array.from(s)).toEqual([0, 0, 1, Math.fround(2 / Math.sqrt(8 / 3))]);
  });

  const python = numpyPython();
  it.skipIf(python === null)('feature_names is a numpy unicode array', () => {
    const file = join(dir, 'names.npz');
    writeFileSync(file, writeNpz({ feature_names: stringArray(['btc.v0', 'generic.ret_1', 'é']) }));
    const r = spawnSync(python!, ['-c', 'import numpy as np,sys; z=np.load(sys.argv[1]); print(z["feature_names"].dtype, z["feature_names"].tolist())', file], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe("<U13 ['btc.v0', 'generic.ret_1', 'é']");
  });
});
