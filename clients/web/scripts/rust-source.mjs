// Reads the parts of the Rust schema crate that the web app mirrors: the vocabulary table
// (schema/src/vocab.rs) and the document layout (schema/src/document.rs). Used by
// `generate-schema.mjs` to write the JSON the app ships, and by the unit tests to prove that the
// committed JSON still matches the Rust source, so the two never drift apart.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's `schema/src` directory, found relative to this file. */
export const SCHEMA_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'schema', 'src');

/**
 * Parses every `vocabulary! { ... }` block of vocab.rs.
 * Returns `{ [vocabularyName]: { type, values: [[code, label], ...] } }` in source order.
 */
export function parseVocabularies(source) {
  const out = {};
  const block = /vocabulary!\s*\{\s*((?:\/\/\/[^\n]*\n\s*)*)(\w+),\s*"([a-z_]+)"\s*\{([\s\S]*?)\n\s*\}\s*\n\}/g;
  let m;
  while ((m = block.exec(source)) !== null) {
    const [, , type, name, body] = m;
    const values = [];
    const variant = /^\s*(\w+)\s*=\s*"([^"]+)",\s*"([^"]+)";/gm;
    let v;
    while ((v = variant.exec(body)) !== null) values.push([v[2], v[3]]);
    if (values.length === 0) throw new Error(`vocabulary ${name} has no values`);
    out[name] = { type, values };
  }
  if (Object.keys(out).length === 0) throw new Error('no vocabulary found in vocab.rs');
  return out;
}

/**
 * Parses the structs of document.rs that derive Reconcile/Hydrate.
 * Returns `{ schemaVersion, structs: { [Name]: { key: fieldName|null, fields: [[name, rustType], ...] } } }`.
 */
export function parseDocumentLayout(source) {
  const version = /pub const SCHEMA_VERSION: u64 = (\d+);/.exec(source);
  if (!version) throw new Error('SCHEMA_VERSION not found in document.rs');
  const structs = {};
  const struct = /#\[derive\([^)]*Reconcile[^)]*\)\]\s*pub struct (\w+) \{([\s\S]*?)\n\}/g;
  let m;
  while ((m = struct.exec(source)) !== null) {
    const [, name, body] = m;
    const fields = [];
    let key = null;
    let pendingKey = false;
    for (const line of body.split('\n')) {
      const t = line.trim();
      if (t === '#[key]') pendingKey = true;
      const f = /^pub (\w+): (.+),$/.exec(t);
      if (f) {
        fields.push([f[1], f[2].replace(/\s+/g, '')]);
        if (pendingKey) key = f[1];
        pendingKey = false;
      }
    }
    structs[name] = { key, fields };
  }
  if (!structs.Case) throw new Error('struct Case not found in document.rs');
  return { schemaVersion: Number(version[1]), structs };
}

export function readRust(file) {
  return readFileSync(join(SCHEMA_SRC, file), 'utf8');
}
