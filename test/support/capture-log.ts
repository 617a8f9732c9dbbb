// A Log that keeps what it was told, for tests that assert the one line an outcome costs.
import type { Log } from '../../src/log.js';

export type CapturedLog = Log & { lines: { level: 'info' | 'warn'; text: string }[] };

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  return {
    lines,
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    debug: () => {},
  };
}
