/**
 * `runs` commands end to end (the CLI in a child process, as a user runs it): import a tree MLflow
 * wrote, with malformed runs skipped and reported {path, line, reason}; list / show; export to a
 * folder and a zip that import back with every run id, status, param, metric point and artifact.
 */
import { spawnSync } from 'node:child_process';
import { cp, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { FIXTURE, tempDirs } from './tempDirs.ts';
import { FileTree } from '../../../src/core/tracking/fileTracker.ts';
import { readTree } from '../../../src/core/tracking/layout.ts';

const ROOT = join(import.meta.dirname, '../../..');
const LR2 = '792147300371511236/25abd89bd67e4d928a8318174d645fa6';
const LR5 = '792147300371511236/3cbb7daa64c144fa88a7c8252abc5619';
const SEED0 = '911596816095483071/29ec148cead54263b4d6d23508bd9d96';

const tmp = tempDirs('runs-cli-');

function cli(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'cli/bin.mjs'), ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, err: r.stderr, json: r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').pop()!) : undefined };
}

async function copyFixture(): Promise<string> {
  const d = join(await tmp(), 'src');
  await cp(FIXTURE, d, { recursive: true });
  await chmod(d, 0o755);
  spawnSync('chmod', ['-R', 'u+w', d]);
  return d;
}

describe('runs import', () => {
  it('skips malformed runs with file and line, imports the rest, exits 0; nothing importable exits 2', async () => {
    const src = await copyFixture();
    await writeFile(join(src, LR2, 'metrics/val_loss'), '1795683722040 0.5067 1\n1795683723540\t0.3962\t2\n');
    await writeFile(join(src, LR5, 'metrics/train_loss'), '');
    const seed0Meta = join(src, SEED0, 'meta.yaml');
    await writeFile(seed0Meta, (await readFile(seed0Meta, 'utf8')).replace(/^run_uuid:.*\n/m, ''));
    const cwd = await tmp();
    const r = cli(cwd, 'runs', 'import', src);
    expect(r.status, r.err).toBe(0);
    expect(r.json.imported).toBe(3);
    expect(r.json.skipped).toEqual([
      { path: `${LR2}/metrics/val_loss`, line: 2, reason: 'malformed metric line "1795683723540\t0.3962\t2": want "<timestamp> <value> <step>"' },
      { path: `${LR5}/metrics/train_loss`, line: null, reason: 'empty metric file (MLflow cannot read the run: "No data found")' },
      { path: `${SEED0}/meta.yaml`, line: null, reason: 'run_uuid is missing (MLflow fails on the whole experiment without it)' },
    ]);
    // Default --tracking-uri: ./mlruns in the directory the command started in.
    const listed = cli(cwd, 'runs', 'list', '--all');
    expect(listed.json.map((x: { name: string }) => x.name).sort()).toEqual(['cnn-smoke', 'ppo-seed1', 'ppo-seed2']);
    // Again: every run is already there, nothing imported → exit 2 with the report on stdout.
    const again = cli(cwd, 'runs', 'import', src);
    expect(again.status).toBe(2);
    expect(again.json.imported).toBe(0);
    expect(again.err).toMatch(/nothing imported/);
  });

  it('list, show; export --out and --zip import back identical into a fresh store', async () => {
    const cwd = await tmp();
    const store = `file://${join(cwd, 'store')}`;
    expect(cli(cwd, 'runs', 'import', FIXTURE, '--tracking-uri', store).json.imported).toBe(6);
    const list = cli(cwd, 'runs', 'list', '--experiment', 'inverse-heston', '--tracking-uri', store);
    expect(list.json.map((x: { name: string }) => x.name)).toEqual(['cnn-lr5e-2', 'cnn-lr2e-3']); // newest first; deleted hidden
    expect(list.json[0].metrics.val_loss).toBe('NaN');
    const show = cli(cwd, 'runs', 'show', '25abd89bd67e4d928a8318174d645fa6', '--tracking-uri', store);
    expect(show.json.status).toBe('FINISHED');
    expect(show.json.metrics.val_loss).toEqual({ value: 0.2519, step: 10, timestamp: 1795683735540 });
    expect(show.json.artifacts.map((a: { path: string }) => a.path)).toEqual(['checkpoint/weights.bin', 'eval/summary.json', 'plots/loss.png']);
    expect(show.json.tags['mlflow.runName']).toBe('cnn-lr2e-3');
    expect(cli(cwd, 'runs', 'show', 'nope', '--tracking-uri', store).status).toBe(2);

    const fixture = await readTree(new FileTree(FIXTURE));
    const strip = (t: typeof fixture) => t.experiments.flatMap((e) => e.runs.map((r) => ({ ...r, info: { ...r.info, artifactUri: '' } }))).sort((a, b) => a.info.runId.localeCompare(b.info.runId));

    const out = join(cwd, 'exported');
    const ex = cli(cwd, 'runs', 'export', '--out', out, '--tracking-uri', store);
    expect(ex.json.runs).toBe(6);
    const exported = await readTree(new FileTree(out));
    expect(exported.skipped).toEqual([]);
    expect(strip(exported)).toEqual(strip(fixture));
    expect(exported.experiments.find((e) => e.experiment.experimentId === '792147300371511236')!.runs[0].info.artifactUri).toMatch(/^\.\/exported\/792147300371511236\//);
    expect(cli(cwd, 'runs', 'export', '--out', out, '--tracking-uri', store).status).toBe(2); // not empty

    const zip = join(cwd, 'runs.zip');
    const z = cli(cwd, 'runs', 'export', '--zip', zip, '--run', '25abd89bd67e4d928a8318174d645fa6', '--run', '959575fe0a734d03b43a2c9fbed3e91c', '--tracking-uri', store);
    expect(z.json.runs).toBe(2);
    const entries = unzipSync(new Uint8Array(await readFile(zip)));
    expect(Object.keys(entries).every((p) => p.startsWith('mlruns/'))).toBe(true);
    const readme = new TextDecoder().decode(entries['mlruns/README.md']);
    for (const s of ['mlflow ui --backend-store-uri ./mlruns', 'MLFLOW_ALLOW_FILE_STORE=true', 'mlflow migrate-filestore', '3.7+']) expect(readme).toContain(s);
    const fresh = `file:${join(cwd, 'fresh')}`;
    const imp = cli(cwd, 'runs', 'import', zip, '--tracking-uri', fresh);
    expect(imp.json.imported).toBe(2);
    const back = await readTree(new FileTree(join(cwd, 'fresh')));
    const want = strip(fixture).filter((r) => ['25abd89bd67e4d928a8318174d645fa6', '959575fe0a734d03b43a2c9fbed3e91c'].includes(r.info.runId));
    expect(strip(back)).toEqual(want);
  }, 60_000);
});

describe('inverse train tracking (issue 12 items 6–7)', () => {
  it('records its run in ./mlruns of the directory it was started from: config params, per-epoch losses and R², checkpoint artifact', async () => {
    const cwd = await tmp();
    // 200 surfaces × 2 epochs: ~1 s of training; the figures are not judged, only where they land.
    const r = cli(cwd, 'inverse', 'train', '--synthetic', 'proxy', '--n', '200', '--epochs', '2', '--out', join(cwd, 'm.hlckpt'), '--name', 'tiny');
    expect(r.status, r.err).toBe(0);
    const runs = cli(cwd, 'runs', 'list', '--experiment', 'inverse-heston'); // no --tracking-uri: ./mlruns
    expect(runs.status, runs.err).toBe(0);
    expect(runs.json.map((x: { run_id: string }) => x.run_id)).toEqual([r.json.run_id]);
    const show = cli(cwd, 'runs', 'show', r.json.run_id, '--tracking-uri', join(cwd, 'mlruns'));
    expect(show.json.status).toBe('FINISHED');
    expect(show.json.tags['mlflow.runName']).toBe('tiny');
    expect(show.json.params.epochs).toBe('2');
    expect(show.json.params.lr).toBe('0.002');
    // Per-epoch metrics at step = epoch number (1, 2), and their values are the printed ones.
    expect(show.json.metrics.train_loss).toMatchObject({ step: 2, value: r.json.final.train_loss });
    expect(show.json.metrics.val_loss).toMatchObject({ step: 2, value: r.json.final.val_loss });
    for (const p of ['kappa', 'theta', 'sigma', 'rho', 'v0']) expect(show.json.metrics[`r2/${p}`].value).toBeCloseTo(r.json.final.val_r2[p], 12);
    const lines = (await readFile(join(cwd, 'mlruns', show.json.experiment_id, r.json.run_id, 'metrics', 'train_loss'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['1', '2']);
    const arts = Object.fromEntries(show.json.artifacts.map((a: { path: string; size: number }) => [a.path, a.size]));
    expect(arts['checkpoint/m.hlckpt']).toBe(r.json.bytes);
    expect(await readFile(join(cwd, 'mlruns', show.json.experiment_id, r.json.run_id, 'artifacts', 'checkpoint', 'm.hlckpt'))).toEqual(await readFile(join(cwd, 'm.hlckpt')));
    expect(arts['eval/summary.json']).toBeGreaterThan(0);
  }, 60_000);
});
