// Regenerates the parts of the documentation that are copies of other files, so they cannot drift:
// the Action's input and output tables (from action.yml), the example configs shown in the
// registry guides (from examples/configs/), and the config's key table and JSON Schema (both from
// the Zod schema's metadata, src/config/json-schema.ts). `npm run docs` rewrites README.md,
// docs/**/*.md and schema/devgraph-docker.schema.json; `node scripts/docs.mjs --check` changes
// nothing and exits 1 naming each stale file (a test runs it).
//
// Markers, each on its own line:
//   <!-- action-inputs:start (…) --> … <!-- action-inputs:end -->
//   <!-- action-outputs:start (…) --> … <!-- action-outputs:end -->
//   <!-- example:start examples/configs/NAME.yml (…) --> … <!-- example:end -->
//   <!-- config-keys:start (…) --> … <!-- config-keys:end -->
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');

/** Text that a Markdown table cell shows as written: `|` would end the cell, `\` would escape, `<` open a tag. */
function cell(text) {
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\*/g, '\\*');
}

function readAction() {
  const action = parse(readFileSync(join(root, 'action.yml'), 'utf8'));
  return { inputs: action.inputs ?? {}, outputs: action.outputs ?? {} };
}

function inputsTable({ inputs }) {
  const rows = Object.entries(inputs).map(([name, spec]) => {
    const d = spec.default === undefined || spec.default === '' ? '' : `\`${String(spec.default)}\``;
    return `| \`${name}\` | ${d} | ${cell(spec.description ?? '')} |`;
  });
  return ['| input | default | description |', '|---|---|---|', ...rows].join('\n');
}

function outputsTable({ outputs }) {
  const rows = Object.entries(outputs).map(
    ([name, spec]) => `| \`${name}\` | ${cell(spec.description ?? '')} |`,
  );
  return ['| output | description |', '|---|---|', ...rows].join('\n');
}

/** The config's keys: Markdown from the schema's metadata, so only `|` needs escaping in a cell. */
function configKeysTable(rows) {
  const pipes = (text) => text.replace(/\|/g, '\\|');
  return [
    '| key | default | meaning |',
    '|---|---|---|',
    ...rows.map((r) => `| \`${r.key}\` | ${pipes(r.default)} | ${pipes(r.description)} |`),
  ].join('\n');
}

function exampleBlock(path) {
  const file = join(root, path);
  if (!existsSync(file)) throw new Error(`${path} is named by an example marker but does not exist`);
  return `\`${path}\`:\n\n\`\`\`yaml\n${readFileSync(file, 'utf8').trim()}\n\`\`\``;
}

/**
 * Replaces what lies between each `<!-- NAME:start [ARG] … -->` line and the next
 * `<!-- NAME:end -->` line with what the renderer NAME makes of ARG.
 */
function regenerate(text, where, renderers) {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    const m = lines[i].match(/^<!-- ([\w-]+):start(?: ([^\s(]\S*))?.*-->$/);
    if (!m) continue;
    const [, name, arg] = m;
    const render = renderers[name];
    if (!render) throw new Error(`${where}: unknown generated section "${name}"`);
    const endMarker = `<!-- ${name}:end -->`;
    const end = lines.indexOf(endMarker, i + 1);
    if (end < 0) throw new Error(`${where}: "${lines[i]}" has no "${endMarker}" after it`);
    out.push('', render(arg), '', endMarker);
    i = end;
  }
  return out.join('\n');
}

/** README.md and every Markdown file under docs/, as paths relative to the repository. */
function documentationFiles() {
  const files = ['README.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (existsSync(join(root, 'docs'))) walk('docs');
  return files.sort();
}

const check = process.argv.includes('--check');
const action = readAction();
const configSchema = await tsImport('../src/config/json-schema.ts', import.meta.url);
const renderers = {
  'action-inputs': () => inputsTable(action),
  'action-outputs': () => outputsTable(action),
  example: (path) => exampleBlock(path),
  'config-keys': () => configKeysTable(configSchema.configKeyRows()),
};
const stale = [];
{
  const path = configSchema.SCHEMA_FILE;
  const file = join(root, path);
  const next = `${JSON.stringify(configSchema.configJsonSchema(), null, 2)}\n`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== next) {
    stale.push(path);
    if (!check) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, next);
    }
  }
}
for (const path of documentationFiles()) {
  const file = join(root, path);
  const text = readFileSync(file, 'utf8');
  const next = regenerate(text, path, renderers);
  if (next === text) continue;
  stale.push(path);
  if (!check) writeFileSync(file, next);
}
if (check && stale.length > 0) {
  console.error(
    `out of date with action.yml, examples/configs or src/config/schema.ts (run npm run docs): ${stale.join(', ')}`,
  );
  process.exit(1);
}
if (!check && stale.length > 0) console.log(`regenerated: ${stale.join(', ')}`);
