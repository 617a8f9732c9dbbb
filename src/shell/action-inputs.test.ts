import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { ACTION_INPUT_NAMES, type ActionInputName, parseActionInputs } from './action-inputs.js';

const actionYml = parse(readFileSync(join(import.meta.dirname, '..', '..', 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

/** What the runner hands over: action.yml's defaults, then what the step's `with:` says. */
function withDefaults(given: Record<string, string>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, input] of Object.entries(actionYml.inputs)) values[name] = String(input.default ?? '');
  values['github-token'] = 'ghs_from_the_runner';
  return { ...values, ...given };
}

const read = (values: Record<string, string>) => (name: ActionInputName) => (values[name] ?? '').trim();
const parseInputs = (values: Record<string, string>, secrets: string[] = []) =>
  parseActionInputs(read(values), { RUNNER_TEMP: '/runner/tmp' }, (s) => secrets.push(s));

function problems(values: Record<string, string>): string[] {
  try {
    parseInputs({ config: 'providers: []', ...values });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('action inputs', () => {
  it('the schema has exactly the inputs action.yml declares', () => {
    expect([...ACTION_INPUT_NAMES].sort()).toEqual(Object.keys(actionYml.inputs).sort());
  });

  it("action.yml's defaults parse, and mean what an input left empty means", () => {
    const defaults = parseInputs(withDefaults({ config: 'providers: []' }));
    const empty = parseInputs({ config: 'providers: []', 'github-token': 'ghs_from_the_runner' });
    expect(defaults).toEqual(empty);
    expect(defaults).toMatchObject({
      outputDir: resolve('/runner/tmp/devgraph-docker'),
      failOnIncomplete: false,
      cache: { enabled: true },
      artifact: { name: 'devgraph-graph' },
      commentOnPr: false,
      // No URL here: the config's discovery.api_base_url, else the default, decides (resolveUpload).
      devgraph: { dryRun: false },
    });
  });

  it('every problem is listed at once, each naming its input', () => {
    expect(
      problems({
        concurrency: 'lots',
        'fail-on-incomplete': 'yes',
        cache: 'no',
        'cache-key': 'a,b',
        'comment-on-pr': 'yes',
        'devgraph-dry-run': 'maybe',
        'devgraph-url': 'api.devgraph.ai',
        shard: '4/3',
        'immutable-tags': 'v(',
      }),
    ).toEqual([
      'inputs.concurrency: must be a whole number from 1 to 256, got "lots"',
      'inputs.fail-on-incomplete: must be true or false, got "yes"',
      expect.stringMatching(/^inputs\.immutable-tags: "v\(" is not a valid regular expression/),
      'inputs.cache: must be true or false, got "no"',
      expect.stringMatching(/^inputs.cache-key: must not contain commas/),
      'inputs.comment-on-pr: must be true or false, got "yes"',
      'inputs.devgraph-url: must be an http(s) URL, got "api.devgraph.ai"',
      'inputs.devgraph-dry-run: must be true or false, got "maybe"',
      expect.stringMatching(/^inputs.shard: expected i\/n/),
    ]);
  });

  it('fail-on-policy: false by default, true when asked, anything else named', () => {
    expect(parseInputs(withDefaults({ config: 'providers: []' })).failOnPolicy).toBe(false);
    expect(parseInputs({ config: 'providers: []', 'fail-on-policy': 'TRUE' }).failOnPolicy).toBe(true);
    expect(problems({ 'fail-on-policy': 'yes' })).toEqual([
      'inputs.fail-on-policy: must be true or false, got "yes"',
    ]);
  });

  it('booleans: empty is the default, case does not matter', () => {
    expect(parseInputs({ config: 'x' }).cache.enabled).toBe(true);
    expect(parseInputs({ config: 'x', cache: 'FALSE' }).cache.enabled).toBe(false);
    expect(parseInputs({ config: 'x', 'comment-on-pr': 'True' }).commentOnPr).toBe(true);
    expect(parseInputs({ config: 'x', 'cache-key': 'nightly' }).cache).toEqual({
      enabled: true,
      keyOverride: 'nightly',
    });
  });

  it('comment-on-pr is off by default and must be a boolean', () => {
    expect(parseInputs({ config: 'x' }).commentOnPr).toBe(false);
    expect(parseInputs({ config: 'x', 'comment-on-pr': 'true' }).commentOnPr).toBe(true);
    expect(problems({ 'comment-on-pr': 'yes' })).toEqual([
      'inputs.comment-on-pr: must be true or false, got "yes"',
    ]);
  });

  it('inputs that go together or apart', () => {
    expect(problems({ config: '' })).toEqual([
      'inputs: set "config" (inline YAML) or "config-file" (a path)',
    ]);
    expect(problems({ 'config-file': 'a.yml' })).toEqual([
      'inputs: "config" and "config-file" are both set; keep one',
    ]);
    expect(problems({ shard: '1/2', 'merge-graphs': 'shards/' })[0]).toMatch(
      /^inputs: "shard" and "merge-graphs" are both set/,
    );
    expect(problems({ shard: '1/2', 'devgraph-token': 'dg-token-1234' })[0]).toMatch(
      /^inputs.devgraph-token: shard 1\/2 holds only its own repositories/,
    );
    expect(problems({ 'artifact-retention-days': '0' })).toEqual([
      'inputs.artifact-retention-days: must be a whole number of days from 1 to 90, got "0"; leave it unset for the repository\'s default',
    ]);
  });

  it("a shard's artifact gets its own name, also when the runner passes action.yml's default name", () => {
    expect(parseInputs(withDefaults({ config: 'x', shard: '2/3' })).artifact.name).toBe(
      'devgraph-graph-shard-2-of-3',
    );
    expect(parseInputs({ config: 'x', shard: '2/3', 'artifact-name': 'inv-2' }).artifact.name).toBe('inv-2');
  });

  it('the Devgraph token is handed over as a secret before any problem is reported', () => {
    const secrets: string[] = [];
    expect(() =>
      parseInputs({ config: 'x', 'devgraph-token': 'dg-secret-token-1', concurrency: '0' }, secrets),
    ).toThrow(ConfigError);
    expect(secrets).toEqual(['dg-secret-token-1']);
  });

  it('merge-graphs is one path a line', () => {
    expect(parseInputs({ 'merge-graphs': 'a/graph.json\r\n\n  shards/  \n' }).mergeGraphs).toEqual([
      'a/graph.json',
      'shards/',
    ]);
  });
});
