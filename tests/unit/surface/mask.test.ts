/**
 * Issue 14 item 2: a file whose mask says 1 = valid (the opposite of numpy.ma's 1 = masked, the
 * lab's convention) was used as data: `inverse eval` fed NaN vols to the network and printed R²
 * of −1.2 … −0.08 and a surface RMSE of NaN with exit 0. Every reader now refuses a NaN or
 * non-positive vol at a point the mask calls valid, naming the file, the index and the cell,
 * stating the convention, and saying the mask looks inverted when it does. The fixtures are
 * written by numpy (tests/fixtures/masks/make_inverted_masks.py), as a user's files would be.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { surfaceFromNpz, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { datasetFromNpz } from '../../../src/core/surface/synthetic.ts';
import { readNpz, writeNpz } from '../../../src/core/io/npz.ts';
import { checkLabelledSurfaces } from '../../../src/core/inverse/datasets.ts';
import { HestonInverseDataset } from '../../../src/core/inverse/datasets.ts';
import { maskedVolProblem, maskLooksInverted, maskStats } from '../../../src/core/surface/validate.ts';
import { readSurfaceCsv } from '../../../src/core/surface/csv.ts';
import { inverseCommands, nonFiniteFields } from '../../../cli/commands/inverse.ts';
import { InputError } from '../../../src/core/errors.ts';
import type { Surface } from '../../../src/core/surface/types.ts';

const SURFACE = 'tests/fixtures/masks/surface_inverted_mask.npz';
const DATASET = 'tests/fixtures/masks/dataset_inverted_mask.npz';
const CONVENTION = /numpy\.ma's mask convention: 1 \(True\) = masked, no data; 0 \(False\) = a valid vol/;
const bytes = (f: string) => new Uint8Array(readFileSync(f));

describe('a mask the other way round is refused, not used', () => {
  it('surface .npz: names the file, the cell, the convention and the inversion', () => {
    let err: unknown;
    try {
      surfaceFromNpz(bytes(SURFACE), 'surface_inverted_mask.npz');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const m = (err as Error).message;
    expect(m).toMatch(/^surface_inverted_mask\.npz: iv_surface: row 0 \(k=-0\.4\), column 0 \(T=0\.05\): vol is NaN/);
    expect(m).toMatch(CONVENTION);
    // 3 NaN cells, all at mask 0; 27 finite cells, all at mask 1.
    expect(m).toMatch(/This file's mask looks inverted: 100 % of its NaN or non-positive cells have mask 0 and 100 % of its valid vols have mask 1/);
  });

  it('inverse eval on a numpy data set with mask = ~isnan(iv) exits non-zero before computing any figure', async () => {
    const evaluate = inverseCommands.find((c) => c.name === 'inverse eval')!;
    const run = evaluate.run(['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--data', DATASET, '--backend', 'cpu'], {});
    await expect(run).rejects.toBeInstanceOf(InputError); // InputError → exit status 2 (cli/main.ts)
    await expect(evaluate.run(['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--data', DATASET, '--backend', 'cpu'], {})).rejects.toThrow(
      /^dataset_inverted_mask\.npz: iv\[\d+, \d, \d\] \(surface \d+, k=-?[\d.]+, T=[\d.]+\) is NaN but mask\[\d+, \d, \d\] = 0 calls it valid \(and \d+ more such cells\); the lab uses numpy\.ma's .*This file's mask looks inverted/,
    );
  });

  it('the data-set reader and check name the first bad cell exactly, and the encoder refuses it too', () => {
    // The reader itself refuses the file; to reach the later checks, read the same arrays with
    // the mask flipped back (as the user's fix would) and hand the inverted mask in directly.
    const arrays = readNpz(bytes(DATASET), 'd.npz');
    const inverted = arrays.mask!.data as Uint8Array;
    const ok = datasetFromNpz(writeNpz({ ...arrays, mask: { ...arrays.mask!, data: Uint8Array.from(inverted, (m) => 1 - m) } }), 'd.npz');
    const ds = { ...ok, mask: Uint8Array.from(inverted, (m) => (m ? 1 : 0)) };
    const st = maskStats(ds.iv, ds.mask);
    expect(maskLooksInverted(st)).toBe(true);
    const cells = 30;
    const first = st.first;
    const [s, i, j] = [Math.floor(first / cells), Math.floor((first % cells) / 6), first % 6];
    const named = `d.npz: iv[${s}, ${i}, ${j}] (surface ${s}, k=${ds.kGrid[i]}, T=${ds.tGrid[j]}) is NaN but mask[${s}, ${i}, ${j}] = 0 calls it valid (and ${st.badUnmasked - 1} more such cells)`;
    expect(() => datasetFromNpz(bytes(DATASET), 'd.npz')).toThrow(named);
    expect(() => checkLabelledSurfaces(ds, 'd.npz')).toThrow(named);
    const norm = { input: 'iv', ivMean: new Array(30).fill(0.5), ivStd: new Array(30).fill(0.1), paramTransform: ['log', 'log', 'log', 'identity', 'log'], paramMean: [0, 0, 0, 0, 0], paramStd: [1, 1, 1, 1, 1] } as never;
    expect(() => HestonInverseDataset.encode(ds, [0, 1], norm)).toThrow(/data set: iv\[.*looks inverted/);
    // With the mask fixed (numpy.ma: 1 where the vol is missing) the same file is accepted.
    const fixed = { ...ds, mask: Uint8Array.from(ds.iv, (v) => (Number.isNaN(v) ? 1 : 0)) };
    expect(() => checkLabelledSurfaces(fixed, 'd.npz')).not.toThrow();
  });

  it('a stray NaN under a right-way-round mask is refused with the convention but not called inverted', () => {
    const iv = new Float64Array(30).fill(0.5);
    const mask = new Uint8Array(30);
    mask[0] = 1;
    iv[0] = NaN;
    iv[7] = NaN; // row 1, column 1, mask 0
    const p = maskedVolProblem({ iv, mask, kGrid: [-0.4, -0.2, 0, 0.2, 0.4], tGrid: [0.05, 0.1, 0.25, 0.5, 1, 2] })!;
    expect(p).toMatch(/^iv\[1, 1\] \(k=-0\.2, T=0\.1\) is NaN but mask\[1, 1\] = 0 calls it valid; the lab uses numpy\.ma's/);
    expect(p).not.toMatch(/inverted/);
    iv[7] = -0.2;
    expect(maskedVolProblem({ iv, mask, kGrid: [-0.4, -0.2, 0, 0.2, 0.4], tGrid: [0.05, 0.1, 0.25, 0.5, 1, 2], ivName: 'btc_iv_surface', maskName: 'btc_iv_mask' })).toMatch(/^btc_iv_surface\[1, 1\] \(k=-0\.2, T=0\.1\) is -0\.2 \(vols must be > 0\) but btc_iv_mask\[1, 1\] = 0/);
    iv[7] = 0.5;
    expect(maskedVolProblem({ iv, mask, kGrid: [-0.4, -0.2, 0, 0.2, 0.4], tGrid: [0.05, 0.1, 0.25, 0.5, 1, 2] })).toBeUndefined();
  });

  it('a surface .npz with zero and negative vols at valid points is refused; a right mask round-trips', () => {
    const kGrid = [-0.2, 0, 0.2];
    const tGrid = [0.1, 0.5];
    const good: Surface = { kGrid, tGrid, iv: Float64Array.from([0.6, 0.55, 0.5, 0.5, NaN, 0.52]), mask: Uint8Array.from([0, 0, 0, 0, 1, 0]), spot: 100, timestamp: 1.7e12, source: 't' };
    expect(surfaceFromNpz(surfaceToNpz(good), 'g.npz').mask).toEqual(good.mask);
    const zero = { ...good, iv: Float64Array.from([0.6, 0, 0.5, 0.5, NaN, 0.52]) };
    expect(() => surfaceFromNpz(surfaceToNpz(zero), 'z.npz')).toThrow(/z\.npz: iv_surface: row 0 \(k=-0\.2\), column 1 \(T=0\.5\): vol 0 must be > 0; the lab uses numpy\.ma's/);
  });

  it('a CSV grid with a zero vol names the cell (empty cells are masked, not NaN data)', () => {
    expect(() => readSurfaceCsv('# iv=decimal; spot=1; timestamp=2024-01-01\nk\\T,0.1,0.5\n-0.1,0.5,0.5\n0,,0\n0.1,0.5,0.5\n', 'g.csv')).toThrow(/g\.csv: iv_surface: row 1 \(k=0\), column 1 \(T=0\.5\): vol 0 must be > 0/);
  });

  it('nonFiniteFields finds every NaN the JSON would print as null', () => {
    expect(nonFiniteFields({ r2: { theta: 0.9, rho: NaN }, rmse: [1, Infinity], n: 3, data: { file: 'x' }, s: Float64Array.from([1, NaN]) })).toEqual(['r2.rho = NaN', 'rmse[1] = Infinity', 's[1] = NaN']);
    expect(nonFiniteFields({ a: null, b: 'NaN', c: [0, -1e300] })).toEqual([]);
  });
});

describe('surface inspect on a data set', () => {
  it('refuses the inverted data set instead of summarising it', async () => {
    const { surfaceCommands } = await import('../../../cli/commands/surface.ts');
    const inspect = surfaceCommands.find((c) => c.name === 'surface inspect')!;
    await expect(inspect.run([DATASET], {})).rejects.toThrow(/^dataset_inverted_mask\.npz: iv\[.*looks inverted/);
  });
});

describe('inverse eval never prints NaN with exit 0', () => {
  const evaluate = () => inverseCommands.find((c) => c.name === 'inverse eval')!;
  const base = ['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--synthetic', 'heston', '--data-seed', '5', '--backend', 'cpu'];
  it('refuses figures that are undefined for the data (R² of one surface) with a non-input error', async () => {
    const run = evaluate().run([...base, '--n', '1'], {});
    await expect(run).rejects.toThrow(/^inverse eval: r2\.kappa = NaN, r2\.theta = NaN, r2\.sigma = NaN, r2\.rho = NaN and 1 more are not finite; no figures printed/);
    await expect(evaluate().run([...base, '--n', '1'], {})).rejects.not.toBeInstanceOf(InputError); // exit 1, not 2
  });
  it('leaves out the surface figures --surface-n 0 did not ask for, and prints only finite numbers', async () => {
    const r = (await evaluate().run([...base, '--n', '12', '--surface-n', '0'], {})) as Record<string, unknown>;
    expect(r).not.toHaveProperty('surface_rmse_vol_median');
    expect(r.surface_n).toBe(0);
    expect(nonFiniteFields(r)).toEqual([]);
    expect(Object.keys(r.r2 as object)).toEqual(['kappa', 'theta', 'sigma', 'rho', 'v0']);
  });
});
