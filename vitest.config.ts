import { defineConfig } from 'vitest/config';

// One process per test file (real servers, native modules, signals), at most two at a time:
// the machines that run CI have two cores.
export const config = defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});

export default config;
