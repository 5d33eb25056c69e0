/**
 * The tracker as trainers use it: set-once params, buffered metrics in MLflow's line format,
 * end statuses, stale runs (a dead process, a closed tab) marked KILLED on the next open, quota
 * errors that lose nothing, and two processes writing one store at once.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDirs } from './tempDirs.ts';
import { MemoryStore, QuotaError, type Store } from '../../../src/core/store/store.ts';
import { openFileTracker } from '../../../src/core/tracking/fileTracker.ts';
import { LIMITS, TAG } from '../../../src/core/tracking/model.ts';
import { MemoryTree } from '../../../src/core/tracking/tree.ts';
import { LabTracker, LEASE_STALE_MS, openStoreTracker, runTracked, trackProgress } from '../../../src/core/tracking/tracker.ts';
import { Rng } from '../../../src/core/math/rng.ts';

const run$ = promisify(execFile);
const WRITER = join(import.meta.dirname, 'writer.ts');
const tmp = tempDirs('track-');

/** Deterministic ids and clock, so a test can compare exact files. */
function fixedOpts() {
  let t = 1_800_000_000_000;
  const rng = Rng.stream(7, 1);
  return {
    owner: 'test:me',
    isOwnerAlive: () => undefined,
    artifactLocation: (id: string) => `./mlruns/${id}`,
    now: () => (t += 1000),
    randomBytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rng.uniform() * 256)),
    flushIntervalMs: 60_000,
    onError: () => undefined,
  };
}

const text = async (tree: MemoryTree, path: string) => new TextDecoder().decode((await tree.read(path))!);

describe('params, metrics, end', () => {
  it('writes MLflow files: params without newline, metric lines "ts value step", repeated steps, NaN', async () => {
    const tree = new MemoryTree();
    const tracker = new LabTracker(tree, fixedOpts());
    const run = await tracker.startRun({ experiment: 'inverse-heston', name: 'cnn', params: { lr: 0.002, optimizer: 'adam', 'adam/betas': '(0.9, 0.999)' } });
    const base = `${run.experimentId}/${run.runId}`;
    expect(run.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(await text(tree, `${base}/params/lr`)).toBe('0.002');
    await run.logParams({ lr: 0.002 }); // same value: fine
    await expect(run.logParams({ lr: 0.003 })).rejects.toThrow(/changing param values is not allowed/);
    await expect(run.logParams({ 'optimizer/eps': 1e-8 })).rejects.toThrow(/collides with "optimizer"/);
    await expect(run.logParams({ '../x': 1 })).rejects.toThrow(/normalised relative path/);
    await expect(run.logParams({ 'a#b': 1 })).rejects.toThrow(/may contain only/);
    await run.logParams({ long: 'x'.repeat(7000) });
    expect((await text(tree, `${base}/params/long`)).length).toBe(LIMITS.paramValue);

    run.logMetrics(1, { val_loss: 0.5 }, 1000);
    run.logMetrics(2, { val_loss: NaN, 'r2/kappa': 0.9 }, 2000);
    run.logMetrics(1, { val_loss: 0.25 }, 3000); // step 1 again, later
    expect(() => run.logMetrics(1.5, { x: 1 })).toThrow(/integer/);
    expect(() => run.logMetrics(1, { 'bad key!': 1 })).toThrow(/may contain only/);
    // Buffered: nothing on disk until a flush.
    expect(await tree.read(`${base}/metrics/val_loss`)).toBeUndefined();
    await run.flush();
    expect(await text(tree, `${base}/metrics/val_loss`)).toBe('1000 0.5 1\n2000 nan 2\n3000 0.25 1\n');
    expect(await text(tree, `${base}/metrics/r2/kappa`)).toBe('2000 0.9 2\n');

    const s = await tracker.getRun(run.runId);
    expect(s.info.status).toBe('RUNNING');
    expect(s.tags[TAG.runName]).toBe('cnn');
    expect(s.tags[TAG.owner]).toBe('test:me');
    // Latest = largest (step, timestamp, value): step 2's NaN, not the last line.
    expect(s.latest.val_loss.step).toBe(2);
    expect(Number.isNaN(s.latest.val_loss.value)).toBe(true);

    await run.logArtifact('checkpoints/model.hlckpt', new Uint8Array([0, 13, 10, 255]));
    run.logMetrics(3, { val_loss: 0.2 }, 4000);
    await run.end('FINISHED');
    const done = await tracker.getRun(run.runId);
    expect(done.info.status).toBe('FINISHED');
    expect(done.info.endTime).toBeGreaterThan(done.info.startTime);
    expect(done.latest.val_loss.value).toBe(0.2); // end() flushed the buffer
    expect(done.tags[TAG.owner]).toBeUndefined();
    expect(await text(tree, `${base}/meta.yaml`)).toContain('status: 3\n');
    expect(await tracker.readArtifact(run.runId, 'checkpoints/model.hlckpt')).toEqual(new Uint8Array([0, 13, 10, 255]));
    expect(() => run.logMetrics(4, { x: 1 })).toThrow(/has ended/);
  });

  it("MLflow's length limits: 250-character keys, 8000-character tag values, 500-character experiment names; a refused start leaves no run", async () => {
    const tree = new MemoryTree();
    const tracker = new LabTracker(tree, fixedOpts());
    const k250 = 'k'.repeat(LIMITS.keyLength);
    const run = await tracker.startRun({ experiment: 'limits', params: { [k250]: 1 }, tags: { t: 'v'.repeat(LIMITS.runTagValue) } });
    expect(() => run.logMetrics(0, { [k250]: 1 })).not.toThrow();
    expect(() => run.logMetrics(0, { [k250 + 'k']: 1 })).toThrow(/251 characters; MLflow allows 250/);
    await expect(run.logParams({ [k250 + 'k']: 1 })).rejects.toThrow(/251 characters/);
    await expect(run.setTags({ t2: 'v'.repeat(LIMITS.runTagValue + 1) })).rejects.toThrow(/tag t2 is 8001 characters; MLflow allows 8000/);
    await run.end();
    // Refused before meta.yaml is written: no RUNNING run without an owner is left behind.
    await expect(tracker.startRun({ experiment: 'limits', tags: { t: 'v'.repeat(LIMITS.runTagValue + 1) } })).rejects.toThrow(/8001 characters/);
    await expect(tracker.startRun({ experiment: 'limits', name: 'n'.repeat(LIMITS.runTagValue + 1) })).rejects.toThrow(/mlflow\.runName is 8001 characters/);
    await expect(tracker.startRun({ experiment: 'limits', tags: { 'bad key!': 'x' } })).rejects.toThrow(/may contain only/);
    await expect(tracker.startRun({ experiment: 'e'.repeat(LIMITS.experimentName + 1) })).rejects.toThrow(/501 characters; MLflow allows 500/);
    expect((await tracker.listRuns({ experimentName: 'limits' })).map((r) => r.info.status)).toEqual(['FINISHED']);
  });

  it('flushes by itself: after flushPoints points, and on the timer', async () => {
    const tree = new MemoryTree();
    const tracker = new LabTracker(tree, { ...fixedOpts(), flushPoints: 10, flushIntervalMs: 20 });
    const run = await tracker.startRun({ experiment: 'e' });
    for (let i = 0; i < 10; i++) run.logMetrics(i, { loss: i });
    await new Promise((r) => setTimeout(r, 5)); // the size-triggered flush is async
    expect((await tracker.metricHistory(run.runId)).loss).toHaveLength(10);
    run.logMetrics(10, { loss: 10 });
    await new Promise((r) => setTimeout(r, 80));
    expect((await tracker.metricHistory(run.runId)).loss).toHaveLength(11);
    await run.end();
  });

  it('runTracked: FINISHED, KILLED on a CancelledError, FAILED with the error tag', async () => {
    const tracker = new LabTracker(new MemoryTree(), fixedOpts());
    const a = await tracker.startRun({ experiment: 'e' });
    expect(await runTracked(a, async () => 42)).toBe(42);
    const b = await tracker.startRun({ experiment: 'e' });
    const cancelled = Object.assign(new Error('cancelled'), { name: 'CancelledError' });
    await expect(runTracked(b, async () => { b.logMetrics(0, { loss: 1 }); throw cancelled; })).rejects.toBe(cancelled);
    const c = await tracker.startRun({ experiment: 'e' });
    await expect(runTracked(c, async () => { throw new Error('diverged'); })).rejects.toThrow('diverged');
    const byId = async (id: string) => (await tracker.getRun(id));
    expect((await byId(a.runId)).info.status).toBe('FINISHED');
    expect((await byId(b.runId)).info.status).toBe('KILLED');
    expect((await byId(b.runId)).latest.loss.value).toBe(1); // its metrics so far were kept
    expect((await byId(c.runId)).info.status).toBe('FAILED');
    expect((await byId(c.runId)).tags['heston-lab.error']).toBe('diverged');
  });

  it('trackProgress logs epoch records at step = epoch and batch metrics under batch/', async () => {
    const tracker = new LabTracker(new MemoryTree(), fixedOpts());
    const run = await tracker.startRun({ experiment: 'e' });
    const seen: number[] = [];
    const onProgress = trackProgress(run, (p: { done: number; metrics?: Record<string, number> }) => seen.push(p.done));
    onProgress({ done: 3, metrics: { epoch: 1, batch: 3, loss: 0.7, samplesPerSec: 100 } });
    onProgress({ done: 8, epochRecord: { epoch: 1, trainLoss: 0.6, valLoss: 0.65, valR2: { kappa: 0.8, rho: 0.9 }, seconds: 2 } } as never);
    await run.end();
    const h = await tracker.metricHistory(run.runId);
    expect(seen).toEqual([3, 8]);
    expect(Object.keys(h).sort()).toEqual(['batch/loss', 'batch/samples_per_sec', 'r2/kappa', 'r2/rho', 'seconds', 'train_loss', 'val_loss']);
    expect(h.train_loss[0].step).toBe(1);
    expect(h['batch/loss'][0].step).toBe(3);
  });
});

/** A Store whose setMany fails with QuotaError while `full` is true: nothing of that batch lands. */
class FullStore extends MemoryStore {
  full = false;
  override async setMany(entries: [string, unknown][]): Promise<void> {
    if (this.full) throw new QuotaError(entries.map(([k]) => k).join(', '));
    return super.setMany(entries);
  }
  override async set(key: string, value: unknown): Promise<void> {
    if (this.full) throw new QuotaError(key);
    return super.set(key, value);
  }
}

describe('quota', () => {
  it('a QuotaError mid-training loses nothing already written, reports, and the points land once space returns', async () => {
    const store = new FullStore();
    const errors: unknown[] = [];
    const tracker = await openStoreTracker(store as Store, { ...fixedOpts(), heartbeat: false, onError: (e) => errors.push(e) });
    const run = await tracker.startRun({ experiment: 'e', params: { lr: 1 } });
    for (let i = 0; i < 5; i++) run.logMetrics(i, { loss: i }, 100 + i);
    await run.flush();
    store.full = true;
    for (let i = 5; i < 8; i++) run.logMetrics(i, { loss: i }, 100 + i);
    await expect(run.flush()).rejects.toBeInstanceOf(QuotaError);
    await expect(run.logArtifact('a.bin', new Uint8Array(10))).rejects.toBeInstanceOf(QuotaError);
    // Everything before the failure is still readable, from a fresh tracker on the same store.
    const reader = await openStoreTracker(store as Store, { ...fixedOpts(), heartbeat: false });
    const before = await reader.metricHistory(run.runId);
    expect(before.loss.map((p) => p.step)).toEqual([0, 1, 2, 3, 4]);
    expect((await reader.getRun(run.runId)).params.lr).toBe('1');
    // Space again: the held points are written once, in order, after the old ones.
    store.full = false;
    run.logMetrics(8, { loss: 8 }, 108);
    await run.end();
    const after = await (await openStoreTracker(store as Store, { ...fixedOpts(), heartbeat: false })).metricHistory(run.runId);
    expect(after.loss.map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await reader.getRun(run.runId)).info.status).toBe('FINISHED');
    tracker.close();
    reader.close();
  });
});

describe('stale runs', () => {
  it('a closed tab: its RUNNING run is KILLED when a page opens after the lease went stale; a live tab keeps its run', async () => {
    const store = new MemoryStore();
    let now = 1_900_000_000_000;
    const clock = () => now;
    const tabA = await openStoreTracker(store, { now: clock, session: 'A', heartbeat: false });
    const runA = await tabA.startRun({ experiment: 'e' });
    runA.logMetrics(0, { loss: 1 }, now + 500);
    await runA.flush();
    // Another tab opens 5 s later while A is alive: A's run stays RUNNING.
    now += 5000;
    const tabB = await openStoreTracker(store, { now: clock, session: 'B', heartbeat: false });
    expect((await tabB.getRun(runA.runId)).info.status).toBe('RUNNING');
    // Tab A is closed (no more beats); a page opened after the stale limit marks the run KILLED.
    now += LEASE_STALE_MS + 1;
    const tabC = await openStoreTracker(store, { now: clock, session: 'C', heartbeat: false });
    const s = await tabC.getRun(runA.runId);
    expect(s.info.status).toBe('KILLED');
    expect(s.info.endTime).toBe(1_900_000_000_500); // the last moment it is known to have been alive
    expect(s.latest.loss.value).toBe(1);
    expect(s.tags[TAG.owner]).toBeUndefined();
    // Leases not renewed for 20 s (A's and B's: heartbeat off here) are cleared; C's stays.
    expect((await store.keys('lease/')).sort()).toEqual(['lease/C']);
  });

  it('a crashed process: the next command that opens the store marks its run KILLED, metrics kept', async () => {
    const dir = join(await tmp(), 'mlruns');
    const { stdout } = await run$(process.execPath, ['--import', 'tsx', WRITER, dir, 'crashes', 'crash', '4'], { timeout: 20_000 });
    const runId = stdout.trim();
    const tracker = await openFileTracker(dir);
    const s = await tracker.getRun(runId);
    expect(s.info.status).toBe('KILLED');
    expect(s.info.endTime).toBe(s.info.startTime + 1000 + 3); // its last metric timestamp
    expect(s.tags['heston-lab.killed_reason']).toMatch(/^its writer node:.+:\d+ was gone/);
    expect((await tracker.metricHistory(runId)).loss).toHaveLength(4);
    // A run of a live process (this one) is left alone.
    const mine = await tracker.startRun({ experiment: 'crashes' });
    await openFileTracker(dir);
    expect((await tracker.getRun(mine.runId)).info.status).toBe('RUNNING');
    await mine.end();
  }, 30_000);
});

describe('concurrent writers', () => {
  it('two processes starting the first runs of one new experiment share it and corrupt nothing', async () => {
    const dir = join(await tmp(), 'mlruns');
    const n = 300;
    const outs = await Promise.all([0, 1, 2].map(() => run$(process.execPath, ['--import', 'tsx', WRITER, dir, 'race', 'end', String(n)], { timeout: 25_000 })));
    const ids = outs.map((o) => o.stdout.trim());
    const tracker = await openFileTracker(dir);
    const exps = (await tracker.listExperiments()).map((e) => e.name).sort();
    expect(exps).toEqual(['Default', 'race']);
    const runs = await tracker.listRuns({ experimentName: 'race' });
    expect(runs.map((r) => r.info.runId).sort()).toEqual([...ids].sort());
    for (const r of runs) {
      expect(r.info.status).toBe('FINISHED');
      const h = (await tracker.metricHistory(r.info.runId)).loss;
      expect(h.map((p) => p.step)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    // No temporary or lock file is left behind.
    const top = await readdir(dir);
    expect(top.filter((f) => f.includes('.tmp-') || f.endsWith('.lock'))).toEqual([]);
    const meta = await readFile(join(dir, runs[0].info.experimentId, 'meta.yaml'), 'utf8');
    expect(meta).toContain('name: race\n');
  }, 40_000);
});

describe('StoreTree', () => {
  it('folds many appended chunks into one head and keeps every byte once, across reopenings', async () => {
    const { StoreTree } = await import('../../../src/core/tracking/tree.ts');
    const store = new MemoryStore();
    const enc = (s: string) => new TextEncoder().encode(s);
    const dec = (b?: Uint8Array) => new TextDecoder().decode(b);
    let want = '';
    let tree = new StoreTree(store);
    for (let i = 0; i < 100; i++) {
      await tree.appendMany([['m/x', enc(`${i}\n`)]]);
      want += `${i}\n`;
      if (i % 30 === 29) {
        expect(dec(await tree.read('m/x'))).toBe(want); // a read past 32 chunks compacts
        tree = new StoreTree(store); // a new page: index rebuilt from the keys
      }
    }
    expect(dec(await tree.read('m/x'))).toBe(want);
    expect((await store.keys('a/')).length).toBeLessThan(40);
    await tree.write('m/x', enc('fresh\n'));
    await tree.appendMany([['m/x', enc('more\n')]]);
    expect(dec(await new StoreTree(store).read('m/x'))).toBe('fresh\nmore\n');
  });
});

describe('two trackers on one store (a page reading while a worker trains)', () => {
  it('the reader folds chunks while the writer appends: every point once, in order', async () => {
    const store = new MemoryStore();
    const writer = await openStoreTracker(store, { ...fixedOpts(), session: 'worker', heartbeat: false, flushPoints: 1e9 });
    const run = await writer.startRun({ experiment: 'e' });
    const reader = await openStoreTracker(store, { ...fixedOpts(), session: 'page', heartbeat: false });
    for (let i = 0; i < 300; i++) {
      run.logMetrics(i, { loss: i }, 1000 + i);
      await run.flush(); // one chunk per point: the reader's reads fold them every 32
      if (i % 10 === 9) {
        const h = (await reader.metricHistory(run.runId)).loss;
        expect(h.map((p) => p.step)).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
      }
    }
    await run.end();
    const fresh = await openStoreTracker(store, { ...fixedOpts(), session: 'later', heartbeat: false });
    expect((await fresh.metricHistory(run.runId)).loss).toHaveLength(300);
    expect((await fresh.getRun(run.runId)).info.status).toBe('FINISHED');
  });
});
