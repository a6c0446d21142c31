import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/isolate-git.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one server; each uses its own databases, so files may run in parallel.
    fileParallelism: true,
    pool: 'forks',
    // Slow tests still run in CI; `npx vitest --tagsFilter='!slow'` leaves them out locally.
    tags: [{ name: 'slow', description: 'npm installs, large data' }],
  },
});
