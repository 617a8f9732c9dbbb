// Broken and hostile configs, each with the exact message a user gets: the field's path, what is
// wrong and what would fix it; never a stack trace, never a silent default. And user regexes that
// would backtrack for ever on a backtracking engine, run against long adversarial names.
import { describe, expect, it } from 'vitest';
import { withConfig, withSelector } from '../../test/support/config-text.js';
import { ConfigError } from '../errors.js';
import type { GraphChanges } from '../graph/diff.js';
import { compileImmutableTags, immutableTagViolations } from '../output/change-report.js';
import { Secrets } from '../secrets.js';
import { loadConfig, MAX_CONFIG_BYTES } from './load-config.js';
import { compilePattern, MAX_PATTERN_SIZE } from './pattern.js';
import { candidateTags, selectorFor } from './select.js';

type Env = Record<string, string | undefined>;

function problemsOf(text: string, env: Env = {}): string[] {
  try {
    loadConfig(text, { env, secrets: new Secrets(), origin: 'test.yml' });
  } catch (err) {
    // A ConfigError is shown verbatim and without a stack; anything else would be a crash.
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

const PRIVATE = ['registry_type: private', 'api_url: https://registry.example.com'];
const C = 'providers[0].config';
const S = `${C}.selectors[0]`;
const RE2_WHY = 'patterns run on RE2, a linear-time engine, so that no pattern can hang a run';

/** `^(?:x{1000})` repeated: valid RE2, but a program far past MAX_PATTERN_SIZE. */
const OVERSIZED = '[a-z]{1000}'.repeat(6);

const BILLION_LAUGHS = [
  'a: &a [x, x, x, x, x, x, x, x, x]',
  'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]',
  'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]',
  'd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
  'e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]',
  'providers:',
  '  - { name: a, type: docker }',
].join('\n');

const CASES: Array<[string, string, Env, string[]]> = [
  // Wrong types.
  [
    'a duration with a unit',
    withConfig('timeout: 30s'),
    {},
    [`${C}.timeout: expected a number, got string "30s"; write a plain number, without units`],
  ],
  [
    'a quoted number',
    withSelector('max_tags: "5"'),
    {},
    [`${S}.max_tags: expected a number, got string "5"; write the number without quotes`],
  ],
  [
    'an unquoted version tag, which YAML reads as a number',
    withSelector('include_tags: [1.10, latest]'),
    {},
    [
      `${S}.include_tags[0]: expected a string, got number 1.1; put it in quotes so YAML reads it as text (1.10 unquoted is the number 1.1)`,
    ],
  ],
  [
    'one selector written as a mapping instead of a list',
    withConfig('selectors: { namespace_pattern: library }'),
    {},
    [`${C}.selectors: expected a list, got a mapping; write a list: [a, b], or one "- item" per line`],
  ],
  [
    'exclude_tags as one string',
    withSelector('exclude_tags: "-rc"'),
    {},
    [`${S}.exclude_tags: expected a list, got string "-rc"; write a list: [a, b], or one "- item" per line`],
  ],
  [
    'a selector that is only a name',
    withConfig('selectors: [library]'),
    {},
    [
      `${C}.selectors[0]: expected a mapping, got string "library"; write it as "key: value" lines indented under it`,
    ],
  ],
  [
    'an empty config: key',
    'providers:\n  - name: hub\n    type: docker\n    config:',
    {},
    [`${C}: expected a mapping, got null; give it a value, or remove the key to take the default`],
  ],
  [
    'a whole file that is a list',
    '- name: hub\n  type: docker',
    {},
    [
      '(root): expected a mapping, got a list; the file must be a mapping with a "providers:" list (see README "Configuration")',
    ],
  ],
  [
    'an infinite timeout',
    withConfig('timeout: .inf'),
    {},
    [`${C}.timeout: expected a number, got number Infinity; write a finite number`],
  ],
  [
    'a fractional page cap',
    withConfig('max_pages: 1.5'),
    {},
    [`${C}.max_pages: expected a whole number, got number 1.5; round it to a whole number`],
  ],
  [
    'a concurrency past the limit',
    withConfig('concurrency: 100000'),
    {},
    [`${C}.concurrency: number 100000 is too large; use at most 256`],
  ],
  [
    'an empty include_tags entry',
    withSelector('include_tags: [""]'),
    {},
    [`${S}.include_tags[0]: must not be empty; give a value or remove the entry`],
  ],
  [
    'a huge string where a number belongs is not echoed whole',
    withConfig(`timeout: "${'9s'.repeat(50_000)}"`),
    {},
    [
      `${C}.timeout: expected a number, got string ${JSON.stringify('9s'.repeat(30)).slice(0, 60)}…" (100002 characters); write a plain number, without units`,
    ],
  ],

  // Unknown keys and values, with a suggestion.
  ['a singular key', withConfig('selector: []'), {}, [`${C}.selector: unknown key; did you mean selectors?`]],
  [
    'the first word of a key',
    withSelector('namespace: library'),
    {},
    [`${S}.namespace: unknown key; did you mean namespace_pattern?`],
  ],
  [
    'a shortened key',
    withConfig('registry: ghcr'),
    {},
    [`${C}.registry: unknown key; did you mean registry_type?`],
  ],
  [
    'a misspelt top-level key',
    'provders:\n  - { name: a, type: docker }',
    {},
    ['provders: unknown key; did you mean providers?'],
  ],
  [
    'a registry type without its dash',
    withConfig('registry_type: dockerhub'),
    {},
    [
      `${C}.registry_type: "dockerhub" is not one of "docker-hub", "ecr", "gcr", "acr", "ghcr", "private", "harbor", "quay", "nexus", "artifactory"; did you mean "docker-hub"?`,
    ],
  ],
  [
    'a misspelt provider type',
    'providers:\n  - { name: a, type: dockr }',
    {},
    [
      'providers[0].type: "dockr" is not one of "docker", "docker.molecules.devgraph.ai"; did you mean "docker"?',
    ],
  ],
  [
    'a __proto__ key is an unknown key like any other, not a prototype',
    withConfig('__proto__: { timeout: 1 }'),
    {},
    [
      `${C}.__proto__: unknown key; known keys here: namespace, registry_type, api_url, hub_url, github_api_url, ecr_api_url, region, username, password, token, timeout, discover_vulnerabilities, read_manifests, supply_chain, selectors, concurrency, max_pages, verify`,
    ],
  ],

  // Retention rules.
  [
    'a duration without its unit',
    withSelector('retention: { older_than: 30 }'),
    {},
    [
      `${S}.retention.older_than: must be a duration, a whole number then h (hours), d (days) or w (weeks), such as 12h, 30d or 4w; got the number 30: add the unit, e.g. 30d`,
    ],
  ],
  [
    'a duration in words',
    withSelector('retention: { untagged_older_than: 7 days }'),
    {},
    [
      `${S}.retention.untagged_older_than: "7 days" is not a duration; write a whole number then h (hours), d (days) or w (weeks), such as 12h, 30d or 4w`,
    ],
  ],
  [
    'a duration in months',
    withSelector('retention: { older_than: 3m }'),
    {},
    [
      `${S}.retention.older_than: "3m" is not a duration; write a whole number then h (hours), d (days) or w (weeks), such as 12h, 30d or 4w`,
    ],
  ],
  [
    'a zero duration',
    withSelector('retention: { untagged_older_than: 0h }'),
    {},
    [
      `${S}.retention.untagged_older_than: "0h" would let any age through; use at least 1h, or remove the key`,
    ],
  ],
  [
    'a negative keep_newest',
    withSelector('retention: { keep_newest: -1 }'),
    {},
    [
      `${S}.retention.keep_newest: must be 0 or a positive whole number: how many of the newest images to keep`,
    ],
  ],
  [
    'a misspelt retention rule',
    withSelector('retention: { keep_last: 5 }'),
    {},
    [`${S}.retention.keep_last: unknown key; did you mean keep_tags?`],
  ],
  [
    'a retention block that deletes nothing',
    withSelector('retention: { keep_tags: ["^v"], protect_in_use: false }'),
    {},
    [
      `${S}.retention: deletes nothing; add keep_newest, older_than, untagged_older_than or ecr_lifecycle_policy, or remove retention`,
    ],
  ],
  [
    'a keep_tags pattern RE2 cannot run',
    withSelector('retention: { keep_newest: 3, keep_tags: ["(a)\\\\1"] }'),
    {},
    [
      `${S}.retention.keep_tags[0]: "(a)\\\\1" uses a backreference, which is not supported (${RE2_WHY}); rewrite it without \\1 or (?P=name), e.g. spell out the alternatives`,
    ],
  ],
  [
    'protect_in_use as text',
    withSelector('retention: { keep_newest: 3, protect_in_use: "yes" }'),
    {},
    [`${S}.retention.protect_in_use: expected a boolean, got string "yes"; write true or false`],
  ],

  // Credentials of a private registry.
  [
    'a private registry without its URL',
    withConfig('registry_type: private'),
    {},
    [
      `${C}.api_url: required for registry_type private; set the registry's URL, e.g. https://registry.example.com`,
    ],
  ],
  [
    'a username without its password',
    withConfig(...PRIVATE, 'username: ci'),
    {},
    [
      `${C}.username: given without password or token; add password (or token), or remove username to use Docker's config.json (docker login) or no credentials`,
    ],
  ],
  [
    'read_manifests: false where no listing describes images',
    withConfig(...PRIVATE, 'read_manifests: false'),
    {},
    [
      `${C}.read_manifests: false needs a registry whose listing describes each image (registry_type harbor); private has none, so remove read_manifests or set it to true`,
    ],
  ],
  [
    'read_manifests as text',
    withConfig('registry_type: harbor', 'api_url: https://harbor.example.com', 'read_manifests: "no"'),
    {},
    [`${C}.read_manifests: expected a boolean, got string "no"; write true or false`],
  ],
  [
    'a password without its username',
    withConfig(...PRIVATE, 'password: hunter2-secret'),
    {},
    [`${C}.password: given without username; add username (or use token for a bearer token)`],
  ],
  [
    'an empty password',
    withConfig(...PRIVATE, 'username: ci', 'password: ""'),
    {},
    [
      `${C}.password: must not be empty; set it, or remove the key to use Docker's config.json (docker login) or no credentials`,
    ],
  ],
  [
    'a password variable that is not set',
    withConfig(...PRIVATE, 'username: ci', 'password: ${REGISTRY_PASSWORD}'),
    {},
    [
      `${C}.password: environment variable REGISTRY_PASSWORD is not set; set it, or write \${REGISTRY_PASSWORD:-default} to give a default`,
    ],
  ],
  [
    'a variable name with a dash',
    withConfig(...PRIVATE, 'username: ci', 'password: ${REGISTRY-PASSWORD}'),
    { 'REGISTRY-PASSWORD': 'x' },
    [
      `${C}.password: the variable reference is not valid; write \${NAME} or \${NAME:-default} with a name of letters, digits and _ (or $\${ for a literal \${)`,
    ],
  ],
  [
    'a shell-style default',
    withConfig('api_url: ${REGISTRY_URL:https://registry.example.com}'),
    {},
    [
      `${C}.api_url: the variable reference \${REGISTRY_URL:https://registry.example.com} is not valid; write \${NAME} or \${NAME:-default} with a name of letters, digits and _ (or $\${ for a literal \${)`,
    ],
  ],
  [
    'a variable without braces',
    withConfig(...PRIVATE, 'username: ci', 'password: $REGISTRY_PASSWORD'),
    { REGISTRY_PASSWORD: 'x' },
    [
      `${C}.password: "$REGISTRY_PASSWORD" is taken literally; write \${REGISTRY_PASSWORD} to read the environment variable REGISTRY_PASSWORD`,
    ],
  ],
  [
    'a workflow expression in a config file',
    withConfig(...PRIVATE, 'username: ci', 'password: ${{ secrets.REGISTRY_PASSWORD }}'),
    {},
    [
      `${C}.password: the GitHub Actions expression is not evaluated in a config file; pass the value to the step in env: and write \${NAME} here (or give the config in the action's config input, where expressions are evaluated)`,
    ],
  ],
  [
    'credentials in the URL',
    withConfig('registry_type: private', 'api_url: https://ci:hunter2@registry.example.com'),
    {},
    [
      `${C}.api_url: must not contain a username or password (value not shown); put them in username and password`,
    ],
  ],
  [
    'two providers with one name',
    'providers:\n  - { name: hub, type: docker }\n  - { name: hub, type: docker }',
    {},
    ['providers[1].name: "hub" is used by another provider; provider names must be unique'],
  ],

  // Regexes.
  [
    'an invalid regex',
    withSelector('repository_pattern: "api("'),
    {},
    [
      `${S}.repository_pattern: "api(" is not a valid regular expression (missing closing ) at "api("); fix the pattern or escape special characters with \\`,
    ],
  ],
  [
    'an unbalanced ) that would close a wrapping group',
    withSelector('repository_pattern: "a)|(b"'),
    {},
    [
      `${S}.repository_pattern: "a)|(b" is not a valid regular expression (unexpected ) at "a)|(b"); fix the pattern or escape special characters with \\`,
    ],
  ],
  [
    'a lookahead past the start',
    withSelector('exclude_tags: ["v(?!\\\\d).*"]'),
    {},
    [
      `${S}.exclude_tags[0]: "v(?!\\\\d).*" uses lookaround, which is not supported (${RE2_WHY}); rewrite it without (?=, (?!, (?<= or (?<! (a config pattern may open with lookaheads, as in ^(?!test-).*), e.g. match the names you want and list what to leave out in exclude_tags`,
    ],
  ],
  [
    'a lookbehind',
    withSelector('exclude_tags: ["(?<=-)rc"]'),
    {},
    [
      `${S}.exclude_tags[0]: "(?<=-)rc" uses lookaround, which is not supported (${RE2_WHY}); rewrite it without (?=, (?!, (?<= or (?<! (a config pattern may open with lookaheads, as in ^(?!test-).*), e.g. match the names you want and list what to leave out in exclude_tags`,
    ],
  ],
  [
    'a backreference',
    withSelector('repository_pattern: "(a)\\\\1"'),
    {},
    [
      `${S}.repository_pattern: "(a)\\\\1" uses a backreference, which is not supported (${RE2_WHY}); rewrite it without \\1 or (?P=name), e.g. spell out the alternatives`,
    ],
  ],
  [
    'a possessive quantifier',
    withSelector('namespace_pattern: "a++"'),
    {},
    [
      `${S}.namespace_pattern: "a++" uses an atomic group or possessive quantifier, which is not supported (${RE2_WHY}); drop it ((?>x) → (?:x), a++ → a+): RE2 never backtracks, so the plain form is already safe`,
    ],
  ],
  [
    "Python's \\Z",
    withSelector('repository_pattern: "api\\\\Z"'),
    {},
    [`${S}.repository_pattern: "api\\\\Z": \\Z is not supported; write $ (or \\z) for the end of the text`],
  ],
  [
    'a repeat count past 1000',
    withSelector('exclude_tags: ["[0-9a-f]{1001}"]'),
    {},
    [
      `${S}.exclude_tags[0]: "[0-9a-f]{1001}": invalid repeat count {1001}; counts go from 0 to 1000 with min ≤ max, and nested counts multiplied must stay within 1000`,
    ],
  ],
  [
    'a pattern too large to match cheaply',
    withSelector(`repository_pattern: "${OVERSIZED}"`),
    {},
    [
      expect.stringMatching(
        new RegExp(
          `^${S.replace(/[.[\]]/g, '\\$&')}\\.repository_pattern: "\\[a-z\\]\\{1000\\}.*" is too large \\(\\d+ instructions compiled, the limit is ${MAX_PATTERN_SIZE}\\); shorten it, e\\.g\\. use smaller \\{n\\} counts or split a long alternation across several selectors$`,
        ),
      ) as unknown as string,
    ],
  ],

  // Broken YAML.
  [
    'a key given twice',
    withConfig('timeout: 10', 'timeout: 20'),
    {},
    [
      'test.yml: not valid YAML at line 6, column 7: the key "timeout" appears twice in the same mapping; keep one',
    ],
  ],
  [
    'tab indentation',
    'providers:\n\t- name: hub',
    {},
    ['test.yml: not valid YAML at line 2, column 1: Tabs are not allowed as indentation; indent with spaces'],
  ],
  [
    'two documents in one file',
    'providers:\n  - { name: a, type: docker }\n---\nproviders: []',
    {},
    [
      'test.yml: not valid YAML at line 3, column 1: the file holds more than one YAML document; keep one: remove the second "---" and what follows, or merge them',
    ],
  ],
  [
    'an unterminated quote',
    withConfig('api_url: "https://registry.example.com'),
    {},
    [
      'test.yml: not valid YAML at line 5, column 45: Missing closing "quote; close the quote or bracket, or quote a value that holds ": " or " #"',
    ],
  ],
  [
    'aliases that expand a thousandfold ("billion laughs")',
    BILLION_LAUGHS,
    {},
    [
      'test.yml: not valid YAML: Excessive alias count indicates a resource exhaustion attack; write the values out instead of repeating them through *aliases',
    ],
  ],
];

describe('hostile and broken configs: exact messages', () => {
  it.each(CASES)('%s', (_name, text, env, expected) => {
    expect(problemsOf(text, env)).toEqual(expected);
  });

  it.each(CASES)('%s: names a path or the file, and shows no stack or internals', (_name, text, env) => {
    for (const problem of problemsOf(text, env)) {
      expect(problem).toMatch(/^(test\.yml|\(root\)|[a-z_]+(\[\d+\])?(\.[\w_]+(\[\d+\])?)*): /);
      expect(problem).not.toMatch(/\n\s+at |Error:|undefined|\[object |YAML\.parse/);
    }
  });

  it('never echoes a credential, even one of the wrong shape', () => {
    const text = withConfig(...PRIVATE, 'username: ci', 'password: "pa${ss-w0rd-ABC"', 'token: 98765432');
    const all = problemsOf(text).join('\n');
    expect(all).toContain(`${C}.password: `);
    expect(all).toContain(`${C}.token: `);
    expect(all).not.toMatch(/ss-w0rd|98765432/);
  });
});

describe('a huge config', () => {
  // Decided: refuse past 1 MB before parsing. A real config is a few KB; parsing a megabyte of
  // YAML and validating it already takes about a second, and a file ten times that is a mistake
  // (generated lists of repositories) that should be told at once, not after a long wait.
  it('past 1 MB is refused at once with its size and what a config should look like', () => {
    const one =
      '  - { name: p, type: docker, config: { registry_type: private, api_url: "https://r.example.com" } }\n';
    const text = `providers:\n${one.repeat(Math.ceil((5 * MAX_CONFIG_BYTES) / one.length))}`;
    expect(problemsOf(text)).toEqual([
      'test.yml: the config is 5.0 MB, over the 1 MB limit; a config is a few KB: one provider per registry, and selector patterns such as "^(api|web)$" instead of lists of repositories',
    ]);
  });

  it('thousands of providers under the limit load', () => {
    const lines = ['providers:'];
    for (let i = 0; i < 2000; i++) lines.push(`  - { name: p${i}, type: docker }`);
    const settings = loadConfig(lines.join('\n'), { env: {}, secrets: new Secrets(), origin: 'test.yml' });
    expect(settings.providers).toHaveLength(2000);
    expect(settings.providers[1999]!.name).toBe('p1999');
  });

  it('thousands of broken providers list the first 50 problems and count the rest', () => {
    const lines = ['providers:'];
    for (let i = 0; i < 2000; i++) lines.push(`  - { name: p${i}, type: docker, config: { timeout: x } }`);
    const problems = problemsOf(lines.join('\n'));
    expect(problems).toHaveLength(51);
    expect(problems[0]).toBe(
      'providers[0].config.timeout: expected a number, got string "x"; write a plain number, without units',
    );
    expect(problems[50]).toBe('… and 1950 more problems; fix the ones above and run again');
  });
});

// Each pattern takes exponential time on a backtracking engine (JavaScript's RegExp, Python's re)
// for the input next to it: at 50,000 characters such a match would not end in any test's
// lifetime. RE2 runs in time linear in the input, so these complete, and must still be correct.
const N = 50_000;
const REDOS: Array<[string, string, boolean]> = [
  ['^(a+)+$', `${'a'.repeat(N)}!`, false],
  ['^(a+)+$', 'a'.repeat(N), true],
  ['(a|aa)+$', `${'a'.repeat(N)}b`, false],
  ['(a|aa)+$', 'a'.repeat(N), true],
  ['(x+x+)+y', 'x'.repeat(N), false],
  ['(x+x+)+y', `${'x'.repeat(N)}y`, true],
  ['^(\\w+\\s?)*$', `${'a'.repeat(N)}!`, false],
  ['^(\\w+\\s?)*$', 'word '.repeat(N / 5), true],
  ['(.*a){12}', 'a'.repeat(11) + 'b'.repeat(N), false],
  ['^([a-z0-9]+-?)+[a-z0-9]$', `${'a-'.repeat(N / 2)}-`, false],
];

describe('user regexes cannot hang a run', () => {
  it.each(REDOS)(
    'compilePattern %s on %#: completes on a 50,000-character input → %s',
    (source, input, expected) => {
      const compiled = compilePattern(source);
      if ('error' in compiled) throw new Error(compiled.error);
      expect(compiled.pattern.test(input)).toBe(expected);
    },
  );

  it('selectors and exclude_tags from a config match hostile names and tags to the end', () => {
    const settings = loadConfig(
      withSelector(
        'namespace_pattern: "^(a+)+$"',
        'repository_pattern: "(x+x+)+y"',
        'exclude_tags: ["^(\\\\w+\\\\s?)*$", "(a|aa)+$"]',
      ),
      { env: {}, secrets: new Secrets(), origin: 'test.yml' },
    );
    const selectors = settings.providers[0]!.selectors;
    expect(selectorFor(`${'a'.repeat(N)}!/${'x'.repeat(N)}y`, selectors)).toBeUndefined();
    expect(selectorFor(`${'a'.repeat(N)}/${'x'.repeat(N)}`, selectors)).toBeUndefined();
    const selector = selectorFor(`${'a'.repeat(N)}/${'x'.repeat(N)}y`, selectors);
    expect(selector).toBe(selectors[0]);
    const hostileTag = `${'a'.repeat(N)}!`;
    expect(candidateTags([hostileTag, 'a'.repeat(N), 'v1.0'], selector!)).toEqual([hostileTag, 'v1.0']);
  });

  it('the immutable-tags input is matched the same way', () => {
    const compiled = compileImmutableTags('^(v+)+$');
    if ('error' in compiled) throw new Error(compiled.error);
    const digest = (c: string) => `sha256:${c.repeat(64)}`;
    const moved = (tag: string) => ({
      provider: 'hub',
      repository: 'acme/api',
      tag,
      from: digest('a'),
      to: digest('b'),
    });
    const changes = {
      movedTags: [moved(`${'v'.repeat(N)}!`), moved('v'.repeat(N)), moved('1.0')],
    } as unknown as GraphChanges;
    expect(immutableTagViolations(changes, compiled.regex).violations.map((m) => m.tag.length)).toEqual([N]);
  });

  it.each([
    ['(?=v)v1', 'lookaround'],
    ['(v)\\1', 'a backreference'],
  ])('the immutable-tags input refuses %s, naming the input', (source, feature) => {
    const compiled = compileImmutableTags(source);
    expect('error' in compiled ? compiled.error : '').toBe(
      `inputs.immutable-tags: ${JSON.stringify(source)} uses ${feature}, which is not supported (${RE2_WHY}); ${
        feature === 'lookaround'
          ? 'rewrite it without (?=, (?!, (?<= or (?<! (a config pattern may open with lookaheads, as in ^(?!test-).*), e.g. match the names you want and list what to leave out in exclude_tags'
          : 'rewrite it without \\1 or (?P=name), e.g. spell out the alternatives'
      }`,
    );
  });

  it("keeps the patterns' documented semantics: case-insensitive, anchored at the start only", () => {
    const compiled = compilePattern('nginx');
    if ('error' in compiled) throw new Error(compiled.error);
    expect(['nginx', 'NGINX-extra', 'my-nginx'].map((s) => compiled.pattern.test(s))).toEqual([
      true,
      true,
      false,
    ]);
  });

  it("accepts Python's (?P<name>…) groups, which JavaScript refused", () => {
    const named = compilePattern('v(?P<major>\\d+)\\.\\d+$');
    if ('error' in named) throw new Error(named.error);
    expect([named.pattern.test('v1.2'), named.pattern.test('v1.2-rc')]).toEqual([true, false]);
  });
});
