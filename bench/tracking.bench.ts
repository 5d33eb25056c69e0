/**
 * Experiment-tracking benchmark: what logging costs a training loop, and how fast the stores
 * write, list and round-trip.
 * - logMetrics: ns per call (4 keys) while the buffer flushes in the background to a directory;
 * - flush: metric points written per second to a FileStore directory (Node) and to the Store tree
 *   the browser uses (here over a MemoryStore: IndexedDB's own cost is not in it);
 * - listRuns over 50 runs × 4 metrics × 200 steps (the Runs page's poll) on the Store tree;
 * - import + export of the MLflow 2.17 reference tree (tests/fixtures/mlruns).
 * Run: npx tsx bench/tracking.bench.ts — prints one JSON object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../src/core/store/store.ts';
import { FileTree, openFileTracker } from '../src/core/tracking/fileTracker.ts';
import { MemoryTree } from '../src/core/tracking/tree.ts';
import { openStoreTracker, type LabTracker } from '../src/core/tracking/tracker.ts';

const round = (x: number, d = 1) => +x.toFixed(d);
const dir = await mkdtemp(join(tmpdir(), 'track-bench-'));

async function flushRate(t: LabTracker, points: number): Promise<{ logNsPerCall: number; pointsPerSec: number }> {
  const run = await t.startRun({ experiment: 'bench' });
  const t0 = performance.now();
  for (let i = 0; i < points / 4; i++) run.logMetrics(i, { loss: 1 / (i + 1), val: i, lr: 1e-3, sps: 1000 + i });
  const tLog = performance.now() - t0;
  await run.end();
  const tAll = performance.now() - t0;
  return { logNsPerCall: round((tLog * 1e6) / (points / 4), 0), pointsPerSec: Math.round(points / (tAll / 1000)) };
}

const file = await openFileTracker(join(dir, 'mlruns'), { flushPoints: 1000 });
await flushRate(file, 20_000); // warm-up: the JIT, the first files
const fileRate = await flushRate(file, 200_000);
const store = await openStoreTracker(new MemoryStore(), { heartbeat: false, flushPoints: 1000 });
const storeRate = await flushRate(store, 200_000);

// The Runs page's poll: 50 runs of 4 metrics × 200 steps, flushed every 20 steps (10 chunks a key).
const page = await openStoreTracker(new MemoryStore(), { heartbeat: false, flushPoints: 1e9 });
for (let r = 0; r < 50; r++) {
  const run = await page.startRun({ experiment: 'poll', params: { lr: r / 1000, seed: r } });
  for (let s = 0; s < 200; s++) {
    run.logMetrics(s, { loss: 1 / (s + 1), val_loss: 1 / (s + 2), r2: s / 200, sps: 1000 });
    if (s % 20 === 19) await run.flush();
  }
  await run.end();
}
let t0 = performance.now();
const listed = await page.listRuns();
const listFirstMs = performance.now() - t0; // folds chunks into heads on the way
t0 = performance.now();
await page.listRuns();
const listMs = performance.now() - t0;

const fixture = join(import.meta.dirname, '../tests/fixtures/mlruns');
t0 = performance.now();
const imp = await openFileTracker(join(dir, 'imported'));
const res = await imp.importTree(new FileTree(fixture));
const importMs = performance.now() - t0;
t0 = performance.now();
await imp.exportTree(new MemoryTree(), { artifactRoot: './mlruns' });
const exportMs = performance.now() - t0;

await rm(dir, { recursive: true, force: true });
process.stdout.write(
  JSON.stringify({
    bench: 'tracking',
    logMetrics_ns_per_call_4_keys: { file: fileRate.logNsPerCall, store: storeRate.logNsPerCall },
    flush_points_per_sec: { file: fileRate.pointsPerSec, store_memory: storeRate.pointsPerSec },
    list_runs_50x4x200_ms: { first: round(listFirstMs), again: round(listMs), runs: listed.length },
    fixture_import_ms: round(importMs),
    fixture_export_ms: round(exportMs),
    fixture_runs: res.imported,
  }) + '\n',
);
