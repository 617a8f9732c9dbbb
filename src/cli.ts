#!/usr/bin/env node
import { errorMessage } from './errors.js';
import { main } from './shell/cli-main.js';

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`devgraph-docker: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
