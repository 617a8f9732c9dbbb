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
