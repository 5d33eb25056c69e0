// What a new user hits first (issue 15 item 10): a taken port and a negative count must give a
// sentence that says what to do, not a stack trace or parseArgs' "argument is ambiguous".
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JS module without types
import { serve } from '../../../scripts/serve.mjs';
import { parse, positiveIntOption } from '../../../cli/io.ts';

const root = join(import.meta.dirname, '..', '..', '..');

describe('first-run messages', () => {
  it('npm start on a taken port names the port and the PORT variable, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    const first = await serve(dir, 0);
    const port = new URL(first.url).port;
    try {
      const r = spawnSync(process.execPath, ['scripts/serve.mjs', dir], { cwd: root, env: { ...process.env, PORT: port }, encoding: 'utf8', timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(r.stderr).toContain('PORT=');
      expect(r.stderr).not.toMatch(/EADDRINUSE|at Server/);
    } finally {
      await first.close();
    }
  });

  it('a negative count reads as a value and is refused as not positive', () => {
    const { values } = parse(['--n', '-5', '--seed', '3'], { n: { type: 'string' }, seed: { type: 'string' } });
    expect(values.n).toBe('-5');
    expect(() => positiveIntOption(values.n, '--n')).toThrow('--n must be a positive integer, got "-5"');
    expect(() => positiveIntOption('2.5', '--n')).toThrow(/positive integer/);
    expect(positiveIntOption('7', '--n')).toBe(7);
    expect(positiveIntOption(undefined, '--n', 4)).toBe(4);
  });
});
