// No command prints a NaN metric with exit 0 (issue 14 item 2): JSON.stringify would print NaN as
// null, so cli/main.ts looks for non-finite numbers in every result before printing it.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { firstNonFinite } from '../../../cli/main.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('non-finite results', () => {
  it('finds the first NaN or infinity and names its path', () => {
    expect(firstNonFinite({ r2: { kappa: 0.9, theta: NaN }, n: 3 })).toEqual({ path: 'r2.theta', value: NaN });
    expect(firstNonFinite({ steps: [{ reward: 1 }, { reward: -Infinity }] })).toEqual({ path: 'steps[1].reward', value: -Infinity });
    expect(firstNonFinite({ iv: Float64Array.of(0.2, NaN) })).toEqual({ path: 'iv[1]', value: NaN });
    expect(firstNonFinite({ a: null, b: 'NaN', c: [1, 2, { d: 0 }] })).toBeUndefined();
    expect(firstNonFinite(NaN)).toEqual({ path: '$', value: NaN });
  });

  it('lets a command write "no value" as an explicit null (iv of an uninvertible price), exit 0', () => {
    const input = JSON.stringify({ spot: 100, r: 0, q: 0, strikes: [100, 110], maturities: [1], calls: [[150], [5]] });
    const r = spawnSync(process.execPath, ['cli/bin.mjs', 'iv'], { cwd: root, input, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).iv[0][0]).toBeNull();
  });

  it('inverse predict --latent prints masked reconstruction cells as null, not a NaN refusal', () => {
    const r = spawnSync(process.execPath, ['cli/bin.mjs', 'inverse', 'predict', '--ckpt', 'public/checkpoints/seed-grid-heston.hlckpt', '--surface', 'public/samples/heston_mid.npz', '--latent'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { reconstruction: (number | null)[] };
    // heston_mid.npz masks 5 of its 30 cells (OTM price below 1e-7·S at the short end).
    expect(out.reconstruction.length).toBe(30);
    expect(out.reconstruction.filter((x) => x === null).length).toBe(5);
    expect(out.reconstruction.every((x) => x === null || (x > 0 && x < 5))).toBe(true);
  });
});
