// Loaded before browser tests (`node --import`): the stand-in server uses Automerge in Node.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initializeWasm } from '../../../src/core/automerge.js';

const require = createRequire(import.meta.url);
await initializeWasm(readFileSync(require.resolve('@automerge/automerge/automerge.wasm')));
