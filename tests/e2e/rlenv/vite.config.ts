/**
 * Builds the RL worker test page (tests/e2e/rlenv.e2e.test.ts) with the lab's build settings:
 * relative base, ES-module workers, es2022, the lab's public/ (bundled checkpoints). Output:
 * $RLENV_OUT (a temporary folder; never dist/).
 */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  publicDir: fileURLToPath(new URL('../../../public', import.meta.url)),
  worker: { format: 'es' },
  logLevel: 'warn',
  build: { target: 'es2022', outDir: process.env.RLENV_OUT, emptyOutDir: true, chunkSizeWarningLimit: 4000 },
});
