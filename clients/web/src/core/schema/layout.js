// The layout of the case document, mirrored from schema/src/document.rs: every struct with its
// fields and their Rust types, generated into ./generated/layout.json (`npm run vocab`) and
// checked against the Rust source by a unit test. The rest of the app interprets those Rust types
// so that it writes exactly what autosurgeon writes and reads what any client wrote:
//
//   String            scalar string (ImmutableString in JavaScript)
//   Text              collaborative text (a JavaScript string inside a change)
//   bool, u64, i64    boolean, integer
//   Option<T>         null when absent
//   Vec<T>            list; items of structs with a `#[key]` field carry a stable id
//   LegalDate         scalar string YYYY-MM-DD
//   Instant           scalar string RFC 3339 UTC
//   a vocabulary enum scalar string holding one of its codes
//   any other name    a nested struct (a map)

import layout from './generated/layout.json' with { type: 'json' };
import { ImmutableString, Int } from '../automerge.js';
import { isCode, vocabularyOfType } from './vocab.js';
import { isInstant, isLegalDate } from './time.js';

export const SCHEMA_VERSION = layout.schemaVersion;
export const STRUCTS = layout.structs;

const cache = new Map();

/**
 * What a Rust type means for the document:
 * `{ kind: 'string' | 'text' | 'bool' | 'int' | 'option' | 'list' | 'struct', ... }`.
 * Scalar strings carry `format`: 'plain' | 'date' | 'instant' | 'code' (with `vocabulary`).
 */
export function describe(rustType) {
  let d = cache.get(rustType);
  if (d) return d;
  const generic = /^(Option|Vec)<(.+)>$/.exec(rustType);
  if (generic) {
    d = { kind: generic[1] === 'Option' ? 'option' : 'list', of: describe(generic[2]), rust: rustType };
  } else if (rustType === 'String') {
    d = { kind: 'string', format: 'plain', rust: rustType };
  } else if (rustType === 'LegalDate') {
    d = { kind: 'string', format: 'date', rust: rustType };
  } else if (rustType === 'Instant') {
    d = { kind: 'string', format: 'instant', rust: rustType };
  } else if (rustType === 'Text') {
    d = { kind: 'text', rust: rustType };
  } else if (rustType === 'bool') {
    d = { kind: 'bool', rust: rustType };
  } else if (rustType === 'u64' || rustType === 'i64') {
    d = { kind: 'int', signed: rustType === 'i64', rust: rustType };
  } else if (vocabularyOfType(rustType)) {
    d = { kind: 'string', format: 'code', vocabulary: vocabularyOfType(rustType), rust: rustType };
  } else if (STRUCTS[rustType]) {
    d = { kind: 'struct', name: rustType, rust: rustType };
  } else {
    throw new Error(`unknown type in the document layout: ${rustType}`);
  }
  cache.set(rustType, d);
  return d;
}

/** The Rust type of `field` in struct `name`, or undefined. */
export function fieldType(name, field) {
  return STRUCTS[name]?.fields.find(([f]) => f === field)?.[1];
}

/** The `#[key]` field of a struct (its stable item id), or null. */
export function keyField(name) {
  return STRUCTS[name]?.key ?? null;
}

/**
 * The default of a Rust type as plain JavaScript, as autosurgeon writes `Default::default()`:
 * '' for strings and Text, null for options, false, 0, [] and nested structs with every field.
 * `document.js` writes such plain values into a document field by field.
 */
export function defaultPlain(rustType) {
  const d = describe(rustType);
  switch (d.kind) {
    case 'string':
    case 'text':
      return '';
    case 'bool':
      return false;
    case 'int':
      return 0;
    case 'option':
      return null;
    case 'list':
      return [];
    case 'struct': {
      const obj = {};
      for (const [f, t] of STRUCTS[d.name].fields) obj[f] = defaultPlain(t);
      return obj;
    }
  }
  throw new Error(`no default for ${rustType}`);
}

/** Why a value cannot be written to a field. Messages are for developers; forms validate first. */
export class LayoutError extends Error {}

/**
 * Checks a plain value for a scalar field (`string`, `option`, `bool`, `int`) and returns what to
 * put into the document: `ImmutableString` for strings, `null` for an empty option.
 */
export function toDocumentScalar(rustType, value) {
  const d = describe(rustType);
  if (d.kind === 'option') {
    if (value === null || value === undefined || value === '') return null;
    return toDocumentScalar(d.of.rust, value);
  }
  switch (d.kind) {
    case 'string': {
      if (typeof value !== 'string') throw new LayoutError(`${rustType} expects a string, got ${typeof value}`);
      if (d.format === 'date' && !isLegalDate(value)) throw new LayoutError(`not a date YYYY-MM-DD: ${value}`);
      if (d.format === 'instant' && !isInstant(value)) throw new LayoutError(`not an RFC 3339 instant: ${value}`);
      if (d.format === 'code' && !isCode(d.vocabulary, value)) {
        throw new LayoutError(`not a code of ${d.vocabulary}: ${value}`);
      }
      return new ImmutableString(value);
    }
    case 'bool':
      if (typeof value !== 'boolean') throw new LayoutError(`${rustType} expects a boolean`);
      return value;
    case 'int':
      if (!Number.isSafeInteger(value) || (!d.signed && value < 0)) {
        throw new LayoutError(`${rustType} expects ${d.signed ? 'an' : 'a non-negative'} integer, got ${value}`);
      }
      // Explicitly an integer, never a float: Rust reads integers only.
      return new Int(value);
  }
  throw new LayoutError(`${rustType} is not a scalar field`);
}

/** A scalar read from a document as plain JavaScript: strings for scalar strings and Text. */
export function plainScalar(value) {
  if (value instanceof ImmutableString) return value.val;
  if (value instanceof Int) return value.value;
  return value;
}

/**
 * A value read from a document (possibly missing, possibly written by another client) as plain
 * JavaScript of the shape of `rustType`: every field present, strings as strings, missing values
 * as their defaults. Values of the wrong type read as the default, as autosurgeon's `missing`
 * would not help there either, but they never crash a screen.
 */
export function toPlain(rustType, value) {
  const d = describe(rustType);
  switch (d.kind) {
    case 'string': {
      const v = plainScalar(value);
      return typeof v === 'string' ? v : '';
    }
    case 'text':
      return typeof value === 'string' ? value : plainScalar(value)?.toString?.() ?? '';
    case 'bool':
      return value === true;
    case 'int':
      if (typeof value === 'bigint') return Number(value);
      return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : 0;
    case 'option':
      if (value === null || value === undefined) return null;
      return toPlain(d.of.rust, value);
    case 'list':
      return Array.isArray(value) ? value.map((item) => toPlain(d.of.rust, item)) : [];
    case 'struct': {
      const obj = {};
      const src = value && typeof value === 'object' ? value : {};
      for (const [f, t] of STRUCTS[d.name].fields) obj[f] = toPlain(t, src[f]);
      return obj;
    }
  }
  return value;
}

/**
 * The Rust type at a path from the root of the case: string segments name fields, `{ id }` or a
 * number names an item of a list.
 */
export function typeAtPath(path) {
  let type = 'Case';
  for (const seg of path) {
    const d = describe(type);
    if (typeof seg === 'string') {
      if (d.kind !== 'struct') throw new LayoutError(`${type} has no field ${seg}`);
      const t = fieldType(d.name, seg);
      if (!t) throw new LayoutError(`${d.name} has no field ${seg}`);
      type = t;
    } else {
      if (d.kind !== 'list') throw new LayoutError(`${type} is not a list`);
      type = d.of.rust;
    }
  }
  return type;
}
