// Config documents for tests, written as a user writes them: YAML text around the lines under test.

/** One provider named hub with `body` (YAML lines) under `config:`. */
export function withConfig(...body: string[]): string {
  return [
    'providers:',
    '  - name: hub',
    '    type: docker',
    '    config:',
    ...body.map((l) => `      ${l}`),
  ].join('\n');
}

/** One provider with one selector given by `body` (YAML lines). */
export function withSelector(...body: string[]): string {
  return withConfig('selectors:', ...body.map((l, i) => (i === 0 ? `  - ${l}` : `    ${l}`)));
}

export interface PlainRegistryOptions {
  /** The provider's name; demo unless given. */
  name?: string;
  /** YAML lines under `config:` after api_url: credentials, timeout. */
  lines?: string[];
  /** The selector's `retention:` (flow YAML); none unless given. */
  retention?: string;
  /** The selector's `require:` (flow YAML); none unless given. */
  require?: string;
}

/** One provider reading every tag (`max_tags: 0`) of the plain registry at `apiUrl`. */
export function plainRegistryConfig(apiUrl: string, options: PlainRegistryOptions = {}): string {
  return [
    'providers:',
    `  - name: ${options.name ?? 'demo'}`,
    '    type: docker',
    '    config:',
    '      registry_type: private',
    `      api_url: ${apiUrl}`,
    ...(options.lines ?? []).map((l) => `      ${l}`),
    '      selectors:',
    '        - max_tags: 0',
    ...(options.retention ? [`          retention: ${options.retention}`] : []),
    ...(options.require ? [`          require: ${options.require}`] : []),
    '',
  ].join('\n');
}

/** A provider named supply reading every tag of the plain registry at `apiUrl`, with `retention` (flow YAML). */
export function retentionConfig(apiUrl: string, retention: string): string {
  return plainRegistryConfig(apiUrl, { name: 'supply', retention });
}
