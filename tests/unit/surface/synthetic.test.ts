import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { numpyPython } from '../../support/python.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Rng } from '../../../src/core/math/rng.ts';
import { SEED_PRIOR, PARAM_NAMES } from '../../../src/core/heston/params.ts';
import { SEED_GRID, datasetFromNpz, datasetSurface, datasetToNpz, generateDataset, mergeDatasets, namedSyntheticSurface, proxySurface, samplePrior, splitSamples } from '../../../src/core/surface/synthetic.ts';
import { CancelledError } from '../../../src/core/jobs.ts';

describe('proxySurface (the seed IX.2.3 formula)', () => {
  it('matches the formula written out by hand', () => {
    const p = { kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.7, v0: 0.09 };
    const iv = proxySurface(p, SEED_GRID.kGrid, SEED_GRID.tGrid);
    // k = -0.4 (row 0), T = 0.5 (column 3)
    const level = Math.sqrt(0.04 + (0.09 - 0.04) * Math.exp(-2 * 0.5));
    expect(iv[0 * 6 + 3]).toBeCloseTo(level + (-0.7 * -0.4) / Math.sqrt(1.5) + 0.5 * 0.16, 15);
  });
  it('floors vols at 1e-4 as the seed does', () => {
    const iv = proxySurface({ kappa: 1, theta: 0.0001, sigma: 0, rho: 0.9, v0: 0.0001 }, [-0.4], [0.05]);
    expect(iv[0]).toBe(1e-4);
  });
});

describe('samplePrior', () => {
  it('stays in the seed box and is log-uniform where the seed says so', () => {
    const rng = new Rng(1);
    const draws = Array.from({ length: 4000 }, () => samplePrior(SEED_PRIOR, rng));
    for (const name of PARAM_NAMES) {
      const { lo, hi } = SEED_PRIOR[name];
      expect(draws.every((d) => d[name] >= lo && d[name] < hi), name).toBe(true);
    }
    // Log-uniform kappa on [0.5, 8] has median sqrt(0.5·8) = 2; 4000 draws put the sample median
    // within ±10 % of it with overwhelming probability (its sd in log space is ~0.022 here).
    const ks = draws.map((d) => d.kappa).sort((a, b) => a - b);
    expect(ks[2000]! / 2).toBeGreaterThan(0.9);
    expect(ks[2000]! / 2).toBeLessThan(1.1);
  });
});

describe('generateDataset', () => {
  it('is deterministic by seed and identical however it is split', async () => {
    const full = await generateDataset({ kind: 'proxy', n: 300, seed: 42 });
    const parts = await Promise.all([
      generateDataset({ kind: 'proxy', n: 300, seed: 42, start: 200, count: 100 }),
      generateDataset({ kind: 'proxy', n: 300, seed: 42, start: 0, count: 77 }),
      generateDataset({ kind: 'proxy', n: 300, seed: 42, start: 77, count: 123 }),
    ]);
    const merged = mergeDatasets(parts);
    expect(Array.from(merged.params)).toEqual(Array.from(full.params));
    expect(Array.from(merged.iv)).toEqual(Array.from(full.iv));
    const other = await generateDataset({ kind: 'proxy', n: 300, seed: 43 });
    expect(other.params[0]).not.toBe(full.params[0]);
  });
  it('refuses bad options with the field named', async () => {
    await expect(generateDataset({ kind: 'proxy', n: 0, seed: 1 })).rejects.toThrow(/^n: /);
    await expect(generateDataset({ kind: 'proxy', n: 10, seed: 1, start: 8, count: 5 })).rejects.toThrow(/does not fit/);
    await expect(generateDataset({ kind: 'proxy', n: 10, seed: 1, prior: { ...SEED_PRIOR, kappa: { kind: 'logUniform', lo: 0, hi: 1 } } })).rejects.toThrow(/prior.kappa: a log-uniform range needs lo > 0/);
  });
  it('stops when cancelled', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(generateDataset({ kind: 'proxy', n: 100_000, seed: 1 }, { signal: ctl.signal })).rejects.toThrow(CancelledError);
  });
  it('round-trips through .npz, and numpy reads it', async () => {
    const ds = await generateDataset({ kind: 'proxy', n: 50, seed: 9 });
    const bytes = datasetToNpz(ds);
    const back = datasetFromNpz(bytes, 'd.npz');
    expect(back.n).toBe(50);
    expect(back.prior).toEqual(SEED_PRIOR);
    expect(Array.from(back.iv)).toEqual(Array.from(ds.iv));
    expect(back.kind).toBe('proxy');
    const python = numpyPython();
    if (python === null) return;
    const dir = mkdtempSync(join(tmpdir(), 'ds-'));
    try {
      writeFileSync(join(dir, 'd.npz'), bytes);
      const r = spawnSync(python, ['-c', "import numpy as np,sys,json; z=np.load(sys.argv[1]); print(json.dumps([list(z['params'].shape), list(z['iv'].shape), str(z['iv'].dtype), str(z['kind']), float(z['params'][3,0])]))", join(dir, 'd.npz')], { encoding: 'utf8' });
      expect(JSON.parse(r.stdout)).toEqual([[50, 5], [50, 5, 6], 'float32', 'proxy', ds.params[15]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('true-Heston data sets', () => {
  it('match the Float64 surface function, mask the uninformative corners, and are split-invariant', async () => {
    const { hestonIvSurface } = await import('../../../src/core/heston/surface.ts');
    const ds = await generateDataset({ kind: 'heston', n: 40, seed: 3, dtype: 'float64' });
    const slice = await generateDataset({ kind: 'heston', n: 40, seed: 3, dtype: 'float64', start: 30, count: 10 });
    for (let s = 0; s < 40; s++) {
      const p = { kappa: ds.params[s * 5]!, theta: ds.params[s * 5 + 1]!, sigma: ds.params[s * 5 + 2]!, rho: ds.params[s * 5 + 3]!, v0: ds.params[s * 5 + 4]! };
      const ref = hestonIvSurface(p, SEED_GRID.kGrid, SEED_GRID.tGrid);
      for (let x = 0; x < 30; x++) {
        expect(ds.mask[s * 30 + x]).toBe(ref.mask[x]);
        if (!ref.mask[x]) expect(ds.iv[s * 30 + x]).toBe(ref.iv[x]);
        else expect(Number.isNaN(ds.iv[s * 30 + x]!)).toBe(true);
      }
    }
    expect(Array.from(slice.iv).map(String)).toEqual(Array.from(ds.iv.subarray(30 * 30)).map(String));
    // The wings of the shortest maturity (k = ±0.4, T = 0.05: ~9 standard deviations out for a
    // 20 % vol) are worth far less than 1e-7·S and are masked for most of the prior.
    let wing = 0;
    for (let s = 0; s < 40; s++) wing += ds.mask[s * 30 + 0]!;
    expect(wing).toBeGreaterThan(20);
    // The ATM point is always informative.
    for (let s = 0; s < 40; s++) for (let j = 0; j < 6; j++) expect(ds.mask[s * 30 + 2 * 6 + j]).toBe(0);
  });
  it('with a tiny vol of vol, ATM vols approach sqrt(expected variance / T)', async () => {
    const tiny = { ...SEED_PRIOR, sigma: { kind: 'uniform' as const, lo: 0.001, hi: 0.0011 } };
    const ds = await generateDataset({ kind: 'heston', n: 5, seed: 1, prior: tiny, dtype: 'float64' });
    for (let s = 0; s < 5; s++) {
      const [kappa, theta, , , v0] = Array.from(ds.params.subarray(s * 5, s * 5 + 5));
      for (let j = 0; j < 6; j++) {
        const T = SEED_GRID.tGrid[j]!;
        const w = theta! * T + ((v0! - theta!) * (1 - Math.exp(-kappa! * T))) / kappa!;
        // σ = 0.001 perturbs the ATM vol by O(σ·ρ·T/4 + σ²) ≲ 5e-4 on this grid.
        expect(Math.abs(ds.iv[s * 30 + 2 * 6 + j]! - Math.sqrt(w / T))).toBeLessThan(5e-4);
      }
    }
  });
});

describe('splitting a data set across workers', () => {
  it('gives contiguous ranges that cover every sample once, however many parts', () => {
    for (const [n, parts] of [[10, 3], [2000, 4], [5, 5], [7, 1]] as const) {
      const r = splitSamples(n, parts);
      expect(r).toHaveLength(parts);
      expect(r[0]!.start).toBe(0);
      r.forEach((x, i) => i > 0 && expect(x.start).toBe(r[i - 1]!.start + r[i - 1]!.count));
      expect(r.reduce((a, x) => a + x.count, 0)).toBe(n);
    }
  });
  it('merging generated slices gives the single-worker data set', async () => {
    const whole = await generateDataset({ kind: 'proxy', n: 9, seed: 4 });
    const parts = await Promise.all(splitSamples(9, 3).map((r) => generateDataset({ kind: 'proxy', n: 9, seed: 4, ...r })));
    expect(Array.from(mergeDatasets(parts).iv)).toEqual(Array.from(whole.iv));
  });
});

describe('one named synthetic surface', () => {
  it('is sample 0 of the seed, named with its kind, seed and parameters', async () => {
    const ds = await generateDataset({ kind: 'heston', n: 1, seed: 12 });
    const s = await namedSyntheticSurface('heston', 12);
    expect(Array.from(s.iv)).toEqual(Array.from(datasetSurface(ds, 0).iv));
    expect(s.name).toBe(`Heston seed 12: κ=${+ds.params[0]!.toPrecision(3)} θ=${+ds.params[1]!.toPrecision(3)} σ=${+ds.params[2]!.toPrecision(3)} ρ=${+ds.params[3]!.toPrecision(3)} v0=${+ds.params[4]!.toPrecision(3)}`);
    expect((await namedSyntheticSurface('proxy', 12)).name).toMatch(/^Proxy \(seed IX\.2\.3\) seed 12: κ=/);
  });
});
