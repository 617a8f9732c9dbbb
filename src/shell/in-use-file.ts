// The `in-use` file (input `in-use`, flag `--in-use`): image references that retention must never
// delete, as `kubectl get pods -A -o jsonpath='{..image}'` prints them.
import { readFile } from 'node:fs/promises';
import { ConfigError, errorMessage } from '../errors.js';
import type { Log } from '../log.js';
import { type InUse, parseInUse } from '../retention/in-use.js';

export async function readInUseFile(path: string, field: string, log: Log): Promise<InUse> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([
      `${field}: cannot read ${path} (${errorMessage(err)}); give a file of image references, such as what kubectl get pods -A -o jsonpath='{..image}' prints`,
    ]);
  }
  const inUse = parseInUse(text);
  if (inUse.problemCount > 0) {
    const first = inUse.problems
      .slice(0, 3)
      .map((p) => `line ${p.line} "${p.text}": ${p.problem}`)
      .join('; ');
    log.warn(
      `${field}: ${inUse.problemCount} references in ${path} could not be read and protect nothing (${first}${inUse.problemCount > 3 ? '; …' : ''})`,
    );
  }
  return inUse;
}
