// The real Fengqiao server for browser tests: the `fengqiao` binary of this repository (built with
// cargo unless FENGQIAO_BIN names one), on a fresh SQLite database in a temporary directory,
// loaded with the demo county (`fengqiao demo`), serving the built app (dist/) and the API on
// 127.0.0.1 at an ephemeral port. `close()` stops it with SIGTERM (a graceful shutdown) and
// removes the directory.

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DIST } from './build.mjs';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../../../../../', import.meta.url));

/** Every demo user's password (`fengqiao demo --password`). */
export const PASSWORD = 'fengqiao-demo-e2e';
/**
 * Demo users (server/src/demo.rs: `<township>.tjNN` mediators, `fuyiNN` at the county justice
 * bureau, `duchaNN` county supervisors). The login table `fengqiao demo` prints is checked
 * against these in `startFengqiao`.
 */
export const USERS = {
  mediator: 'chengguan.tj01',
  secondMediator: 'chengguan.tj02',
  reconsideration: 'fuyi01',
  supervisor: 'ducha01',
};
export const JUSTICE_BUREAU = { id: 'yunxi.sifa', name: '县司法局' };

let binary = null;

/** The server binary: FENGQIAO_BIN, or this repository's debug build (cargo builds it if stale). */
export function fengqiaoBinary() {
  if (process.env.FENGQIAO_BIN) return Promise.resolve(process.env.FENGQIAO_BIN);
  binary ??= (async () => {
    await run('cargo', ['build', '--quiet', '-p', 'fengqiao-server', '--bin', 'fengqiao'], { cwd: REPO, maxBuffer: 1 << 26 });
    const target = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target');
    return join(target, 'debug', 'fengqiao');
  })();
  return binary;
}

/**
 * Starts a server with the demo county of `cases` cases. Returns `{ url, origin, demoTable,
 * login(user), api(token, path, init), close() }`.
 */
export async function startFengqiao({ cases = 60, seed = 7 } = {}) {
  const bin = await fengqiaoBinary();
  const dir = await mkdtemp(join(tmpdir(), 'fengqiao-e2e-server-'));
  const database = join(dir, 'fengqiao.sqlite3');
  const env = { ...process.env, FENGQIAO_LOG: 'warn' };
  delete env.FENGQIAO_DATABASE_URL;
  const demo = await run(bin, ['--database-url', database, 'demo', '--cases', String(cases), '--seed', String(seed), '--password', PASSWORD], { env, maxBuffer: 1 << 24 });
  for (const user of [USERS.mediator, USERS.reconsideration, USERS.supervisor]) {
    if (!demo.stdout.includes(user)) throw new Error(`the demo's login table does not name ${user}:\n${demo.stdout}`);
  }

  const child = spawn(bin, ['--database-url', database, 'serve', '--listen', '127.0.0.1:0', '--web-dir', DIST], {
    env: { ...env, FENGQIAO_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 60000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const found = log.match(/listening address=(127\.0\.0\.1:\d+)/);
      if (found) {
        clearTimeout(timer);
        resolve(`http://${found[1]}`);
      }
    });
    exited.then(({ code }) => reject(new Error(`the server exited (${code}):\n${log}`)));
  });
  if (!log.includes('serving the web app at /')) throw new Error(`the server does not serve the web app:\n${log}`);

  const api = async (token, path, init = {}) => {
    const response = await fetch(`${origin}${path}`, {
      ...init,
      headers: { Accept: 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers ?? {}) },
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
    return body;
  };
  let devices = 0;
  const login = async (user) => {
    const session = await api(null, '/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user_id: user, password: PASSWORD, device_id: `e2e-check-${user}-${++devices}`, device_name: '测试检查' }),
    });
    return session.access_token;
  };

  return {
    origin,
    url: `${origin}/`,
    demoTable: demo.stdout,
    api,
    login,
    log: () => log,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const { code, signal } = await exited;
      await rm(dir, { recursive: true, force: true });
      if (code !== 0 && signal !== 'SIGTERM') throw new Error(`the server stopped badly (${code ?? signal}):\n${log}`);
    },
  };
}
