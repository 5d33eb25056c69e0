/**
 * Issue 15 item 3: percent vols read as decimals. A grid CSV at 3.8–4.5 % vol was read as
 * 380–450 % (the unit inference switched to percent only above a median of 5), and nothing said
 * which unit a reader had applied. Now a decimal vol above 300 % is an error naming the cell, the
 * unit applied and why, and how to choose the unit; inference switches at 3; and every surface
 * reader returns its assumptions (unit, spot, timestamp, each with where it came from).
 * Issue 15 item 4 (half): a repeated strike or maturity is refused with the row or column named.
 */
import { describe, expect, it } from 'vitest';
import { readSurfaceCsv } from '../../../src/core/surface/csv.ts';
import { parseSurfaceBytes, surfaceToNpz } from '../../../src/core/surface/files.ts';
import { checkIvUnit, inferIvUnit, MAX_DECIMAL_IV, parseIvUnit } from '../../../src/core/surface/units.ts';
import { gridProblems } from '../../../src/core/surface/validate.ts';
import { surfaceCommands } from '../../../cli/commands/surface.ts';
import { InputError } from '../../../src/core/errors.ts';
import type { Surface } from '../../../src/core/surface/types.ts';

const TS = Date.UTC(2023, 11, 1, 8);
const LOW_VOL_GRID = 'k\\T,0.25,1\n-0.1,4.5,4.2\n0,4.0,3.9\n0.1,3.8,3.85\n'; // percent, 3.8–4.5 %
const CHOOSE = /--iv-unit pct\|decimal on the CLI, the unit control when importing on a page, or a "# iv=percent" \/ "# iv=decimal" line in a CSV/;

describe('vol units', () => {
  it('reads a 3.8–4.5 % grid without a stated unit as percent, and says it inferred that', () => {
    const r = readSurfaceCsv(LOW_VOL_GRID, 'low.csv', { now: () => TS });
    expect(Array.from(r.surface.iv)).toEqual([0.045, 0.042, 0.04, 0.039, 0.038, 0.0385].map((v) => expect.closeTo(v, 15)));
    expect(r.warnings.join('\n')).toMatch(/low\.csv: the IV unit is not stated; read as PERCENT \(median value above 3\)/);
    expect(r.assumptions).toEqual({ ivUnit: { unit: 'percent', from: 'inferred' }, spot: { value: 1, from: 'default' }, timestamp: { value: TS, from: 'import-time' } });
  });

  it('refuses the same grid stated (or chosen) as decimals, naming the cell, the unit and how to choose it', () => {
    const stated = () => readSurfaceCsv(`# iv=decimal; spot=1; timestamp=2023-12-01T08:00:00Z\n${LOW_VOL_GRID}`, 'low.csv');
    expect(stated).toThrow(InputError);
    expect(stated).toThrow(/^low\.csv: row 3, column 2 \(T=0\.25\): vol 4\.5, read as DECIMALS \(the file says so\), is 450 %, above the 300 % this lab accepts \(6 such vols\); if the vols are in percent, choose the unit: /);
    expect(stated).toThrow(CHOOSE);
    expect(() => readSurfaceCsv(LOW_VOL_GRID, 'low.csv', { ivUnit: 'decimal', now: () => TS })).toThrow(/row 2, column 2 \(T=0\.25\): vol 4\.5, read as DECIMALS \(that unit was chosen\), is 450 %/);
  });

  it('refuses percent rows under an iv_decimal header, naming the row and the column', () => {
    const csv = 'T,k,type,iv_decimal,underlying_price\n0.25,0,call,55,100\n0.25,0.1,call,9,100\n0.25,-0.1,put,8.5,100\n';
    expect(() => readSurfaceCsv(csv, 'q.csv', { timestamp: TS, kGrid: [-0.1, 0, 0.1] })).toThrow(/^q\.csv: row 2, column 'iv_decimal': vol 55, read as DECIMALS \(the file says so\), is 5500 %/);
    const ok = readSurfaceCsv(csv, 'q.csv', { timestamp: TS, kGrid: [-0.1, 0, 0.1], ivUnit: 'percent' });
    expect(ok.surface.iv[1]).toBeCloseTo(0.55, 12);
    expect(ok.assumptions.ivUnit).toEqual({ unit: 'percent', from: 'option' });
    expect(ok.assumptions.spot).toEqual({ value: 100, from: 'underlying' });
    expect(ok.assumptions.timestamp).toEqual({ value: TS, from: 'option' });
  });

  it('.npz holds decimals by format: percent values are refused unless percent is chosen', () => {
    const s: Surface = { kGrid: [-0.1, 0, 0.1], tGrid: [0.1, 0.5], iv: Float64Array.from([55, 52, 50, 49, 51, 50]), spot: 100, timestamp: TS, source: 't' };
    const bytes = surfaceToNpz(s);
    expect(() => parseSurfaceBytes(bytes, 'pct.npz')).toThrow(/^pct\.npz: iv_surface\[0, 0\] \(k=-0\.1, T=0\.1\): vol 55, read as DECIMALS \(the format's unit\), is 5500 %.*if the vols are in percent, choose the unit/);
    const r = parseSurfaceBytes(bytes, 'pct.npz', { ivUnit: 'percent' });
    expect(Array.from(r.surface.iv)).toEqual([0.55, 0.52, 0.5, 0.49, 0.51, 0.5].map((v) => expect.closeTo(v, 15)));
    expect(r.assumptions).toEqual({ ivUnit: { unit: 'percent', from: 'option' }, spot: { value: 100, from: 'file' }, timestamp: { value: TS, from: 'file' } });
    expect(parseSurfaceBytes(surfaceToNpz({ ...s, iv: r.surface.iv }), 'dec.npz').assumptions.ivUnit).toEqual({ unit: 'decimal', from: 'format' });
  });

  it('Deribit book summaries are percent by format', () => {
    const csv = 'instrument_name,mark_iv,underlying_price,creation_timestamp\nBTC-29DEC23-40000-C,55,40000,1701417600000\nBTC-29DEC23-38000-P,57,40000,1701417600000\nBTC-29DEC23-42000-C,54,40000,1701417600000\n';
    const r = readSurfaceCsv(csv, 'book.csv', { kGrid: [-0.05, 0, 0.05] });
    expect(r.assumptions.ivUnit).toEqual({ unit: 'percent', from: 'format' });
    expect(r.assumptions.timestamp).toEqual({ value: 1701417600000, from: 'quotes' });
  });

  it('the unit helpers: names, inference threshold, masked cells skipped', () => {
    expect(['pct', 'percent', '%', ' PCT '].map((t) => parseIvUnit(t, 'x'))).toEqual(['percent', 'percent', 'percent', 'percent']);
    expect(['decimal', 'dec', 'fraction'].map((t) => parseIvUnit(t, 'x'))).toEqual(['decimal', 'decimal', 'decimal']);
    expect(() => parseIvUnit('bp', '--iv-unit')).toThrow(/--iv-unit: iv unit "bp" must be pct \(percent\) or decimal/);
    expect(MAX_DECIMAL_IV).toBe(3);
    expect(inferIvUnit([2.9, 3, 2.5])).toBe('decimal');
    expect(inferIvUnit([3.8, 4.5, 4.0])).toBe('percent');
    expect(() => checkIvUnit([0.5, 9], 'decimal', 'format', (i) => `cell ${i}`, 'w', [0, 1])).not.toThrow();
    expect(() => checkIvUnit([0.5, 3.01], 'decimal', 'format', (i) => `cell ${i}`, 'w')).toThrow(/^w: cell 1: vol 3\.01, read as DECIMALS \(the format's unit\), is 301 %/);
    expect(() => checkIvUnit([500], 'percent', 'option', (i) => `cell ${i}`, 'w')).toThrow(/vol 500, read as PERCENT \(that unit was chosen\), is 500 %.*if the vols are decimals/);
  });

  it('surface inspect takes --iv-unit pct and prints the assumptions', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'units-'));
    const f = join(dir, 'low.csv');
    writeFileSync(f, `# spot=1; timestamp=2023-12-01T08:00:00Z\n${LOW_VOL_GRID}`);
    const inspect = surfaceCommands.find((c) => c.name === 'surface inspect')!;
    const r = (await inspect.run([f, '--iv-unit', 'pct'], {})) as Record<string, unknown>;
    expect(r.iv_max).toBeCloseTo(0.045, 15);
    expect(r.assumptions).toEqual({ iv_unit: 'percent', iv_unit_from: 'option', spot_from: 'file', timestamp_from: 'file' });
    await expect(inspect.run([f, '--iv-unit', 'decimal'], {})).rejects.toThrow(/low\.csv: row 3, column 2 \(T=0\.25\): vol 4\.5, read as DECIMALS \(that unit was chosen\)/);
  });
});

describe('duplicate grid points', () => {
  it('a CSV grid with a repeated maturity or strike names the column or row', () => {
    expect(() => readSurfaceCsv('# iv=decimal; spot=100; timestamp=2023-12-01\nk\\T,0.25,0.5,0.25\n-0.1,0.5,0.5,0.5\n0.1,0.5,0.5,0.5\n', 'd.csv')).toThrow(/^d\.csv: row 2, column 4: maturity 0\.25 repeats column 2; each maturity must appear once/);
    expect(() => readSurfaceCsv('# iv=decimal; spot=100; timestamp=2023-12-01\nstrike,0.25,0.5\n90,0.5,0.5\n100,0.5,0.5\n90,0.5,0.5\n', 'd.csv')).toThrow(/^d\.csv: row 5, column 1: strike 90 repeats row 3; each strike must appear once/);
  });
  it('surface validation names the grid rows or columns that coincide', () => {
    expect(gridProblems([-0.1, 0, 0, 0.1], 'k_grid')).toEqual(['k_grid[2] = 0 duplicates k_grid[1] (rows 1 and 2 are the same strike; drop or merge one)']);
    expect(gridProblems([0.1, 0.5, 0.5], 't_grid', true)).toEqual(['t_grid[2] = 0.5 duplicates t_grid[1] (columns 1 and 2 are the same maturity; drop or merge one)']);
  });
});
