// Builds the app once per test process unless the runner already did (FENGQIAO_WEB_BUILT=1).

import { build } from 'vite';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

let built = null;

export function ensureBuilt() {
  if (process.env.FENGQIAO_WEB_BUILT === '1') return Promise.resolve();
  built ??= build({ root: WEB_ROOT, logLevel: 'warn' });
  return built;
}
