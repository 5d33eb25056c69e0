import { describe, expect, it, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { surfaceCommands } from '../../../cli/commands/surface.ts';
import { main } from '../../../cli/main.ts';
import { datasetFromNpz, generateDataset } from '../../../src/core/surface/synthetic.ts';
import { surfaceFromNpz } from '../../../src/core/surface/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'surface-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cmd = (name: string) => surfaceCommands.find((c) => c.name === name)!;

describe('surface CLI', () => {
  it('surface inspect prints the documented keys', async () => {
    const r = (await cmd('surface inspect').run(['tests/fixtures/npy/snapshot_savez.npz'], {})) as Record<string, unknown>;
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['nk', 'nt', 'k_grid', 't_grid', 'spot', 'timestamp', 'iv_min', 'iv_max', 'masked']));
    expect(r).toMatchObject({ nk: 5, nt: 6, spot: 67234.5, timestamp: 1.7e12, masked: 0 });
    expect(r.iv_min as number).toBeCloseTo(0.5 + 0.1 * Math.log1p(0.05), 14);
  });

  it('surface convert goes .npz → .csv → .npz without changing the surface', async () => {
    const csv = join(dir, 's.csv');
    const npz = join(dir, 's.npz');
    await cmd('surface convert').run(['tests/fixtures/npy/snapshot_compressed.npz', csv], {});
    await cmd('surface convert').run([csv, npz], {});
    const a = surfaceFromNpz(readFileSync('tests/fixtures/npy/snapshot_compressed.npz'), 'x');
    const b = surfaceFromNpz(readFileSync(npz), 'x');
    expect(Array.from(b.iv)).toEqual(Array.from(a.iv)); // String(x) round-trips doubles exactly
    expect(b.timestamp).toBe(a.timestamp);
  });

  it('synth writes the same data set whatever the number of threads', async () => {
    const one = join(dir, 'one.npz');
    const two = join(dir, 'two.npz');
    const r = (await cmd('synth').run(['--kind', 'proxy', '--n', '1000', '--seed', '5', '--out', one, '--threads', '1'], {})) as Record<string, number>;
    await cmd('synth').run(['--kind', 'proxy', '--n', '1000', '--seed', '5', '--out', two, '--threads', '2'], {});
    expect(r.n).toBe(1000);
    expect(readFileSync(two)).toEqual(readFileSync(one));
    const ds = datasetFromNpz(readFileSync(one), 'one.npz');
    const direct = await generateDataset({ kind: 'proxy', n: 1000, seed: 5 });
    expect(Array.from(ds.params)).toEqual(Array.from(direct.params));
    expect(ds.iv.length).toBe(1000 * 30);
    expect(await cmd('surface inspect').run([one], {})).toMatchObject({ dataset: true, kind: 'proxy', n: 1000, seed: 5, nk: 5, nt: 6, masked_fraction: 0 });
  });

  it('synth --grid takes a JSON grid', async () => {
    const g = join(dir, 'grid.json');
    writeFileSync(g, JSON.stringify({ k_grid: [-0.1, 0.1], t_grid: [0.5] }));
    const out = join(dir, 'g.npz');
    await cmd('synth').run(['--kind', 'proxy', '--n', '3', '--seed', '1', '--grid', g, '--out', out], {});
    expect(datasetFromNpz(readFileSync(out)).kGrid).toEqual([-0.1, 0.1]);
  });

  it('calibrate --surface recovers the parameters of the bundled true-Heston sample', async () => {
    const { hestonCommands } = await import('../../../cli/commands/heston.ts');
    const cal = hestonCommands.find((c) => c.name === 'calibrate')!;
    const r = (await cal.run(['--surface', 'public/samples/heston_mid.npz'], {})) as { params: Record<string, number>; converged: boolean; points: number };
    // The sample is noise-free Heston (κ=2, θ=0.04, σ=0.5, ρ=−0.7, v0=0.04) with 5 points masked,
    // so LM must land on the generating parameters to far better than any market tolerance.
    expect(r.points).toBe(25);
    const want = { kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.7, v0: 0.04 };
    for (const [k, v] of Object.entries(want)) expect(Math.abs(r.params[k]! - v)).toBeLessThan(1e-6 * Math.max(1, Math.abs(v)));
  });

  it('bad input exits with status 2', async () => {
    expect(await main(['synth', '--kind', 'nope', '--n', '3', '--seed', '1', '--out', join(dir, 'x.npz')])).toBe(2);
    expect(await main(['surface', 'inspect', join(dir, 'missing.npz')])).toBe(2);
  });
});
