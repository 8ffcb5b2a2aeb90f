// The case document (DESIGN §3) on the JavaScript side: creating a new case with exactly the
// skeleton Rust's `new_case_document` makes, writing fields the way autosurgeon writes them, and
// reading any case (from this app, the Rust client or the server) into plain JavaScript.
//
// Writers take the proxy of an `Automerge.change` callback. Paths name fields by string and list
// items by `{ id }`, resolved inside the change, so an edit lands on the right party or session
// even when another device inserted or deleted items meanwhile.

import * as A from '../automerge.js';
import { newItemId } from './ids.js';
import {
  LayoutError,
  SCHEMA_VERSION,
  STRUCTS,
  defaultPlain,
  describe,
  fieldType,
  keyField,
  plainScalar,
  toDocumentScalar,
  toPlain,
  typeAtPath,
} from './layout.js';

/** Sections of a case, in the order of the vocabulary table. */
export const SECTIONS = [
  'meta',
  'parties',
  'claims',
  'mediation',
  'petition',
  'reconsideration',
  'litigation',
  'handoffs',
  'custody',
  'review',
  'attachments',
];

/** Thrown when a path names a list item that is no longer there (deleted on another device). */
export class ItemGone extends Error {
  constructor(path) {
    super(`the item at ${JSON.stringify(path)} is no longer in the case`);
    this.path = path;
  }
}

/**
 * The root of a new case as plain JavaScript, as autosurgeon reconciles `Case::default()` with
 * the intake fields of `new_case_document` set: every section present, empty.
 */
export function caseSkeleton({ kind, unit, user, township, title, createdAt }) {
  const root = defaultPlain('Case');
  Object.assign(root.meta, {
    schema_version: SCHEMA_VERSION,
    kind,
    opened_by_unit: unit,
    opened_by_user: user,
    township,
    title,
    created_at: createdAt,
  });
  return root;
}

/**
 * Writes the plain value `value` of Rust type `type` at `parent[key]` inside a change, creating
 * maps and lists and assigning every field one by one. (Assigning a nested object literal at once
 * is lossy in @automerge/automerge 3.5: integers inside it become floats or maps, which Rust
 * cannot read.) Fields missing from `value` get their defaults.
 */
export function writeNew(parent, key, type, value = defaultPlain(type)) {
  const desc = describe(type);
  switch (desc.kind) {
    case 'struct': {
      parent[key] = {};
      const obj = parent[key];
      const src = value ?? {};
      for (const [f, t] of STRUCTS[desc.name].fields) writeNew(obj, f, t, src[f] === undefined ? defaultPlain(t) : src[f]);
      return;
    }
    case 'list': {
      parent[key] = [];
      const list = parent[key];
      for (const item of value ?? []) appendNew(list, desc.of.rust, item);
      return;
    }
    case 'text':
      if (typeof value !== 'string') throw new LayoutError(`${type} expects a string`);
      parent[key] = value;
      return;
    default:
      parent[key] = toDocumentScalar(type, value);
  }
}

/** Appends the plain value `value` of Rust type `type` to a list inside a change. */
function appendNew(list, type, value) {
  const desc = describe(type);
  if (desc.kind === 'struct' || desc.kind === 'list') {
    list.push(desc.kind === 'struct' ? {} : []);
    const index = list.length - 1;
    if (desc.kind === 'struct') {
      const obj = list[index];
      const src = value ?? {};
      for (const [f, t] of STRUCTS[desc.name].fields) writeNew(obj, f, t, src[f] === undefined ? defaultPlain(t) : src[f]);
    } else {
      for (const item of value ?? []) appendNew(list[index], desc.of.rust, item);
    }
  } else if (desc.kind === 'text') {
    list.push(value);
  } else {
    list.push(toDocumentScalar(type, value));
  }
}

/**
 * A new case document made under `actor` in one change ("intake"), like `new_case_document`.
 * `fill(d)` may record more of the intake (parties, claims) in the same change. `time` (seconds)
 * fixes the change's timestamp, for reproducible fixtures.
 */
export function newCaseDocument(intake, fill, { actor, time } = {}) {
  const doc = A.init(actor ? { actor } : undefined);
  const options = time === undefined ? { message: 'intake' } : { message: 'intake', time };
  return A.change(doc, options, (d) => {
    const root = caseSkeleton(intake);
    for (const [section, type] of STRUCTS.Case.fields) writeNew(d, section, type, root[section]);
    if (fill) fill(d);
  });
}

/** Walks `path` in a change proxy; returns the parent object, the final key and the Rust type. */
function resolve(d, path, { create }) {
  let obj = d;
  let type = 'Case';
  const absolute = [];
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    const desc = describe(type);
    let key;
    let childType;
    if (typeof seg === 'string') {
      if (desc.kind !== 'struct') throw new LayoutError(`${type} has no field ${seg}`);
      key = seg;
      childType = fieldType(desc.name, seg);
      if (!childType) throw new LayoutError(`${desc.name} has no field ${seg}`);
    } else {
      if (desc.kind !== 'list' || !Array.isArray(obj)) throw new ItemGone(path);
      const idField = keyField(desc.of.name);
      const id = typeof seg === 'number' ? null : seg.id;
      key = id === null ? seg : obj.findIndex((item) => plainScalar(item?.[idField]) === id);
      if (key < 0 || key >= obj.length) throw new ItemGone(path);
      childType = desc.of.rust;
    }
    absolute.push(key);
    if (last) return { parent: obj, key, type: childType, absolute };
    let child = obj[key];
    const childDesc = describe(childType);
    if (child === undefined || child === null) {
      // A section or nested struct missing from an older or foreign document: create it empty.
      if (!create) return null;
      if (childDesc.kind !== 'struct' && childDesc.kind !== 'list') throw new LayoutError(`cannot descend into ${childType}`);
      writeNew(obj, key, childType);
      child = obj[key];
    }
    obj = child;
    type = childType;
  }
  throw new LayoutError('empty path');
}

/** Sets a scalar field (string, code, date, instant, option, bool or integer). */
export function setField(d, path, value) {
  const { parent, key, type } = resolve(d, path, { create: true });
  const kind = describe(type).kind;
  if (kind === 'text' || kind === 'list' || kind === 'struct') throw new LayoutError(`${path.join('.')} is not a scalar`);
  const next = toDocumentScalar(type, value);
  const current = parent[key];
  // Writing the value again is a no-op unless devices disagree on it: then writing it is how a
  // person chooses between the concurrent values.
  if (current !== undefined && plainScalar(current) === plainScalar(next) && !hasConflict(parent, key)) return;
  parent[key] = next;
}

function hasConflict(obj, key) {
  const conflicts = A.getConflicts(obj, key);
  return conflicts !== undefined && Object.keys(conflicts).length > 1;
}

/** Replaces the content of a Text field, as a minimal splice so concurrent edits merge. */
export function setText(d, path, text) {
  const { parent, key, type, absolute } = resolve(d, path, { create: true });
  if (describe(type).kind !== 'text') throw new LayoutError(`${path.join('.')} is not Text`);
  if (typeof text !== 'string') throw new LayoutError('Text expects a string');
  if (typeof parent[key] === 'string') {
    if (parent[key] !== text) A.updateText(d, absolute, text);
  } else {
    parent[key] = text;
  }
}

/** Splices a Text field: at `index` (UTF-16 code units) delete `del` and insert `insert`. */
export function spliceText(d, path, index, del, insert = '') {
  const { parent, key, type, absolute } = resolve(d, path, { create: true });
  if (describe(type).kind !== 'text') throw new LayoutError(`${path.join('.')} is not Text`);
  if (typeof parent[key] !== 'string') parent[key] = '';
  A.splice(d, absolute, index, del, insert);
}

/** Replaces a list of scalar strings (mediators, defendants, ...). */
export function setStringList(d, path, values) {
  const { parent, key, type } = resolve(d, path, { create: true });
  const desc = describe(type);
  if (desc.kind !== 'list' || desc.of.kind !== 'string') throw new LayoutError(`${path.join('.')} is not a list of strings`);
  const current = Array.isArray(parent[key]) ? parent[key].map(plainScalar) : null;
  if (current && current.length === values.length && current.every((v, i) => v === values[i])) return;
  if (!Array.isArray(parent[key])) {
    writeNew(parent, key, type, values);
    return;
  }
  const list = parent[key];
  list.splice(0, list.length);
  for (const v of values) list.push(toDocumentScalar(desc.of.rust, v));
}

/**
 * Appends an item to a list of structs (parties, sessions, handoffs, ...): every field at its
 * default, a fresh id, then `fields` (plain values: scalars, text, lists of strings).
 * Returns the id.
 */
export function addItem(d, listPath, fields = {}, idPrefix = 'item') {
  const listType = typeAtPath(listPath);
  const desc = describe(listType);
  if (desc.kind !== 'list' || desc.of.kind !== 'struct') throw new LayoutError(`${listPath.join('.')} is not a list of items`);
  const idField = keyField(desc.of.name);
  for (const field of Object.keys(fields)) {
    if (!fieldType(desc.of.name, field)) throw new LayoutError(`${desc.of.name} has no field ${field}`);
  }
  const id = fields[idField] ?? newItemId(idPrefix);
  const { parent, key } = resolve(d, listPath, { create: true });
  if (!Array.isArray(parent[key])) writeNew(parent, key, listType, []);
  appendNew(parent[key], desc.of.rust, { ...fields, [idField]: id });
  return id;
}

/** Removes the item with `id` from a list of structs; nothing if it is already gone. */
export function removeItem(d, listPath, id) {
  const listType = typeAtPath(listPath);
  const idField = keyField(describe(listType).of.name);
  const found = resolve(d, listPath, { create: false });
  const list = found && found.parent[found.key];
  if (!Array.isArray(list)) return;
  const index = list.findIndex((item) => plainScalar(item?.[idField]) === id);
  if (index >= 0) list.splice(index, 1);
}

/** The whole case as plain JavaScript, every field present (see `toPlain`). */
export function readCase(doc) {
  return toPlain('Case', doc);
}

/** The value at `path` of a plain case (from `readCase`); list items by `{ id }`. */
export function valueAt(plainCase, path) {
  let v = plainCase;
  for (const seg of path) {
    if (v === null || v === undefined) return undefined;
    v = typeof seg === 'object' ? v.find?.((item) => item.id === seg.id) : v[seg];
  }
  return v;
}

/**
 * Concurrent values of a scalar field at `path` of a document (not a change proxy): Automerge
 * keeps every value two devices set at the same time. Returns `[{ opId, value }]` with two or more
 * entries, or an empty array when there is no conflict.
 */
export function conflictsAt(doc, path) {
  let obj = doc;
  for (const seg of path.slice(0, -1)) {
    if (obj === null || obj === undefined) return [];
    if (typeof seg === 'object') {
      obj = Array.isArray(obj) ? obj.find((item) => plainScalar(item?.id) === seg.id) : undefined;
    } else {
      obj = obj[seg];
    }
  }
  if (obj === null || typeof obj !== 'object') return [];
  const conflicts = A.getConflicts(obj, path[path.length - 1]);
  if (!conflicts) return [];
  const entries = Object.entries(conflicts).map(([opId, value]) => ({ opId, value: plainScalar(value) }));
  return entries.length > 1 ? entries : [];
}

/** What lists show of a case; no personal data beyond party names. */
export function summarize(c) {
  const custodyUnit = c.custody.unit || c.meta.opened_by_unit;
  const track = c.custody.track ?? (c.meta.kind === 'petition' ? 'petition' : c.meta.kind === 'dispute' ? 'mediation' : null);
  const lastHandoff = c.handoffs[c.handoffs.length - 1] ?? null;
  return {
    title: c.meta.title,
    caseNumber: c.meta.case_number,
    kind: c.meta.kind,
    track,
    custodyUnit,
    township: c.meta.township,
    village: c.meta.village,
    disputeType: c.meta.dispute_type,
    createdAt: c.meta.created_at,
    registeredAt: c.meta.registered_at,
    schemaVersion: c.meta.schema_version,
    partyNames: c.parties.map((p) => p.name).filter(Boolean),
    openReviews: c.review.filter((r) => !r.done).length,
    handoff: lastHandoff && { id: lastHandoff.id, status: lastHandoff.status, toTrack: lastHandoff.to_track, toUnit: lastHandoff.to_unit },
    custodyHistoryUnits: c.custody.history.map((e) => e.unit),
    pendingHandoffs: c.handoffs
      .filter((h) => h.status === 'pending')
      .map((h) => ({
        id: h.id,
        fromTrack: h.from_track,
        fromUnit: h.from_unit,
        toTrack: h.to_track,
        toUnit: h.to_unit,
        reason: h.reason,
        requestedBy: h.requested_by,
        requestedAt: h.requested_at,
        verdict: h.decision.verdict,
      })),
    receivingUnits: c.handoffs.filter((h) => h.to_unit).map((h) => ({ unit: h.to_unit, track: h.to_track })),
  };
}
