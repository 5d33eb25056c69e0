/**
 * Browser benchmarks measure the production build. Unless LAB_DIST names one, build the lab into
 * a temporary folder (never dist/, which a developer may be serving) and point the e2e harness at
 * it; the returned function removes what was built.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function useLabBuild(): () => void {
  if (process.env.LAB_DIST) return () => {};
  const built = mkdtempSync(join(tmpdir(), 'heston-lab-bench-dist-'));
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--outDir', built, '--emptyOutDir', '--logLevel', 'warn'], { stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`vite build failed (status ${r.status})`);
  process.env.LAB_DIST = built;
  return () => rmSync(built, { recursive: true, force: true });
}
