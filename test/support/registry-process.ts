// Runs a real CNCF Distribution registry (Debian's `docker-registry`, 2.8.x) on a loopback port
// for integration tests, with no auth, htpasswd Basic auth, or Docker token auth.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from 'bcryptjs';
import { startTokenServer, type TokenServer, type TokenServerOptions } from './token-server.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export type AuthMode = 'open' | 'basic' | 'token';

/** Users created when a basic/token registry is started without `users`. */
export const DEFAULT_USERS: Readonly<Record<string, string>> = { alice: 'alice-secret', bob: 'bob-secret' };

export interface StartRegistryOptions {
  auth: AuthMode;
  /** user -> password (basic and token modes; defaults to DEFAULT_USERS). */
  users?: Record<string, string>;
  /** Extra token-server settings (token mode). By default every user may list the catalog. */
  token?: Omit<TokenServerOptions, 'users' | 'issuer' | 'service'>;
  /** Milliseconds to wait for `GET /v2/` to answer (default 15 s). */
  startTimeoutMs?: number;
  /**
   * `storage.delete.enabled` (default true): false makes manifest DELETEs answer 405 UNSUPPORTED,
   * as a registry configured without deletes does.
   */
  deletes?: boolean;
}

export interface RunningRegistry {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  auth: AuthMode;
  users: Record<string, string>;
  tokenServer?: TokenServer;
  /** The temp dir holding config, storage, htpasswd and the log. */
  dir: string;
  logPath: string;
  /** Last lines of the registry's log (for assertion messages). */
  logTail(lines?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Whether the Distribution binary is installed (CI installs the `docker-registry` Debian package). */
export function registryAvailable(): boolean {
  return existsSync(REGISTRY_BINARY);
}

// Registries still running when the test process exits (a crashed or interrupted worker) are
// killed so they do not outlive it.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
}

export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function tail(path: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // The data is throwaway; SIGTERM can take seconds while Distribution drains keep-alive connections.
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

/** Parent for the temp dir: tmpfs when there is one (blob uploads are ~3x faster than on disk). */
function tempParent(): string {
  try {
    if (process.platform === 'linux' && existsSync('/dev/shm')) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // fall through
  }
  return tmpdir();
}

export async function startRegistry(opts: StartRegistryOptions): Promise<RunningRegistry> {
  if (!registryAvailable()) {
    throw new Error(
      `${REGISTRY_BINARY} not found: install the Debian/Ubuntu package "docker-registry" (CNCF Distribution 2.8) to run registry integration tests`,
    );
  }
  const users = opts.auth === 'open' ? {} : { ...(opts.users ?? DEFAULT_USERS) };
  const dir = await mkdtemp(join(tempParent(), 'registry-'));
  const logPath = join(dir, 'registry.log');
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;

  const cleanup = async () => {
    if (child) await killChild(child);
    if (tokenServer) await tokenServer.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    let auth: Record<string, unknown> | undefined;
    if (opts.auth === 'basic') {
      const htpasswdPath = join(dir, 'htpasswd');
      // Distribution's htpasswd backend only accepts bcrypt; cost 5 keeps test start-up fast.
      const lines = await Promise.all(
        Object.entries(users).map(async ([user, password]) => `${user}:${await hash(password, 5)}`),
      );
      await writeFile(htpasswdPath, `${lines.join('\n')}\n`);
      auth = { htpasswd: { realm: 'test-registry', path: htpasswdPath } };
    } else if (opts.auth === 'token') {
      tokenServer = await startTokenServer({
        catalogFor: Object.keys(users),
        ...opts.token,
        users,
        issuer: 'test-issuer',
        service: 'test-registry',
      });
      auth = {
        token: {
          realm: tokenServer.realm,
          service: tokenServer.service,
          issuer: tokenServer.issuer,
          rootcertbundle: tokenServer.certPath,
        },
      };
    }

    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const url = `http://${host}`;
    // YAML is a superset of JSON, so the config is written as JSON (no quoting surprises in paths).
    const config = {
      version: '0.1',
      log: { level: 'warn', accesslog: { disabled: true }, fields: { service: 'registry' } },
      storage: {
        filesystem: { rootdirectory: join(dir, 'data') },
        delete: { enabled: opts.deletes ?? true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: {
        addr: host,
        secret: 'test-registry-secret',
        headers: { 'X-Content-Type-Options': ['nosniff'] },
      },
      ...(auth ? { auth } : {}),
    };
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, JSON.stringify(config, null, 2));

    // Distribution 2.8 has no log-file setting: it logs to stderr, which goes to a file here.
    const logFd = openSync(logPath, 'a');
    try {
      child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', logFd, logFd], cwd: dir });
    } finally {
      closeSync(logFd);
    }
    const proc = child;
    track(proc);
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
    let lastProblem = 'no answer yet';
    for (;;) {
      if (spawnError) throw new Error(`could not spawn ${REGISTRY_BINARY}: ${spawnError.message}`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(
          `docker-registry exited early (code ${proc.exitCode}, signal ${proc.signalCode}); log tail:\n${await tail(logPath)}`,
        );
      }
      try {
        const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) break;
        lastProblem = `GET /v2/ answered ${res.status}`;
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `docker-registry did not answer GET ${url}/v2/ within ${opts.startTimeoutMs ?? 15_000} ms (${lastProblem}); log tail:\n${await tail(logPath)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }

    let stopped = false;
    return {
      url,
      host,
      auth: opts.auth,
      users,
      tokenServer,
      dir,
      logPath,
      logTail: (lines?: number) => tail(logPath, lines),
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
