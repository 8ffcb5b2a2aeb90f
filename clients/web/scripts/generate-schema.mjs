// Writes src/core/schema/generated/{vocab,layout}.json from the Rust schema crate.
// Run `npm run vocab` after changing schema/src/vocab.rs or schema/src/document.rs; the unit tests
// fail until the JSON is regenerated.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocumentLayout, parseVocabularies, readRust } from './rust-source.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'core', 'schema', 'generated');
const vocab = parseVocabularies(readRust('vocab.rs'));
const layout = parseDocumentLayout(readRust('document.rs'));
writeFileSync(join(out, 'vocab.json'), pretty(vocab) + '\n');
writeFileSync(join(out, 'layout.json'), pretty(layout) + '\n');
/** JSON with one `[code, label]` or `[field, type]` pair per line, so diffs stay readable. */
function pretty(value, indent = '') {
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null)) return JSON.stringify(value);
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

console.log(`wrote ${Object.keys(vocab).length} vocabularies and ${Object.keys(layout.structs).length} structs`);
