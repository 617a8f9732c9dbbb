// The README's per-registry examples are the files in examples/configs, verbatim, and each of them
// loads: a user who copies one gets a config this version accepts. (Each vendor's integration test
// also runs its example against that vendor's fake.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { Secrets } from '../../src/secrets.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const examples = readdirSync(join(root, 'examples', 'configs')).filter((f) => f.endsWith('.yml'));

/** Any ${VAR} an example references, set to a placeholder, as a workflow's env would. */
function envFor(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/\$\{(\w+)(?::-[^}]*)?\}/g)].map((m) => [m[1]!, `${m[1]}-value`]),
  );
}

describe('README examples', () => {
  it('has an example per registry type', () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
  });

  for (const file of examples) {
    it(`${file} is in the README verbatim and loads`, () => {
      const text = readFileSync(join(root, 'examples', 'configs', file), 'utf8');
      expect(readme).toContain(text.trim());
      const settings = loadConfig(text, { env: envFor(text), secrets: new Secrets(), origin: file });
      expect(settings.providers.length).toBeGreaterThan(0);
    });
  }
});
