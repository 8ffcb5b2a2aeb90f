// Loaded before every unit test (`node --import`): initialises Automerge's WebAssembly from
// node_modules, as the browser entry point does from its own asset, and gives Node an IndexedDB.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import 'fake-indexeddb/auto';
import { initializeWasm } from '../../src/core/automerge.js';

const require = createRequire(import.meta.url);
const wasmPath = require.resolve('@automerge/automerge/automerge.wasm');
await initializeWasm(readFileSync(wasmPath));
