// Credentials from Docker's config.json (what `docker login` and docker/login-action leave behind),
// through the CLI entry so the shell's reading of DOCKER_CONFIG is covered, against a real
// Distribution registry with htpasswd Basic auth. No secret may reach stdout, stderr, the graph
// or the summary.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleRepositories } from '../../src/demo/sample-repositories.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { pushRepositories } from '../support/push-content.js';
import {
  DEFAULT_USERS,
  type RunningRegistry,
  registryAvailable,
  startRegistry,
} from '../support/registry-process.js';

const PASSWORD = DEFAULT_USERS.alice!;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const SECRETS = [PASSWORD, b64(`alice:${PASSWORD}`), 'wrong-password-x', b64('alice:wrong-password-x')];

describe.skipIf(!registryAvailable())('Docker config.json credentials via the CLI', () => {
  let reg: RunningRegistry;
  let dir: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'basic' });
    await pushRepositories(reg, sampleRepositories().slice(0, 2));
    dir = await mkdtemp(join(tmpdir(), 'docker-config-'));
  });
  afterAll(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs `devgraph-docker discover` with DOCKER_CONFIG pointing at a config.json holding `docker`. */
  async function run(docker: unknown, credentials = '') {
    const dockerDir = await mkdtemp(join(dir, 'docker-'));
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify(docker));
    const out = await mkdtemp(join(dir, 'out-'));
    const configPath = join(out, 'devgraph-docker.yml');
    await writeFile(
      configPath,
      `providers:
  - name: reg
    type: docker
    config:
      registry_type: private
      api_url: ${reg.url}
${credentials}      selectors:
        - max_tags: 1
`,
    );
    const { code, stdout, stderr } = await runCliInProcess(
      ['discover', '--config', configPath, '--out', out],
      {
        DOCKER_CONFIG: dockerDir,
        HOME: dir,
        REG_PASSWORD: PASSWORD,
      },
    );
    const graph = await readFile(join(out, 'graph.json'), 'utf8').catch(() => '');
    const summary = await readFile(join(out, 'summary.md'), 'utf8').catch(() => '');
    const everything = stdout + stderr + graph + summary;
    for (const s of SECRETS) expect(everything).not.toContain(s);
    return { code, stdout, stderr, graph, summary, path: join(dockerDir, 'config.json') };
  }

  it('uses the `auth` (base64) entry for the registry host and says where it came from', async () => {
    const r = await run({ auths: { [reg.host]: { auth: b64(`alice:${PASSWORD}`) } } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `reg: discovering ${reg.host} (private; username "alice" with a password from ${r.path} (auths "${reg.host}"))`,
    );
    expect(JSON.parse(r.graph).entities.some((e: { kind: string }) => e.kind === 'DockerImage')).toBe(true);
  });

  it('uses the username/password form, keyed by URL', async () => {
    const r = await run({ auths: { [`http://${reg.host}`]: { username: 'alice', password: PASSWORD } } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`from ${r.path} (auths "http://${reg.host}")`);
  });

  it('credentials in the config win over the file', async () => {
    const r = await run(
      { auths: { [reg.host]: { auth: b64('alice:wrong-password-x') } } },
      '      username: alice\n      password: ${REG_PASSWORD}\n',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('(private; username "alice" with a password from the config)');
  });

  it('does not run credential helpers: one clear info line, then the registry asks for credentials', async () => {
    const r = await run({ auths: { [reg.host]: {} }, credsStore: 'desktop' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `reg: not using ${r.path}: credentials for ${reg.host} live in the credential helper "docker-credential-desktop", which is not run; set credentials in the config`,
    );
    expect(r.stderr).toContain('this registry needs credentials: set username/password or token');
  });

  it('a wrong password from the file is reported without the password', async () => {
    const r = await run({ auths: { [reg.host]: { auth: b64('alice:wrong-password-x') } } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/denied access to registry:catalog:\* \(HTTP 401/);
    expect(r.stderr).toContain('credential used: username "alice" with a password; check the credentials');
  });
});
