// What the machine offers vendors when the config names no credentials: Docker's config file
// (docker/login-action writes it) and the workflow's GITHUB_TOKEN. Read here, in the shell, so the
// core stays pure.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Ambient } from '../registries/registry-adapter.js';
import type { Secrets } from '../secrets.js';

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json, as Docker itself looks for it. */
export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}

export async function readAmbient(
  env: Readonly<Record<string, string | undefined>>,
  secrets: Secrets,
  githubToken: string | undefined,
): Promise<Ambient> {
  const path = dockerConfigPath(env);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    // No Docker config is the common case, not a problem.
  }
  secrets.add(githubToken);
  return {
    env,
    ...(githubToken ? { githubToken } : {}),
    ...(text !== undefined ? { dockerConfig: { path, text } } : {}),
  };
}
