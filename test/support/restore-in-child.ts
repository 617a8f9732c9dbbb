// One restoreState in a process of its own, ended the way the Action's entry ends it, so a test
// can see whether anything the restore left behind keeps the process alive. Reads the cache
// service from the environment like the Action; prints the outcome's line and when it settled.
import { restoreState } from '../../src/shell/state-cache.js';
import { endWhenSettled } from '../../src/shell/time-limit.js';

const [dir, limit] = process.argv.slice(2) as [string, string];
const say = (text: string) => process.stdout.write(`${JSON.stringify({ text, at: Date.now() })}\n`);
endWhenSettled(
  restoreState({
    dir,
    keys: { prefix: 'child', primaryKey: 'child-run-2-1', restoreKeys: ['child-run-'] },
    log: { info: say, warn: say, debug: () => {} },
    timeLimitMs: Number(limit),
  }),
);
