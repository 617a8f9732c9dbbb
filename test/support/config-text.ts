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

/** A provider named supply reading every tag of the plain registry at `apiUrl`, with `retention` (flow YAML). */
export function retentionConfig(apiUrl: string, retention: string): string {
  return `providers:
  - name: supply
    type: docker
    config:
      registry_type: private
      api_url: ${apiUrl}
      selectors:
        - max_tags: 0
          retention: ${retention}
`;
}
