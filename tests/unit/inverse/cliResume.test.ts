// `inverse train --resume`: a resumed run keeps its settings, --epochs (a new total) extends it, and a
// flag that contradicts the saved run is refused naming the flag — it used to be ignored silently
// (a user asking for --epochs 3 on a 2-epoch run got 2 again).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', '..');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['cli/bin.mjs', 'inverse', 'train', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
}

describe('inverse train --resume', () => {
  it('extends the saved run with --epochs, refuses a total already reached and a changed setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inverse-resume-'));
    try {
      const data = ['--synthetic', 'heston', '--n', '96', '--seed', '4', '--batch-size', '32', '--state', dir, '--out', join(dir, 'm.hlckpt'), '--tracking-uri', 'none'];
      const first = cli([...data, '--epochs', '2', '--checkpoint-every', '1']);
      expect(first.status, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout).epochs).toBe(2);
      const more = cli([...data, '--resume', '--epochs', '3']);
      expect(more.status, more.stderr).toBe(0);
      expect(JSON.parse(more.stdout).epochs).toBe(3);
      const same = cli([...data, '--resume', '--epochs', '3']);
      expect(same.status).toBe(2);
      expect(same.stderr).toMatch(/has done 3 of its 3 epochs: to continue it, ask for more than 3/);
      const lr = cli([...data, '--resume', '--epochs', '4', '--lr', '0.01']);
      expect(lr.status).toBe(2);
      expect(lr.stderr).toContain('--lr');
      expect(lr.stderr).toMatch(/0\.01 differs from the saved run's 0\.002: a resumed run keeps its settings/);
      // Left out, a setting is the saved run's — the data seed's default included (seed 4, not 1) …
      const noSeed = data.filter((x, i) => x !== '--seed' && data[i - 1] !== '--seed');
      const kept = cli([...noSeed, '--resume', '--epochs', '4']);
      expect(kept.status, kept.stderr).toBe(0);
      expect(JSON.parse(kept.stdout).epochs).toBe(4);
      // … and other data of the same size, or another network, is refused.
      const other = cli([...data, '--resume', '--epochs', '5', '--data-seed', '9']);
      expect(other.status).toBe(2);
      expect(other.stderr).toMatch(/the saved run was training on \{"kind":"heston","n":96,"seed":4,"source":"generated"\}, this resume has \{"kind":"heston","n":96,"seed":9,"source":"generated"\}/);
      const hidden = cli([...data, '--resume', '--epochs', '5', '--hidden', '32']);
      expect(hidden.status).toBe(2);
      expect(hidden.stderr).toContain('--hidden');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
