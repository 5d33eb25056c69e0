/**
 * Runs page in Chromium: a tiny inverse training shows up on the Runs page (open in a second tab)
 * while it runs and finishes there without a reload; a second training with other settings is
 * compared with it (curves, differences); the two runs export as one mlruns/ zip and import into
 * a FRESH profile with their params, metrics, statuses and checkpoint artifact; a tab closed while
 * it trains leaves a run the Runs tab marks KILLED. Small on purpose
 * (500 surfaces, a few epochs): SwiftShader.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { openLab, screenshot, stopServer, type Page } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

async function trainOnce(page: Page, epochs: number, lr: string) {
  await page.fill('[data-testid=inv-epochs]', String(epochs));
  await page.locator('label', { hasText: /^lr/ }).locator('input').fill(lr);
  await page.click('[data-testid=inv-train]');
}

const statuses = (page: Page) => page.locator('[data-testid=runs-status]').allTextContents();

describe('Runs page', () => {
  it('shows a run live, compares two, exports a zip that a fresh profile imports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runs-e2e-'));
    const zip = join(dir, 'runs.zip');
    const lab = await openLab();
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/inverse`);
      await page.selectOption('[data-testid=inv-kind]', 'proxy');
      await page.fill('[data-testid=inv-n]', '500'); // the page's minimum (50 held out)
      await trainOnce(page, 4, '0.002');

      // A second tab on the Runs page sees the run while it trains, then its end, with no reload.
      const runsTab = await lab.context.newPage();
      runsTab.on('console', (m) => {
        if (m.type() === 'error') lab.errors.push(`runs tab: ${m.text()}`);
      });
      await runsTab.goto(`${lab.url}#/runs`);
      await expect.poll(() => statuses(runsTab), { timeout: 60_000 }).toEqual(['RUNNING']);
      await runsTab.click('[data-testid=runs-select]');
      await runsTab.locator('[data-testid=runs-curves]').waitFor();
      await page.locator('[data-testid=inv-trained]').waitFor({ timeout: 180_000 });
      await expect.poll(() => statuses(runsTab), { timeout: 15_000 }).toEqual(['FINISHED']);
      // Its final metrics are in the table (train_loss a number) and its checkpoint is linked on the Inverse page.
      const trainLoss = runsTab.locator('[data-testid="runs-cell-metrics.train_loss"]').first();
      await expect.poll(async () => Number(await trainLoss.textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
      await page.locator('[data-testid=inv-ckpt-run]').first().waitFor({ timeout: 10_000 });

      // A second run with other settings; then compare both.
      await trainOnce(page, 2, '0.005');
      await expect.poll(() => page.locator('[data-testid=inv-trained]').isVisible(), { timeout: 30_000 }).toBe(false);
      await page.locator('[data-testid=inv-trained]').waitFor({ timeout: 180_000 });
      await expect.poll(() => statuses(runsTab), { timeout: 15_000 }).toEqual(['FINISHED', 'FINISHED']);
      const boxes = runsTab.locator('[data-testid=runs-select]');
      if (!(await boxes.nth(0).isChecked())) await boxes.nth(0).check();
      if (!(await boxes.nth(1).isChecked())) await boxes.nth(1).check();
      const compare = runsTab.locator('[data-testid=runs-compare]');
      await expect.poll(() => compare.locator('h3').textContent()).toBe('Compare 2 runs');
      const diffs = await compare.locator('[data-testid=runs-diff-row] td:first-child strong').allTextContents();
      expect(diffs).toEqual(expect.arrayContaining(['epochs', 'lr', 'train_loss']));
      expect(await compare.locator('[data-testid=runs-same-row] td:first-child strong').allTextContents()).toEqual(expect.arrayContaining(['batchSize', 'data.n']));
      await runsTab.locator('[data-testid=runs-scatter]').waitFor();
      // Parallel coordinates over the params that differ (epochs, lr, …) and the metric.
      await runsTab.locator('[data-testid=runs-parallel]').waitFor();
      expect(await runsTab.getByTestId('runs-parallel-note').textContent()).toMatch(/^Parallel coordinates: the [2-9] params that differ, then \S+ \(latest\), one line per run\.$/);
      // Open one run: its checkpoint and evaluation summary are artifacts.
      await runsTab.locator('[data-testid=runs-open]').first().click();
      await expect.poll(() => runsTab.locator('[data-testid=runs-artifacts] td.l').allTextContents(), { timeout: 10_000 }).toEqual([
        expect.stringMatching(/^checkpoint\/inverse-[0-9a-f]{12}\.hlckpt$/),
        'eval/predicted_vs_true.json',
        'eval/summary.json',
      ]);
      await runsTab.locator('[data-testid=runs-artifact-view]').last().click();
      await expect.poll(() => runsTab.locator('[data-testid=runs-artifact-preview]').textContent()).toContain('"r2"');
      await screenshot(runsTab, 'runs-compare');

      const [dl] = await Promise.all([runsTab.waitForEvent('download'), runsTab.click('[data-testid=runs-export]')]);
      await dl.saveAs(zip);
      expect(lab.errors).toEqual([]);

      // A tab closed while it trains: its run stops renewing its lease and the Runs tab marks it
      // KILLED within the lease's 20 s (+ a poll), keeping the epochs it had logged.
      await trainOnce(page, 300, '0.002');
      await expect.poll(async () => (await statuses(runsTab)).includes('RUNNING'), { timeout: 30_000 }).toBe(true);
      await page.close();
      await expect.poll(async () => (await statuses(runsTab)).filter((x) => x === 'KILLED').length, { timeout: 45_000, interval: 1000 }).toBe(1);
      expect(await statuses(runsTab)).not.toContain('RUNNING');
    } finally {
      await lab.close();
    }

    // The zip is an mlruns/ FileStore tree with a README, relative artifact URIs and both runs.
    const entries = unzipSync(new Uint8Array(readFileSync(zip)));
    const names = Object.keys(entries);
    expect(names).toContain('mlruns/README.md');
    expect(names).toContain('mlruns/0/meta.yaml');
    const metas = names.filter((n) => /^mlruns\/\d+\/[0-9a-f]{32}\/meta\.yaml$/.test(n));
    expect(metas).toHaveLength(2);
    for (const m of metas) {
      const y = new TextDecoder().decode(entries[m]);
      expect(y).toMatch(/^artifact_uri: \.\/mlruns\/\d+\/[0-9a-f]{32}\/artifacts$/m);
      expect(y).toContain('status: 3\n');
      const base = m.replace(/meta\.yaml$/, '');
      expect(new TextDecoder().decode(entries[`${base}params/lr`])).toMatch(/^0\.00[25]$/); // no trailing newline
      expect(new TextDecoder().decode(entries[`${base}metrics/train_loss`])).toMatch(/^(\d{13} \S+ \d+\n)+$/);
    }

    const fresh = await openLab();
    try {
      const { page } = fresh;
      await page.goto(`${fresh.url}#/runs`);
      await page.locator('[data-testid=runs-empty]').waitFor({ timeout: 30_000 });
      await page.setInputFiles('[data-testid=runs-import]', zip);
      await expect.poll(() => page.locator('[data-testid=runs-note]').textContent(), { timeout: 20_000 }).toBe('imported 2 run(s)');
      await expect.poll(() => statuses(page)).toEqual(['FINISHED', 'FINISHED']);
      await page.locator('[data-testid=runs-open]').first().click();
      await expect.poll(() => page.locator('[data-testid=runs-artifacts] td.l').count(), { timeout: 10_000 }).toBe(3);
      await screenshot(page, 'runs-imported');
      // Sort by a metric column (ascending, then descending) and choose columns.
      const losses = async () => (await page.locator('[data-testid="runs-cell-metrics.train_loss"]').allTextContents()).map(Number);
      const lossHeader = page.locator('[data-testid="runs-col-metrics.train_loss"]');
      await lossHeader.click();
      await expect.poll(() => lossHeader.textContent()).toContain('▲');
      const asc = await losses();
      expect(asc).toHaveLength(2);
      expect(asc[0]).not.toBe(asc[1]); // two settings, two losses: the order is visible
      expect(asc).toEqual([...asc].sort((a, b) => a - b));
      await lossHeader.click();
      await expect.poll(() => lossHeader.textContent()).toContain('▼');
      await expect.poll(losses).toEqual([...asc].reverse());
      await page.click('text=columns');
      await page.locator('.cols label', { hasText: /^\s*params\.lr\s*$/ }).locator('input').check();
      await expect.poll(() => page.locator('[data-testid="runs-cell-params.lr"]').allTextContents()).toEqual(expect.arrayContaining(['0.002', '0.005']));
      await page.locator('.cols label', { hasText: /^\s*metrics\.train_loss\s*$/ }).locator('input').uncheck();
      await expect.poll(() => page.locator('[data-testid="runs-col-metrics.train_loss"]').count()).toBe(0);
      // Filter (MLflow syntax), rename, tag and delete act on the stored runs.
      await page.fill('[data-testid=runs-filter]', "params.lr = '0.005'");
      await expect.poll(() => page.locator('[data-testid=runs-row]').count()).toBe(1);
      await page.fill('[data-testid=runs-filter]', 'metrics.val_loss <<');
      await page.locator('[data-testid=runs-filter-error]').waitFor();
      await page.fill('[data-testid=runs-filter]', '');
      await page.fill('[data-testid=runs-rename-input]', 'renamed run');
      await page.click('[data-testid=runs-rename]');
      await expect.poll(() => page.locator('[data-testid=runs-open]').allTextContents()).toContain('renamed run');
      await page.fill('[data-testid=runs-tag-key]', 'verdict');
      await page.fill('[data-testid=runs-tag-value]', 'keep');
      await page.click('[data-testid=runs-tag-add]');
      await expect.poll(() => page.locator('[data-testid=runs-tags]').textContent()).toContain('verdict');
      await page.click('[data-testid=runs-delete]');
      await expect.poll(() => page.locator('[data-testid=runs-row]').count()).toBe(1);
      // An imported run's checkpoint opens on its page: the Inverse page lists it, from that run.
      await page.locator('[data-testid=runs-open]').first().click();
      const runId = await page.locator('[data-testid=runs-row]').first().getAttribute('data-run');
      await page.locator('[data-testid=runs-artifact-open]').click();
      await expect.poll(() => page.evaluate(() => location.hash)).toBe('#/inverse');
      await expect.poll(() => page.locator('[data-testid=inv-ckpt-table]').textContent(), { timeout: 20_000 }).toContain(`run:${runId ?? ''}`);
      expect(runId).toMatch(/^[0-9a-f]{32}$/);
      expect(fresh.errors).toEqual([]);
    } finally {
      await fresh.close();
    }
  }, 480_000);
});
