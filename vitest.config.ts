import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/** @actions/workflow-parser's compiled modules (test/e2e/workflow-parser.test.ts). */
const WORKFLOW_PARSER = /\/@actions\/workflow-parser\/dist\/.*\.js$/;

export default defineConfig({
  plugins: [
    {
      // Its files name source maps whose sources it does not ship; read as plain code they load
      // without a warning per file.
      name: 'workflow-parser-without-source-maps',
      enforce: 'pre',
      load: (id) => (WORKFLOW_PARSER.test(id) ? readFileSync(id, 'utf8') : undefined),
    },
  ],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Its modules import JSON without the import attribute Node requires; Vite's transform reads them.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
