import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * Writes precache.json into the build: every output file (workers, wasm, sample data included;
 * source maps and the service worker itself excluded) and a version hash of their contents.
 * public/sw.js caches exactly these files, so the list can never drift from the build; the hash
 * is also stamped into sw.js so that each new build installs a new service worker.
 */
function precacheManifest(): Plugin {
  let outDir = 'dist';
  return {
    name: 'heston-lab-precache-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const files: string[] = [];
      const walk = (dir: string) => {
        for (const name of readdirSync(dir).sort()) {
          const path = join(dir, name);
          if (statSync(path).isDirectory()) walk(path);
          else files.push(relative(outDir, path).split(sep).join('/'));
        }
      };
      walk(outDir);
      const cached = files.filter((f) => !f.endsWith('.map') && f !== 'sw.js' && f !== 'precache.json');
      const hash = createHash('sha256');
      for (const f of cached) hash.update(f).update(readFileSync(join(outDir, f)));
      const version = hash.digest('hex').slice(0, 16);
      writeFileSync(join(outDir, 'precache.json'), JSON.stringify({ version, files: cached }, null, 1));
      const sw = join(outDir, 'sw.js');
      writeFileSync(sw, readFileSync(sw, 'utf8').replace('__HESTON_LAB_BUILD__', version));
    },
  };
}

// base './' makes every URL in the build relative, so dist/ works from any static host and any
// sub-path (https://host/some/dir/). Workers are ES modules so they can import the same core.
export default defineConfig({
  base: './',
  plugins: [svelte(), precacheManifest()],
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
  },
  server: { port: 5173 },
});
