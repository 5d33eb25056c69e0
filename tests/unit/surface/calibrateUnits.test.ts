/**
 * Issue 15 items 3 and 4 on the CLI: `calibrate` accepted "iv": [[9, 8.5], …] (percent) and
 * reported converged with every parameter at a bound and an RMSE of 615 vol points; duplicate
 * maturities were accepted. Now the percent grid is refused naming the unit and --iv-unit, the
 * same grid with --iv-unit pct calibrates, and a repeated strike or maturity is refused naming it.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { calibrateCommand } from '../../../cli/commands/heston.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';
import { InputError } from '../../../src/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'calib-units-'));
const strikes = [80, 90, 100, 110, 120];
const maturities = [0.25, 0.5, 1];
const truth = { kappa: 2, theta: 0.2, sigma: 0.6, rho: -0.5, v0: 0.25 };

function grid(scale: number, extra: Record<string, unknown> = {}): string {
  const k = strikes.map((K) => Math.log(K / 100));
  const { iv } = hestonIvSurface(truth, k, maturities);
  const rows = strikes.map((_, i) => maturities.map((_, j) => +(iv[i * maturities.length + j]! * scale).toFixed(6)));
  const f = join(dir, `g${scale}${Object.keys(extra).join('')}.json`);
  writeFileSync(f, JSON.stringify({ spot: 100, strikes, maturities, iv: rows, ...extra }));
  return f;
}

describe('calibrate reads vols in the unit it is told', () => {
  it('refuses a percent grid read as decimals, naming the cell, the unit and --iv-unit', async () => {
    const f = grid(100);
    const run = calibrateCommand.run(['--in', f], {});
    await expect(run).rejects.toBeInstanceOf(InputError);
    await expect(calibrateCommand.run(['--in', f], {})).rejects.toThrow(/"iv" row 0, column 0: vol [\d.]+, read as DECIMALS \(the format's unit\), is [\d.]+ %, above the 300 % this lab accepts \(15 such vols\); if the vols are in percent, choose the unit: --iv-unit pct\|decimal/);
  });

  it('calibrates the same grid with --iv-unit pct to the parameters it was made from', async () => {
    const r = (await calibrateCommand.run(['--in', grid(100), '--iv-unit', 'pct'], {})) as { params: Record<string, number>; rmse_vol: number; at_bounds: string[] };
    // Vols rounded to 1e-6 percent (1e-8 in decimals): the fit is exact to ~1e-6 vol points.
    expect(r.rmse_vol).toBeLessThan(1e-4);
    expect(r.params.theta).toBeCloseTo(truth.theta, 3);
    expect(r.params.rho).toBeCloseTo(truth.rho, 3);
    expect(r.at_bounds).toEqual([]);
    const d = (await calibrateCommand.run(['--in', grid(1)], {})) as { params: Record<string, number> };
    expect(d.params.theta).toBeCloseTo(r.params.theta, 6);
  });

  it('refuses a repeated maturity or strike, naming both indices', async () => {
    const f = join(dir, 'dup.json');
    writeFileSync(f, JSON.stringify({ spot: 100, strikes: [90, 100, 110], maturities: [0.25, 0.5, 0.25], iv: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]] }));
    await expect(calibrateCommand.run(['--in', f], {})).rejects.toThrow(/"maturities"\[2\] = 0\.25 duplicates "maturities"\[0\] \(iv column 2 and column 0 would be one grid point\)/);
    writeFileSync(f, JSON.stringify({ spot: 100, strikes: [90, 100, 90], maturities: [0.25, 0.5], iv: [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]] }));
    await expect(calibrateCommand.run(['--in', f], {})).rejects.toThrow(/"strikes"\[2\] = 90 duplicates "strikes"\[0\] \(iv row 2 and row 0 would be one grid point\)/);
  });
});

describe('inverse predict reads vols in the unit it is told', () => {
  it('refuses a percent .npz by default and predicts from it with --iv-unit pct', async () => {
    const { inverseCommands } = await import('../../../cli/commands/inverse.ts');
    const { surfaceToNpz } = await import('../../../src/core/surface/files.ts');
    const { SEED_GRID } = await import('../../../src/core/surface/types.ts');
    const { iv } = hestonIvSurface(truth, SEED_GRID.kGrid, SEED_GRID.tGrid);
    const f = join(dir, 'pct.npz');
    writeFileSync(f, surfaceToNpz({ ...SEED_GRID, iv: iv.map((v) => v * 100), spot: 100, timestamp: Date.UTC(2024, 0, 1), source: 't' }));
    const predict = inverseCommands.find((c) => c.name === 'inverse predict')!;
    const args = ['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--surface', f, '--backend', 'cpu'];
    await expect(predict.run(args, {})).rejects.toThrow(/pct\.npz: iv_surface\[0, 0\] \(k=-0\.4, T=0\.05\): vol [\d.]+, read as DECIMALS \(the format's unit\), is/);
    const r = (await predict.run([...args, '--iv-unit', 'pct'], {})) as { params: Record<string, number>; assumptions: Record<string, string>; warnings?: string[] };
    // What the reader assumed is printed with the answer (issue 15 item 3: wherever a file is read).
    expect(r.assumptions).toEqual({ iv_unit: 'percent', iv_unit_from: 'option', spot_from: 'file', timestamp_from: 'file' });
    expect(r.warnings).toBeUndefined();
    // ±25 % around θ = 0.2: the point is the unit (vols 100× too large land θ on its bound), not the
    // network's accuracy, which tests/unit/inverse/bundledCheckpoint.test.ts holds.
    expect(r.params.theta).toBeGreaterThan(0.15);
    expect(r.params.theta).toBeLessThan(0.25);
    // A CSV that does not state its unit: the inferred unit is shown, and the reader's note with it.
    const csv = join(dir, 'pct.csv');
    writeFileSync(csv, `# spot=100\n# timestamp=2024-01-01T00:00:00Z\nk,${SEED_GRID.tGrid.join(',')}\n${SEED_GRID.kGrid.map((k, i) => `${k},${SEED_GRID.tGrid.map((_, j) => (iv[i * SEED_GRID.tGrid.length + j]! * 100).toFixed(4)).join(',')}`).join('\n')}\n`);
    const c = (await predict.run(['--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--surface', csv, '--backend', 'cpu'], {})) as { params: Record<string, number>; assumptions: Record<string, string>; warnings?: string[] };
    expect(c.assumptions.iv_unit).toBe('percent');
    expect(c.assumptions.iv_unit_from).toBe('inferred');
    expect(c.warnings?.join('\n')).toMatch(/pct\.csv: the IV unit is not stated; read as PERCENT/);
    expect(c.params.theta).toBeCloseTo(r.params.theta, 3);
  });
});
