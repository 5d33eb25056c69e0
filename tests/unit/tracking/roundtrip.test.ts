/**
 * The MLflow reference tree (tests/fixtures/mlruns, written by MLflow 2.17's own API) survives
 * import → export byte for byte: every file MLflow reads (meta.yaml, params, tags, metric lines,
 * artifacts) comes back identical, run ids, statuses, times and experiment ids included.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURE, tempDirs } from './tempDirs.ts';
import { FileTree, openFileTracker } from '../../../src/core/tracking/fileTracker.ts';
import { walkFiles } from '../../../src/core/tracking/layout.ts';
import { pyFloatRepr, parsePyFloat } from '../../../src/core/tracking/mlflowFormat.ts';
import { latestPoint } from '../../../src/core/tracking/model.ts';

const tmp = tempDirs('track-');

describe('FileStore round trip against the MLflow 2.17 fixture', () => {
  it('import then export reproduces every file MLflow wrote', async () => {
    const store = await tmp();
    const tracker = await openFileTracker(join(store, 'mlruns'));
    const res = await tracker.importTree(new FileTree(FIXTURE));
    expect(res.skipped).toEqual([]);
    expect(res.imported).toBe(6);
    // No collision in a fresh store: experiment ids are kept.
    expect(res.experimentIds).toEqual({ '0': '0', '792147300371511236': '792147300371511236', '911596816095483071': '911596816095483071' });

    const out = join(await tmp(), 'mlruns');
    await tracker.exportTree(new FileTree(out), { artifactRoot: './mlruns' });
    const want = await walkFiles(new FileTree(FIXTURE), '');
    const got = await walkFiles(new FileTree(out), '');
    expect(got).toEqual(want);
    for (const f of want) {
      const a = await readFile(join(FIXTURE, f));
      const b = await readFile(join(out, f));
      expect(b.equals(a), f).toBe(true);
    }
  });

  it('reads what MLflow reads: statuses, latest values by (step, timestamp, value), NaN, repeated steps', async () => {
    const tracker = await openFileTracker(join(await tmp(), 'mlruns'));
    await tracker.importTree(new FileTree(FIXTURE));
    const runs = await tracker.listRuns({ includeDeleted: true });
    const byName = Object.fromEntries(runs.map((r) => [r.info.runName, r]));
    expect(Object.keys(byName).sort()).toEqual(['cnn-lr2e-3', 'cnn-lr5e-2', 'cnn-smoke', 'ppo-seed0', 'ppo-seed1', 'ppo-seed2']);
    expect(byName['cnn-lr2e-3'].info.status).toBe('FINISHED');
    expect(byName['cnn-lr5e-2'].info.status).toBe('FAILED');
    expect(byName['cnn-smoke'].info.lifecycleStage).toBe('deleted');
    expect(byName['ppo-seed1'].info.status).toBe('KILLED');
    // ppo-seed2 is RUNNING with no owner tag of ours: the sweep must leave it alone.
    expect(byName['ppo-seed2'].info.status).toBe('RUNNING');
    expect(byName['ppo-seed2'].info.endTime).toBeNull();
    // MLflow's check output: the latest val_loss is step 10's 0.2519, not the last line (step 5).
    expect(byName['cnn-lr2e-3'].latest.val_loss.value).toBe(0.2519);
    expect(byName['cnn-lr2e-3'].params['model.config_json'].length).toBe(6000);
    expect(byName['cnn-lr2e-3'].params['adam/betas']).toBe('(0.9, 0.999)');
    expect(Number.isNaN(byName['cnn-lr5e-2'].latest.val_loss.value)).toBe(true);
    expect(Object.keys(byName['cnn-lr2e-3'].latest)).toHaveLength(9);
    const hist = await tracker.metricHistory(byName['ppo-seed1'].info.runId, 'charts/episodic_return');
    expect(hist['charts/episodic_return'].map((p) => [p.step, p.value, p.timestamp])).toEqual([
      [2048, -0.7764, 1795684322500], [2048, -0.881, 1795684323200], [4096, -0.4499, 1795684326500],
      [4096, -0.5277, 1795684327200], [6144, -0.0995, 1795684330500], [6144, -0.1559, 1795684331200],
    ]);
    expect(latestPoint(hist['charts/episodic_return'])!.value).toBe(-0.1559);
    const ev = await tracker.metricHistory(byName['ppo-seed1'].info.runId, 'losses/explained_variance');
    expect(ev['losses/explained_variance'].map((p) => p.value)).toEqual([-Infinity, 0.3, 0.4]);
    const arts = await tracker.listArtifacts(byName['cnn-lr2e-3'].info.runId);
    expect(arts).toEqual([{ path: 'checkpoint/weights.bin', size: 1024 }, { path: 'eval/summary.json', size: 186 }, { path: 'plots/loss.png', size: 165 }]);
    const bytes = await tracker.readArtifact(byName['cnn-lr2e-3'].info.runId, 'checkpoint/weights.bin');
    const sha = createHash('sha256').update(bytes).digest('hex');
    expect(sha).toBe(byName['cnn-lr2e-3'].tags['checkpoint.sha256']);
  });
});

describe('Python float formatting', () => {
  it('prints as repr(float) and reads Python and JavaScript spellings', () => {
    const cases: [number, string][] = [
      [0.5067, '0.5067'], [252, '252.0'], [1e-7, '1e-07'], [1.5e-7, '1.5e-07'], [0.0001, '0.0001'],
      [0.00001, '1e-05'], [1e16, '1e+16'], [123456789012345680000, '1.2345678901234568e+20'],
      [9999999999999998, '9999999999999998.0'], [-0.0995, '-0.0995'], [NaN, 'nan'], [Infinity, 'inf'], [-Infinity, '-inf'], [-0, '-0.0'],
    ];
    for (const [x, s] of cases) {
      expect(pyFloatRepr(x)).toBe(s);
      expect(Object.is(parsePyFloat(s), x)).toBe(true);
    }
    expect(parsePyFloat('NaN')).toBeNaN();
    expect(parsePyFloat('-Infinity')).toBe(-Infinity);
    expect(parsePyFloat('abc')).toBeUndefined();
    expect(parsePyFloat('1.7e12')).toBe(1.7e12);
  });
});

describe('experiment ids on import', () => {
  it('change only when the id is taken by another experiment; same-name experiments merge', async () => {
    const { MemoryTree } = await import('../../../src/core/tracking/tree.ts');
    const { writeExperimentFiles } = await import('../../../src/core/tracking/layout.ts');
    const { LabTracker } = await import('../../../src/core/tracking/tracker.ts');
    const tree = new MemoryTree();
    // This store already uses inverse-heston's id for another experiment, and has a ppo-trader of its own.
    await writeExperimentFiles(tree, { experimentId: '792147300371511236', name: 'something else', artifactLocation: './mlruns/792147300371511236', lifecycleStage: 'active', creationTime: 1, lastUpdateTime: 1, tags: {} });
    await writeExperimentFiles(tree, { experimentId: '123', name: 'ppo-trader', artifactLocation: './mlruns/123', lifecycleStage: 'active', creationTime: 2, lastUpdateTime: 2, tags: { env: 'mine' } });
    const t = new LabTracker(tree, { owner: 'test', isOwnerAlive: () => undefined, artifactLocation: (id) => `./mlruns/${id}` });
    const res = await t.importTree(new FileTree(FIXTURE));
    expect(res.imported).toBe(6);
    const moved = res.experimentIds['792147300371511236'];
    expect(moved).not.toBe('792147300371511236');
    expect(moved).toMatch(/^\d{18}$/);
    expect(res.experimentIds['911596816095483071']).toBe('123'); // matched by name
    const exps = Object.fromEntries((await t.listExperiments()).map((e) => [e.name, e]));
    expect(exps['something else'].experimentId).toBe('792147300371511236');
    expect(exps['inverse-heston'].experimentId).toBe(moved);
    expect(exps['inverse-heston'].tags.project).toBeDefined();
    expect(exps['ppo-trader'].tags.env).toBe('mine'); // its own tag kept
    const lr2 = await t.getRun('25abd89bd67e4d928a8318174d645fa6');
    expect(lr2.info.experimentId).toBe(moved);
    expect(lr2.info.artifactUri).toBe(`./mlruns/${moved}/25abd89bd67e4d928a8318174d645fa6/artifacts`);
    expect((await t.listRuns({ experimentName: 'ppo-trader' })).map((r) => r.info.runName).sort()).toEqual(['ppo-seed0', 'ppo-seed1', 'ppo-seed2']);
  });
});
