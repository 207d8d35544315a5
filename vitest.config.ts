import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Synthesizes the template once per run; prints the grants no test used at the end.
    globalSetup: ['test/global-setup.ts'],
  },
});
