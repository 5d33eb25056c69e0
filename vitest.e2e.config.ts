import { defineConfig } from 'vitest/config';

// Browser tests: Playwright (playwright-core) drives Debian's headless Chromium against the
// production build in dist/. One file at a time: two Chromiums on two cores only slow each other.
export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    testTimeout: 240_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
