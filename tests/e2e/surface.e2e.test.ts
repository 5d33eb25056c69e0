/**
 * Surfaces page in Chromium: bundled samples on first open, drag-and-drop of several files at
 * once (per-file result and error), the surface view (3-D chart, table with masked points),
 * compare mode, and that imports survive a reload (IndexedDB).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { surfaceFromNpz } from '../../src/core/surface/files.ts';
import { datasetFromNpz, generateDataset } from '../../src/core/surface/synthetic.ts';
import { openLab, screenshot, stopServer, freshProfile, type Lab } from './harness.ts';

afterAll(async () => {
  await stopServer();
});

const gridCsv = [
  '# iv=percent; spot=100; timestamp=2024-03-01T08:00:00Z',
  'k\\T,0.1,0.5,1',
  '-0.2,30,28,27',
  '0,25,,24',
  '0.2,22,23,23.5',
].join('\n');

async function drop(lab: Lab, files: { name: string; bytes: number[]; type: string }[]) {
  const dt = await lab.page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([new Uint8Array(f.bytes)], f.name, { type: f.type }));
    return d;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await lab.page.dispatchEvent('main', type, { dataTransfer: dt });
  }
}

describe('Surfaces page', () => {
  it('shows samples, imports dropped files one by one, views, compares and keeps them', async () => {
    const profile = freshProfile();
    let lab = await openLab({ userDataDir: profile });
    try {
      const { page } = lab;
      await page.goto(`${lab.url}#/surfaces`);
      const entries = page.locator('[data-testid=library-entry]');
      await expect.poll(() => entries.count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
      await expect.poll(() => page.locator('[data-testid=library-list] .badge').count()).toBeGreaterThanOrEqual(2); // samples are labelled synthetic
      const samples = await entries.count();

      const npz = Array.from(readFileSync('tests/fixtures/npy/snapshot_savez.npz'));
      const corrupt = npz.slice(0, 300);
      await drop(lab, [
        { name: 'hand.csv', bytes: Array.from(new TextEncoder().encode(gridCsv)), type: 'text/csv' },
        { name: 'snapshot.npz', bytes: npz, type: 'application/octet-stream' },
        { name: 'broken.npz', bytes: corrupt, type: 'application/octet-stream' },
        { name: 'notes.txt', bytes: Array.from(new TextEncoder().encode('hello')), type: 'text/plain' },
      ]);
      const results = page.locator('[data-testid=drop-results] .drop-result');
      await expect.poll(() => results.count(), { timeout: 30_000 }).toBe(4);
      expect(await page.locator('.drop-result[data-file="hand.csv"]').getAttribute('data-ok')).toBe('true');
      expect(await page.locator('.drop-result[data-file="snapshot.npz"]').getAttribute('data-ok')).toBe('true');
      expect(await page.locator('.drop-result[data-file="broken.npz"]').getAttribute('data-ok')).toBe('false');
      expect(await page.locator('.drop-result[data-file="broken.npz"]').textContent()).toMatch(/broken\.npz: .*(truncated|corrupt)/);
      expect(await page.locator('.drop-result[data-file="notes.txt"]').getAttribute('data-ok')).toBe('false');
      await expect.poll(() => entries.count()).toBe(samples + 2);

      // View the hand-made surface: the empty cell is a masked point, shown as — in the table.
      await page.locator('[data-testid=library-entry][data-name="hand"] button.pick').click();
      await expect.poll(() => page.locator('[data-testid=surface-name]').textContent()).toBe('hand');
      await expect.poll(() => page.locator('[data-testid=surface-table] td', { hasText: '—' }).count()).toBe(1);
      expect(await page.locator('[data-testid=surface-table] tbody tr').nth(2).textContent()).toContain('23.5');
      await expect.poll(() => page.locator('[data-testid=surface-3d] canvas').count(), { timeout: 30_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.locator('[data-testid=smiles] canvas').count()).toBeGreaterThan(0);

      // Compare with the numpy snapshot: a difference heatmap and its statistics.
      const snapshotId = await page.locator('[data-testid=compare-select] option', { hasText: 'snapshot' }).getAttribute('value');
      await page.selectOption('[data-testid=compare-select]', snapshotId!);
      await expect.poll(() => page.locator('[data-testid=compare-stats]').textContent(), { timeout: 20_000 }).toMatch(/max \|Δσ\| \d+\.\d\d pts/);
      await expect.poll(() => page.locator('[data-testid=compare-heatmap] canvas').count()).toBeGreaterThan(0);
      await screenshot(page, 'surfaces-compare');

      // Export as .npz: the downloaded file is the same surface.
      const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=library-entry][data-name="hand"] button', { hasText: '.npz' }).click()]);
      const exported = surfaceFromNpz(readFileSync((await dl.path())!), dl.suggestedFilename());
      expect(dl.suggestedFilename()).toBe('hand.npz');
      expect(Array.from(exported.mask!)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
      expect(exported.iv[8]).toBeCloseTo(0.235, 15);

      // Dropping the same file again stores no duplicate.
      await drop(lab, [{ name: 'snapshot.npz', bytes: npz, type: 'application/octet-stream' }]);
      await expect.poll(() => page.locator('.drop-result[data-file="snapshot.npz"]').textContent()).toMatch(/already in the library/);
      // The Import button has the explicit unit choice too, and every import says what the reader
      // assumed: a CSV that does not state its unit is read as chosen; left on auto, the unit is
      // guessed, said to be guessed, and can be flipped in one click.
      const bare = ['k\\T,0.1,0.5', '-0.2,31,29', '0,26,25', '0.2,23,24'].join('\n');
      await page.getByTestId('library-list').getByTestId('import-unit').selectOption('percent');
      await page.getByTestId('import-input').setInputFiles({ name: 'bare.csv', mimeType: 'text/csv', buffer: Buffer.from(bare) });
      const bareResult = page.locator('[data-testid=import-results] .drop-result[data-file="bare.csv"]');
      await expect.poll(() => bareResult.getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
      expect(await bareResult.getByTestId('import-assumptions').textContent()).toMatch(/vols in percent \(chosen at import\) · spot .* · \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      await page.getByTestId('library-list').getByTestId('import-unit').selectOption('auto');
      const guessed = ['k\\T,0.1,0.5', '-0.2,0.41,0.39', '0,0.36,0.35', '0.2,0.33,0.34'].join('\n');
      await page.getByTestId('import-input').setInputFiles({ name: 'guessed.csv', mimeType: 'text/csv', buffer: Buffer.from(guessed) });
      const guessedResult = page.locator('[data-testid=import-results] .drop-result[data-file="guessed.csv"]');
      await expect.poll(() => guessedResult.getAttribute('data-ok'), { timeout: 30_000 }).toBe('true');
      expect(await guessedResult.getByTestId('import-assumptions').textContent()).toMatch(/decimals \(GUESSED/);
      await guessedResult.getByTestId('reread').click();
      await expect.poll(() => guessedResult.getByTestId('import-assumptions').textContent(), { timeout: 30_000 }).toMatch(/percent \(chosen at import\)/);
      await screenshot(page, 'surfaces-import-assumptions');

      // Synthetic: one true-Heston surface priced in the worker, then a true-Heston data set split
      // across two Web Workers by core's generation plan (900 surfaces: two parts of 450, a worker
      // start-up's worth each) — the same data Node generates for the same seed.
      await page.locator('[data-testid=drop-results] button').click();
      await page.locator('.synth input[type=number]').first().fill('7');
      await page.locator('.synth button', { hasText: 'Add one' }).click();
      await expect.poll(() => page.locator('[data-testid=surface-name]').textContent(), { timeout: 30_000 }).toMatch(/^Heston seed 7: κ=/);
      await page.locator('.synth input[type=number]').nth(1).fill('900');
      const [dsDl] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.locator('.synth button', { hasText: 'Generate data set' }).click()]);
      expect(dsDl.suggestedFilename()).toBe('heston_n900_seed7.npz');
      const ds = datasetFromNpz(readFileSync((await dsDl.path())!), dsDl.suggestedFilename());
      const node = await generateDataset({ kind: 'heston', n: 900, seed: 7 });
      expect(Array.from(ds.mask)).toEqual(Array.from(node.mask));
      // Chromium's V8 and Node 20's differ by an ulp in Math.exp/Math.log now and then, so
      // across engines the data agree to rounding, not bit for bit (within one engine they do).
      for (let x = 0; x < node.params.length; x++) expect(Math.abs(ds.params[x]! - node.params[x]!)).toBeLessThanOrEqual(1e-13 * Math.abs(node.params[x]!));
      for (let x = 0; x < node.iv.length; x++) if (!node.mask[x]) expect(Math.abs(ds.iv[x]! - node.iv[x]!)).toBeLessThanOrEqual(1e-6 * node.iv[x]!);
      await expect.poll(() => page.locator('.synth p').textContent()).toMatch(/900 heston surfaces in .* on 2 workers/);

      // The Pricer & Calibration page calibrates any library surface: the true-Heston sample
      // comes back with its generating parameters.
      await page.goto(`${lab.url}#/pricer`);
      const heston = await page.locator('[data-testid=calibrate-source] option', { hasText: 'Heston κ=2' }).getAttribute('value', { timeout: 30_000 });
      await page.selectOption('[data-testid=calibrate-source]', heston!);
      await expect.poll(() => page.locator('.panel p.muted', { hasText: 'library surface' }).count()).toBe(1);
      // The page's own sample, fetched on opening, must not replace the choice when it lands late
      // (a CI run once fitted it instead: κ 2.24): wait for the network, then check the choice held.
      await page.waitForLoadState('networkidle');
      expect(await page.locator('.panel p.muted', { hasText: 'library surface' }).count()).toBe(1);
      await page.locator('[data-testid=calibrate]').click();
      await expect.poll(() => page.locator('[data-testid=fit-result]').count(), { timeout: 60_000 }).toBe(1);
      const fitted = await page.locator('[data-testid=fit-result] tbody tr').first().locator('td').allTextContents();
      expect(Number(fitted[1])).toBeCloseTo(2, 3); // kappa
      expect(Number(fitted[4])).toBeCloseTo(-0.7, 3); // rho

      expect(lab.errors).toEqual([]);
      await lab.close();

      // Reload with the same profile: imports are still there, samples are not re-added.
      lab = await openLab({ userDataDir: profile });
      await lab.page.goto(`${lab.url}#/surfaces`);
      await expect.poll(() => lab.page.locator('[data-testid=library-entry]').count(), { timeout: 30_000 }).toBe(samples + 5);
      expect(lab.errors).toEqual([]);
    } finally {
      await lab.close().catch(() => undefined);
    }
  });
});
