// `npm test`: the unit tests (node's test runner), then the browser tests (tests/e2e/*.test.mjs,
// headless Debian Chromium against a fresh build served by the real `fengqiao` server, which
// cargo builds first unless FENGQIAO_BIN names one). Prints each runner's own report, then one
// final line `N passed, N failed`, and exits non-zero if anything failed.
//
//   npm test               unit + browser tests
//   npm run test:unit      unit tests only
//   npm run test:e2e       browser tests only

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('..', import.meta.url));
const args = new Set(process.argv.slice(2));
const runUnit = !args.has('--e2e');
const runE2e = !args.has('--unit');
const work = mkdtempSync(join(tmpdir(), 'fengqiao-web-tests-'));

function files(dir, suffix) {
  return readdirSync(join(WEB, dir))
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));
}

function run(command, argv, env = {}, { cwd = WEB } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', () => resolve(1));
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** Runs node's test runner with a readable report on stdout and a TAP copy to count from. */
async function nodeTests(name, setup, testFiles, env = {}) {
  const tap = join(work, `${name}.tap`);
  const code = await run(
    process.execPath,
    ['--import', setup, '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...testFiles],
    env,
  );
  let text = '';
  try {
    text = readFileSync(tap, 'utf8');
  } catch {
    text = '';
  }
  const count = (key) => Number(text.match(new RegExp(`^# ${key} (\\d+)$`, 'm'))?.[1] ?? 0);
  const passed = count('pass');
  let failed = count('fail') + count('cancelled');
  // A runner that died before reporting still counts as a failure.
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed, skipped: count('skipped') };
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const add = (r) => {
  totals.passed += r.passed;
  totals.failed += r.failed;
  totals.skipped += r.skipped ?? 0;
};
const started = Date.now();

try {
  if (runUnit) {
    console.log('\n== unit tests ==');
    add(await nodeTests('unit', './tests/unit/setup.js', files('tests/unit', '.test.js')));
  }
  if (runE2e) {
    console.log('\n== build ==');
    let chromium;
    try {
      chromium = process.env.CHROMIUM ?? execFileSync(join(WEB, 'scripts', 'ensure-chromium'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    } catch {
      console.error('Chromium is not available: the browser tests cannot run.');
      add({ passed: 0, failed: 1 });
    }
    let server = process.env.FENGQIAO_BIN;
    if (!server) {
      // A no-op when `make test` has built it already.
      const repo = join(WEB, '..', '..');
      const cargo = await run('cargo', ['build', '--quiet', '-p', 'fengqiao-server', '--bin', 'fengqiao'], {}, { cwd: repo });
      if (cargo !== 0) {
        console.error('The server did not build: the browser tests cannot run.');
        add({ passed: 0, failed: 1 });
      } else {
        server = join(process.env.CARGO_TARGET_DIR ?? join(repo, 'target'), 'debug', 'fengqiao');
      }
    }
    if (chromium && server) {
      const built = await run(process.execPath, [join(WEB, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn']);
      if (built !== 0) {
        console.error('The build failed: the browser tests cannot run.');
        add({ passed: 0, failed: 1 });
      } else {
        console.log('\n== browser tests ==');
        add(await nodeTests('e2e', './tests/e2e/lib/setup.mjs', files('tests/e2e', '.test.mjs'), { CHROMIUM: chromium, FENGQIAO_WEB_BUILT: '1', FENGQIAO_BIN: server }));
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(totals.failed > 0 ? 1 : 0);
