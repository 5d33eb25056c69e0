import { defineConfig } from 'vitest/config';

// Unit tests run in Node against the DOM-free core (tfjs cpu / wasm backends).
export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
