/**
 * Ctrl-C on a tracked CLI training: `inverse train` gets SIGINT mid-training (after its first
 * epoch is on disk) and its run ends KILLED, with an end time and the metrics logged so far, in
 * the --tracking-uri directory (MLflow's layout).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openFileTracker } from '../../../src/core/tracking/fileTracker.ts';
import { walkFiles } from '../../../src/core/tracking/layout.ts';
import { FileTree } from '../../../src/core/tracking/fileTracker.ts';

const ROOT = join(import.meta.dirname, '../../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('SIGINT', () => {
  it('ends an inverse train run KILLED with its metrics so far', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigint-'));
    dirs.push(dir);
    const store = join(dir, 'mlruns');
    // 400 epochs of 200 surfaces: minutes of work, so the interrupt lands mid-training.
    const child = spawn(process.execPath, [join(ROOT, 'cli/bin.mjs'), 'inverse', 'train', '--synthetic', 'proxy', '--n', '200', '--epochs', '400', '--out', join(dir, 'm.hlckpt'), '--tracking-uri', store, '--experiment', 'sigint'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Wait until a per-epoch metric has been flushed (the buffer flushes every second).
    const deadline = Date.now() + 40_000;
    const lossFile = async () => (await walkFiles(new FileTree(store), '')).find((f) => f.endsWith('/metrics/train_loss'));
    let f: string | undefined;
    while (Date.now() < deadline && !(f = await lossFile())) await new Promise((r) => setTimeout(r, 200));
    expect(f, stderr).toBeDefined();
    child.kill('SIGINT');
    const code = await exited;
    expect(code).toBe(1); // cancelled: an error exit, not a result
    expect(existsSync(join(dir, 'm.hlckpt'))).toBe(false);
    const tracker = await openFileTracker(store);
    const [run] = await tracker.listRuns({ experimentName: 'sigint' });
    expect(run.info.status).toBe('KILLED');
    expect(run.info.endTime).toBeGreaterThan(run.info.startTime);
    const history = (await tracker.metricHistory(run.info.runId)).train_loss;
    expect(history.length).toBeGreaterThanOrEqual(1);
    expect(history.length).toBeLessThan(400);
    expect(readFileSync(join(store, f!), 'utf8').split('\n').filter(Boolean).length).toBe(history.length);
    expect(run.params.epochs).toBe('400');
    expect(run.tags['heston-lab.owner']).toBeUndefined();
  }, 60_000);
});
