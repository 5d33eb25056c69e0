/**
 * The Runs page's logic (core/tracking/compare.ts) on the MLflow reference runs: MLflow's filter
 * examples give MLflow's answers (fixture README, "search_runs" lines), sorting keeps runs without
 * a value last, and the comparison marks exactly the rows that differ.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTree, openFileTracker } from '../../../src/core/tracking/fileTracker.ts';
import { compareRows, matches, parallelCoordinates, parseFilter, sortRuns } from '../../../src/core/tracking/compare.ts';
import type { RunSummary } from '../../../src/core/tracking/model.ts';

let dir: string;
let runs: RunSummary[];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'compare-'));
  const t = await openFileTracker(join(dir, 'mlruns'));
  await t.importTree(new FileTree(join(import.meta.dirname, '../../fixtures/mlruns')));
  runs = await t.listRuns(); // active runs only, as search_runs' default view
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const names = (f: string) => runs.filter((r) => matches(r, parseFilter(f))).map((r) => r.info.runName).sort();

describe('filters', () => {
  it("answer MLflow's own search_runs examples the same way", () => {
    expect(names("params.optimizer = 'adam' and metrics.val_loss < 0.3")).toEqual(['cnn-lr2e-3']);
    expect(names("params.reward = 'pnl - 0.1 * drawdown' and metrics.`losses/value_loss` < 0.35")).toEqual(['ppo-seed0', 'ppo-seed1']);
    expect(names("params.data = 'synthetic heston, seed box v1 (20000 surfaces)'")).toEqual(['cnn-lr2e-3', 'cnn-lr5e-2']);
  });
  it('attributes, LIKE, bare words; a bad clause is an InputError naming it', () => {
    expect(names("attributes.status = 'KILLED'")).toEqual(['ppo-seed1']);
    expect(names("tags.backend LIKE 'web%'")).toEqual(['ppo-seed2']);
    expect(names('seed1')).toEqual(['ppo-seed1']);
    expect(() => parseFilter('metrics.val_loss << 3')).toThrow(/cannot read "metrics.val_loss << 3"/);
    expect(() => parseFilter("metrics.val_loss < 'a'")).toThrow(/compares with a number/);
  });
});

describe('sorting and comparison', () => {
  it('sorts by a metric with NaN and missing values last in both directions', () => {
    const asc = sortRuns(runs, 'metrics.val_loss', false).map((r) => r.info.runName);
    const desc = sortRuns(runs, 'metrics.val_loss', true).map((r) => r.info.runName);
    expect(asc.slice(0, 2)).toEqual(['cnn-lr2e-3', 'cnn-lr5e-2']); // 0.2519, then NaN, then the runs without val_loss
    expect(asc.slice(2).sort()).toEqual(['ppo-seed0', 'ppo-seed1', 'ppo-seed2']);
    expect(desc.slice(0, 2)).toEqual(['cnn-lr2e-3', 'cnn-lr5e-2']);
    const byLr = sortRuns(runs.filter((r) => r.params.learning_rate), 'params.learning_rate', false).map((r) => r.params.learning_rate);
    expect(byLr).toEqual([...byLr].sort((a, b) => Number(a) - Number(b)));
  });
  it('marks the params and metrics that differ between the selected runs', () => {
    const pick = runs.filter((r) => r.info.runName.startsWith('ppo-seed0') || r.info.runName.startsWith('ppo-seed1'));
    const rows = compareRows(pick);
    const diff = rows.filter((r) => r.differs).map((r) => `${r.kind}:${r.key}`);
    expect(diff).toContain('param:seed');
    expect(diff).not.toContain('param:learning_rate');
    expect(rows.find((r) => r.key === 'gamma')!.values).toEqual(['0.99', '0.99']);
  });
  it('parallel coordinates: an axis per differing param (numeric or category), then the metric; a line per run', () => {
    const pick = sortRuns(runs.filter((r) => r.info.runName.startsWith('ppo-seed')), 'attributes.run_name', false);
    const metric = 'losses/value_loss';
    const pc = parallelCoordinates(pick, metric);
    const rows = compareRows(pick).filter((r) => r.kind === 'param' && r.differs);
    expect(pc.axes.map((a) => a.key)).toEqual([...rows.map((r) => r.key), metric]);
    expect(pc.axes.at(-1)).toEqual({ kind: 'metric', key: metric, type: 'value' });
    const seed = pc.axes.findIndex((a) => a.key === 'seed');
    expect(pc.axes[seed]!.type).toBe('value');
    expect(pc.lines.map((l) => l.values[seed])).toEqual(pick.map((r) => Number(r.params.seed)));
    expect(pc.lines.map((l) => l.values.at(-1))).toEqual(pick.map((r) => r.latest[metric]?.value ?? null));
    expect(pc.lines.map((l) => l.name)).toEqual(pick.map((r) => r.info.runName));
    // A param with a non-number (or a run without it) is a category axis listing what occurs; a
    // NaN metric (cnn-lr5e-2's val_loss) is a gap, not a point.
    const cnn = sortRuns(runs.filter((r) => r.info.runName.startsWith('cnn')), 'attributes.run_name', false);
    const pc2 = parallelCoordinates(cnn, 'val_loss');
    const betas = pc2.axes.find((x) => x.key === 'adam/betas')!;
    expect(betas).toMatchObject({ type: 'category', categories: expect.arrayContaining(['—', '(0.9, 0.999)']) });
    const bi = pc2.axes.indexOf(betas);
    expect(new Set(pc2.lines.map((l) => l.values[bi]))).toEqual(new Set(betas.categories));
    expect(pc2.axes.find((x) => x.key === 'lr')!.type).toBe('value');
    expect(pc2.lines.map((l) => l.values.at(-1))).toEqual(cnn.map((r) => (Number.isFinite(r.latest.val_loss?.value) ? r.latest.val_loss!.value : null)));
    expect(pc2.lines.some((l) => l.values.at(-1) === null)).toBe(true);
    // Runs that share every param: only the metric axis; maxParams caps the param axes.
    expect(parallelCoordinates([pick[0]!, pick[0]!], metric).axes.map((a) => a.key)).toEqual([metric]);
    expect(parallelCoordinates(pick, metric, 1).axes).toHaveLength(Math.min(1, rows.length) + 1);
    expect(pc2.moreParams).toBe(0);
    const capped = parallelCoordinates(cnn, 'val_loss', 2);
    expect(capped.axes).toHaveLength(3);
    expect(capped.moreParams).toBe(pc2.axes.length - 1 - 2);
  });
});
