// `npm run local-action [-- ENV_FILE]`: the Action's TypeScript source (src/shell/action-main.ts,
// which exports run()) under @github/local-action, with its inputs from ENV_FILE (default .env;
// .env.example is the template). See docs/development.md, "Debugging the Action locally".
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const envFile = process.argv[2] ?? '.env';
if (process.argv.length > 3) {
  console.error(`local-action: one argument (the .env file), got ${process.argv.length - 2}`);
  process.exit(1);
}
if (!existsSync(envFile)) {
  // local-action would run on without the file, with every input empty.
  console.error(
    `local-action: ${resolve(envFile)} does not exist; copy the template (cp .env.example .env) and start the demo registry it points at (npm run demo -- --serve --port 5055)`,
  );
  process.exit(1);
}
// The package exports only its TypeScript entry (src/index.ts); its bin sits beside src/.
const bin = join(
  dirname(createRequire(import.meta.url).resolve('@github/local-action')),
  '..',
  'bin',
  'local-action.js',
);
// local-action stubs @actions/core at the path `npm ls` reports, below ./node_modules. Where
// node_modules is a symbolic link (git worktrees sharing one install), Node would load the real
// path instead, which nothing stubs, and the run would quietly use the real @actions/core.
const nodeOptions = [process.env.NODE_OPTIONS, '--preserve-symlinks'].filter(Boolean).join(' ');
const child = spawn(process.execPath, [bin, 'run', root, 'src/shell/action-main.ts', envFile], {
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: nodeOptions },
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
