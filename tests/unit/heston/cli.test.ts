import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calibrateCommand, ivCommand, priceCommand } from '../../../cli/commands/heston.ts';
import { hestonIvSurface } from '../../../src/core/heston/surface.ts';

const dir = mkdtempSync(join(tmpdir(), 'heston-cli-'));
let n = 0;
function file(x: unknown): string {
  const f = join(dir, `in${n++}.json`);
  writeFileSync(f, typeof x === 'string' ? x : JSON.stringify(x));
  return f;
}
const params = { kappa: 4, theta: 0.25, sigma: 1, rho: -0.5, v0: 0.04 };
const lewis = { spot: 100, r: 0.01, q: 0.02, strikes: [80, 100, 120], maturities: [1], params };

describe('cli price', () => {
  it('prices a grid (rows strikes, columns maturities) and a list of cases', async () => {
    const out = (await priceCommand.run(['--in', file(lewis)], {})) as { calls: number[][]; puts: number[][] };
    expect(out.calls.length).toBe(3);
    expect(out.calls[0]!.length).toBe(1);
    expect(Math.abs(out.calls[0]![0]! - 26.774758743998854)).toBeLessThan(1e-9 * 100);
    const many = (await priceCommand.run(['--in', file({ cases: [lewis, { ...lewis, maturities: [0.5, 1], r: [0.01, 0.02] }] })], {})) as { results: { calls: number[][] }[] };
    expect(many.results.length).toBe(2);
    expect(many.results[1]!.calls[2]!.length).toBe(2);
  });

  it('rejects bad input with an error naming the field', async () => {
    const bad: [unknown, RegExp][] = [
      [{ ...lewis, maturities: [-1] }, /"maturities"\[0\] must be positive/],
      [{ ...lewis, strikes: [100, NaN] }, /"strikes"\[1\] must be a finite number/],
      [{ ...lewis, params: { ...params, sigma: 9 } }, /params: sigma=9 is outside/],
      [{ ...lewis, params: { kappa: 1 } }, /missing parameter "theta"/],
      [{ ...lewis, r: [0.01, 0.02] }, /"r" has 2 values but there are 1 maturities/],
      [{ ...lewis, spot: 'x' }, /"spot" must be a finite number/],
      ['{not json', /not valid JSON/],
      [{ cases: [lewis, { ...lewis, spot: -1 }] }, /cases\[1\]: "spot" must be positive/],
    ];
    for (const [input, msg] of bad) await expect(priceCommand.run(['--in', file(input)], {})).rejects.toThrow(msg);
  });
});

describe('cli iv', () => {
  it('inverts call prices and returns null with a reason where not invertible', async () => {
    const priced = (await priceCommand.run(['--in', file(lewis)], {})) as { calls: number[][] };
    const calls = priced.calls.map((row) => [...row]);
    calls[2]![0] = 500; // above the upper bound
    const out = (await ivCommand.run(['--in', file({ ...lewis, calls })], {})) as { iv: (number | null)[][]; reasons: (string | null)[][] };
    expect(out.iv[0]![0]).toBeGreaterThan(0.1);
    expect(out.iv[2]![0]).toBeNull();
    expect(out.reasons[2]![0]).toMatch(/upper bound/);
    await expect(ivCommand.run(['--in', file({ ...lewis, calls: [[1, 2]] })], {})).rejects.toThrow(/"calls" has 1 rows but there are 3 strikes/);
    await expect(ivCommand.run(['--in', file({ ...lewis, calls: [[1], [null], [2]] })], {})).rejects.toThrow(/row 1, column 0/);
  });
});

describe('cli calibrate', () => {
  const kGrid = [-0.4, -0.2, 0, 0.2, 0.4];
  const tGrid = [0.1, 0.25, 0.5, 1, 2];
  const truth = { kappa: 2, theta: 0.04, sigma: 0.5, rho: -0.7, v0: 0.03 };
  // With r = q = 0 the forward is the spot, so strikes = S·e^k are on the surface's ln(K/F) grid.
  const s = hestonIvSurface(truth, kGrid, tGrid, { spot: 100 });
  const iv = kGrid.map((_, i) => tGrid.map((_, j) => (s.mask[i * 5 + j] ? null : s.iv[i * 5 + j]!)));
  const input = { spot: 100, r: 0, q: 0, strikes: kGrid.map((k) => 100 * Math.exp(k)), maturities: tGrid, iv };

  it('recovers the parameters and reports rmse, iterations, time and why it stopped', async () => {
    const out = (await calibrateCommand.run(['--in', file(input)], {})) as Record<string, any>;
    for (const name of Object.keys(truth) as (keyof typeof truth)[]) expect(Math.abs(out.params[name] / truth[name] - 1)).toBeLessThan(1e-5);
    expect(out.rmse_vol).toBeLessThan(1e-6);
    expect(out.converged).toBe(true);
    expect(typeof out.reason).toBe('string');
    expect(out.iterations).toBeGreaterThan(0);
    expect(out.ms).toBeGreaterThan(0);
  });

  it('names the parameters that end on a bound (at_bounds), empty for an interior optimum', async () => {
    const clean = (await calibrateCommand.run(['--in', file(input)], {})) as Record<string, any>;
    expect(clean.at_bounds).toEqual([]);
    // Vols 4× the model's (0.6–1.3, still plausible decimals) can only be fitted by pushing the
    // long-run variance and the vol of vol to their caps (θ = 4, σ = 5): reported, not hidden.
    const far = (await calibrateCommand.run(['--in', file({ ...input, iv: iv.map((r) => r.map((v) => (v === null ? null : 4 * v))) })], {})) as Record<string, any>;
    expect(far.at_bounds).toEqual(['theta', 'sigma']);
    expect(far.params.theta).toBeCloseTo(4, 12);
    expect(far.reason).toMatch(/theta, sigma are on their bound/);
  });

  it('rejects bad input and options', async () => {
    await expect(calibrateCommand.run(['--in', file({ ...input, iv: iv.slice(1) })], {})).rejects.toThrow(/4 rows but there are 5 strikes/);
    await expect(calibrateCommand.run(['--in', file({ ...input, iv: iv.map((r) => r.map(() => null)) })], {})).rejects.toThrow(/0 usable quotes/);
    await expect(calibrateCommand.run(['--in', file({ ...input, iv: iv.map((r) => r.map((v) => (v === null ? null : v * 100))) })], {})).rejects.toThrow(/decimal/);
    await expect(calibrateCommand.run(['--in', file({ ...input, start: { ...truth, rho: 2 } })], {})).rejects.toThrow(/start: rho=2 is outside/);
    await expect(calibrateCommand.run(['--in', file(input), '--target', 'vol'], {})).rejects.toThrow(/--target: must be one of iv, price/);
    await expect(calibrateCommand.run(['--in', file(input), '--bogus'], {})).rejects.toThrow(/bogus/);
  });
});
