// The documentation's per-registry examples are the files in examples/configs, verbatim, and each
// of them loads: a user who copies one gets a config this version accepts. (Each vendor's
// integration test also runs its example against that vendor's fake.) The same holds for every
// config written out in a code block of README.md or docs/**/*.md, and every YAML block there parses.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { Secrets } from '../../src/secrets.js';
import { codeBlocks, documentationFiles } from '../support/documentation.js';

const root = join(import.meta.dirname, '..', '..');
const docs = documentationFiles();
const documentation = docs.map((f) => f.text).join('\n');
const examples = readdirSync(join(root, 'examples', 'configs')).filter((f) => f.endsWith('.yml'));
const yamlBlocks = docs.flatMap(codeBlocks).filter((b) => b.lang === 'yaml' || b.lang === 'yml');

/** Any ${VAR} an example references, set to a placeholder, as a workflow's env would. */
function envFor(text: string): Record<string, string> {
  return Object.fromEntries(
    [...text.matchAll(/\$\{(\w+)(?::-[^}]*)?\}/g)].map((m) => [m[1]!, `${m[1]}-value`]),
  );
}

/** A block is a config when its top level is the config file's: `providers:` or `discovery:`. */
function isConfig(doc: unknown): boolean {
  return (
    !!doc && typeof doc === 'object' && !Array.isArray(doc) && ('providers' in doc || 'discovery' in doc)
  );
}

describe('README examples', () => {
  it('has an example per registry type', () => {
    expect(examples.length).toBeGreaterThanOrEqual(9);
  });

  for (const file of examples) {
    it(`${file} is in the documentation (README.md or docs/) verbatim and loads`, () => {
      const text = readFileSync(join(root, 'examples', 'configs', file), 'utf8');
      expect(documentation).toContain(text.trim());
      const settings = loadConfig(text, { env: envFor(text), secrets: new Secrets(), origin: file });
      expect(settings.providers.length).toBeGreaterThan(0);
    });
  }
});

describe('configs in README.md and docs/', () => {
  it('there are some, in the README too', () => {
    const configs = yamlBlocks.filter((b) => isConfig(parse(b.text)));
    expect(configs.length).toBeGreaterThan(examples.length);
    expect(configs.some((b) => b.path === 'README.md')).toBe(true);
  });

  for (const block of yamlBlocks) {
    it(`${block.path}:${block.line} is YAML, and loads when it is a config`, () => {
      const doc = parse(block.text) as unknown;
      if (!isConfig(doc)) return;
      const settings = loadConfig(block.text, {
        env: envFor(block.text),
        secrets: new Secrets(),
        origin: `${block.path}:${block.line}`,
      });
      expect(settings.providers.length).toBeGreaterThan(0);
    });
  }
});
