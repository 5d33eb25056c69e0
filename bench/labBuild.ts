/**
 * Browser benchmarks measure the production build. Unless LAB_DIST names one, build the lab into
 * a temporary folder (never dist/, which a developer may be serving) and point the e2e harness at
 * it; the returned function removes what was built. benchOnBackends runs one page's measurement
 * in a fresh Chromium profile per backend (what every browser benchmark repeated).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLab, stopServer, type Page } from '../tests/e2e/harness.ts';

export function useLabBuild(): () => void {
  if (process.env.LAB_DIST) return () => {};
  const built = mkdtempSync(join(tmpdir(), 'heston-lab-bench-dist-'));
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--outDir', built, '--emptyOutDir', '--logLevel', 'warn'], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`vite build failed (status ${r.status})`);
  process.env.LAB_DIST = built;
  return () => rmSync(built, { recursive: true, force: true });
}

/**
 * Builds the lab (useLabBuild), then for each backend opens a fresh profile with the lab's backend
 * choice set to it (kept in localStorage, so it takes a reload), on `#/<pageId>`, and runs
 * `measure`. A backend the lab could not start (it fell back to another) is reported as
 * 'unavailable (lab fell back to …)', a measurement that throws as 'failed: <first line>'; each
 * result is logged on stderr as it lands. Stops the server and removes the build afterwards.
 */
export async function benchOnBackends<T>(pageId: string, backends: readonly string[], measure: (page: Page, backend: string) => Promise<T>): Promise<Record<string, T | string>> {
  const removeBuild = useLabBuild();
  const out: Record<string, T | string> = {};
  try {
    for (const backend of backends) {
      const lab = await openLab({ webgpu: backend === 'webgpu' });
      try {
        const { page } = lab;
        await page.goto(lab.url);
        await page.evaluate((b) => localStorage.setItem('heston-lab:backend', b), backend);
        await page.goto(`${lab.url}#/${pageId}`);
        await page.reload();
        const active = await page.locator('[data-testid=backend-active]').textContent({ timeout: 60_000 });
        out[backend] = active === backend ? await measure(page, backend) : `unavailable (lab fell back to ${active})`;
      } catch (e) {
        out[backend] = `failed: ${(e as Error).message.split('\n')[0]}`;
      } finally {
        process.stderr.write(`${backend}: ${JSON.stringify(out[backend])}\n`);
        await lab.close();
      }
    }
  } finally {
    await stopServer();
    removeBuild();
  }
  return out;
}
