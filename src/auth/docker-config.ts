// Credentials people already have: the `auths` section of Docker's config.json, as `docker login`
// and docker/login-action write it. Pure: the shell reads the file and hands over its text.
import type { Credentials } from '../config/settings.js';

export type DockerConfigLookup =
  | { found: true; credentials: Credentials; key: string }
  | { found: false; reason?: string };

/** Docker Hub is filed under its legacy index URL; any of its names finds it. */
const DOCKER_HUB_HOSTS = new Set([
  'index.docker.io',
  'docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** The host (with port) an `auths` key names: keys may be bare hosts or URLs with paths. */
function keyHost(key: string): string {
  const withoutScheme = key.replace(/^[a-z]+:\/\//i, '');
  return withoutScheme.split('/')[0]!.toLowerCase();
}

function sameRegistry(a: string, b: string): boolean {
  if (a === b) return true;
  return DOCKER_HUB_HOSTS.has(a) && DOCKER_HUB_HOSTS.has(b);
}

/** The entry for `host` in a Docker config file's text, decoded; never throws on a malformed file. */
export function dockerConfigCredentials(text: string, host: string): DockerConfigLookup {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { found: false, reason: 'the file is not valid JSON' };
  }
  if (!doc || typeof doc !== 'object') return { found: false, reason: 'the file is not a JSON object' };
  const { auths, credHelpers, credsStore } = doc as {
    auths?: Record<
      string,
      { auth?: unknown; username?: unknown; password?: unknown; identitytoken?: unknown }
    >;
    credHelpers?: Record<string, unknown>;
    credsStore?: unknown;
  };
  const wanted = host.toLowerCase();
  for (const [key, entry] of Object.entries(auths ?? {})) {
    if (!entry || typeof entry !== 'object' || !sameRegistry(keyHost(key), wanted)) continue;
    if (typeof entry.auth === 'string' && entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // `<user>:` with nothing after it sits next to an identity token (ACR, some Artifactory setups).
      if (colon > 0 && colon < decoded.length - 1)
        return {
          found: true,
          key,
          credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) },
        };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.password)
      return { found: true, key, credentials: { username: entry.username, password: entry.password } };
    if (typeof entry.identitytoken === 'string')
      return {
        found: false,
        reason: `its entry for ${key} holds an identity token, which is not supported; set username and password/token in the config`,
      };
  }
  const helper =
    Object.entries(credHelpers ?? {}).find(([k]) => sameRegistry(keyHost(k), wanted))?.[1] ?? credsStore;
  if (typeof helper === 'string' && helper)
    return {
      found: false,
      reason: `credentials for ${host} live in the credential helper "docker-credential-${helper}", which is not run; set credentials in the config`,
    };
  return { found: false };
}
