// The device's replica of the cases (PROTOCOL §7): per case the Automerge document, its sync state
// with the server and whether it holds changes the server has not acknowledged; once, the cursor
// of the last completed session, the stash of refused copies and the notices to show.
//
// One IndexedDB database per user on this device, so that two people sharing a tablet never see
// each other's cases. A document is a snapshot plus incremental chunks: every edit appends the
// bytes of its change at once (a crash loses nothing typed), and every so often the chunks are
// folded into a new snapshot in the same transaction.
//
// The open documents live in memory; screens read and edit them synchronously, and writes to the
// database are queued per case so they land in order.

import * as A from '../automerge.js';
import { newCaseDocument, readCase, summarize } from '../schema/document.js';
import { newActorId, newCaseId } from '../schema/ids.js';
import { instant } from '../schema/time.js';
import { hasUnacknowledgedChanges } from '../sync/session.js';
import { deleteDatabase, openDatabase, request, transaction } from './idb.js';

const DB_VERSION = 1;
/** Chunks kept before they are folded into the snapshot. */
const COMPACT_AFTER = 32;

export function replicaDatabaseName(userId) {
  return `fengqiao-replica:${userId}`;
}

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    db.createObjectStore('docs', { keyPath: 'id' });
    db.createObjectStore('chunks', { autoIncrement: true }).createIndex('byDoc', 'docId');
    db.createObjectStore('syncStates', { keyPath: 'id' });
    db.createObjectStore('index', { keyPath: 'id' });
    db.createObjectStore('meta', { keyPath: 'key' });
    db.createObjectStore('stash', { keyPath: 'seq', autoIncrement: true });
    db.createObjectStore('notices', { keyPath: 'seq', autoIncrement: true });
  }
}

async function deleteChunks(chunks, docId) {
  const keys = await request(chunks.index('byDoc').getAllKeys(IDBKeyRange.only(docId)));
  for (const key of keys) chunks.delete(key);
}

export class Replica {
  /** Opens the replica of `userId` on this device, creating it (and its actor id) if new. */
  static async open(userId) {
    const db = await openDatabase(replicaDatabaseName(userId), DB_VERSION, upgrade);
    const replica = new Replica(db, userId);
    await replica.init();
    return replica;
  }

  /** Deletes the replica of `userId` from this device. */
  static async destroy(userId) {
    await deleteDatabase(replicaDatabaseName(userId));
  }

  constructor(db, userId) {
    this.db = db;
    this.userId = userId;
    this.actor = null;
    /** docId → `{ id, summary, unacked, updatedAt }` for every case held. */
    this.index = new Map();
    /** docId → `{ doc, savedHeads, chunks, syncState }` for cases loaded into memory. */
    this.loaded = new Map();
    this.queues = new Map();
    this.listeners = new Set();
    /** Counts emitted events, so that a view can tell it missed one before subscribing. */
    this.version = 0;
    this.failures = [];
  }

  async init() {
    const [actor, entries] = await transaction(this.db, ['meta', 'index'], 'readonly', async (s) => [
      await request(s.meta.get('actor')),
      await request(s.index.getAll()),
    ]);
    for (const e of entries) this.index.set(e.id, e);
    if (actor) {
      this.actor = actor.value;
    } else {
      // Each user on each device edits under an actor id of its own (DESIGN §5.3).
      this.actor = newActorId();
      await this.setMeta('actor', this.actor);
    }
  }

  close() {
    this.db.close();
  }

  // -- change notification ------------------------------------------------------------------

  /** Calls `listener(event)` on every change: `{ type: 'case', docId }`, `'notices'`, `'stash'`. */
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event) {
    this.version += 1;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        console.warn('replica listener failed', e);
      }
    }
  }

  /** Runs database work for one case after the work queued before it. */
  enqueue(docId, work) {
    const previous = this.queues.get(docId) ?? Promise.resolve();
    const next = previous.then(work).catch((e) => {
      this.failures.push({ docId, error: e });
      this.emit({ type: 'storage-error', docId, error: e });
      throw e;
    });
    this.queues.set(docId, next.catch(() => {}));
    return next;
  }

  /** Resolves when every queued write has reached the database. */
  async flush() {
    await Promise.all([...this.queues.values()]);
  }

  // -- reading ------------------------------------------------------------------------------

  /** Every case held, most recently changed first. */
  list() {
    return [...this.index.values()].sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? ''));
  }

  has(docId) {
    return this.index.has(docId);
  }

  /** Cases with changes the server has not acknowledged. */
  pendingIds() {
    return this.list()
      .filter((e) => e.unacked)
      .map((e) => e.id);
  }

  /** The case's document, loaded into memory; null if the replica does not hold it. */
  async doc(docId) {
    const entry = await this.load(docId);
    return entry ? entry.doc : null;
  }

  /** The case's document if it is already in memory (for synchronous rendering). */
  peek(docId) {
    return this.loaded.get(docId)?.doc ?? null;
  }

  async load(docId) {
    const cached = this.loaded.get(docId);
    if (cached) return cached;
    if (!this.index.has(docId)) return null;
    const [record, chunks, syncState] = await transaction(this.db, ['docs', 'chunks', 'syncStates'], 'readonly', async (s) => [
      await request(s.docs.get(docId)),
      await request(s.chunks.index('byDoc').getAll(IDBKeyRange.only(docId))),
      await request(s.syncStates.get(docId)),
    ]);
    // Another load may have finished while this one waited.
    if (this.loaded.has(docId)) return this.loaded.get(docId);
    if (!record) return null;
    let doc = A.load(record.snapshot, { actor: this.actor });
    for (const c of chunks) doc = A.loadIncremental(doc, c.bytes);
    const entry = { doc, savedHeads: A.getHeads(doc), chunks: chunks.length, syncState: syncState?.bytes ?? null };
    this.loaded.set(docId, entry);
    return entry;
  }

  // -- local edits --------------------------------------------------------------------------

  /** Opens a new case at intake; returns its id. See `newCaseDocument`. */
  async create(intake, fill) {
    const docId = newCaseId();
    const doc = newCaseDocument(intake, fill, { actor: this.actor });
    const entry = { doc, savedHeads: A.getHeads(doc), chunks: 0, syncState: null };
    this.loaded.set(docId, entry);
    const indexEntry = this.indexEntry(docId, doc, null);
    this.index.set(docId, indexEntry);
    const snapshot = A.save(doc);
    await this.enqueue(docId, () =>
      transaction(this.db, ['docs', 'index'], 'readwrite', (s) => {
        s.docs.put({ id: docId, snapshot });
        s.index.put(indexEntry);
      }),
    );
    this.emit({ type: 'case', docId, origin: 'local' });
    return docId;
  }

  /**
   * Edits a case: `fn(d)` runs inside one Automerge change. The document in memory changes at
   * once; the change is written to the database in the background (`flush` waits for it).
   * Returns the new document (unchanged if `fn` changed nothing).
   */
  async change(docId, message, fn) {
    const entry = await this.load(docId);
    if (!entry) throw new Error(`the replica does not hold case ${docId}`);
    const doc = A.change(entry.doc, { message }, fn);
    const heads = A.getHeads(doc);
    if (heads.length === entry.savedHeads.length && heads.every((h) => entry.savedHeads.includes(h))) return entry.doc;
    entry.doc = doc;
    this.persistEntry(docId, entry);
    this.emit({ type: 'case', docId, origin: 'local' });
    return doc;
  }

  /**
   * `change` for a case already in memory (an open screen): applies synchronously, so keystrokes
   * land in order and the screen can read the result at once. Returns the new document.
   */
  changeLoaded(docId, message, fn) {
    const entry = this.loaded.get(docId);
    if (!entry) throw new Error(`case ${docId} is not loaded`);
    const doc = A.change(entry.doc, { message }, fn);
    const heads = A.getHeads(doc);
    if (heads.length === entry.savedHeads.length && heads.every((h) => entry.savedHeads.includes(h))) return entry.doc;
    entry.doc = doc;
    this.persistEntry(docId, entry);
    this.emit({ type: 'case', docId, origin: 'local' });
    return doc;
  }

  /** Queues the write of what changed in `entry` since it was last saved. */
  persistEntry(docId, entry, { snapshot = false, touched = true } = {}) {
    const compact = snapshot || entry.chunks + 1 >= COMPACT_AFTER;
    const bytes = compact ? A.save(entry.doc) : A.saveSince(entry.doc, entry.savedHeads);
    entry.savedHeads = A.getHeads(entry.doc);
    entry.chunks = compact ? 0 : entry.chunks + 1;
    const indexEntry = this.indexEntry(docId, entry.doc, entry.syncState);
    // The list is ordered by the last change to the case, not by the last sync.
    if (!touched) indexEntry.updatedAt = this.index.get(docId)?.updatedAt ?? indexEntry.updatedAt;
    this.index.set(docId, indexEntry);
    const syncState = entry.syncState;
    return this.enqueue(docId, () =>
      transaction(this.db, ['docs', 'chunks', 'index', 'syncStates'], 'readwrite', async (s) => {
        if (compact) {
          s.docs.put({ id: docId, snapshot: bytes });
          await deleteChunks(s.chunks, docId);
        } else if (bytes.length > 0) {
          s.chunks.put({ docId, bytes });
        }
        if (syncState) s.syncStates.put({ id: docId, bytes: syncState });
        s.index.put(indexEntry);
      }),
    );
  }

  indexEntry(docId, doc, syncState) {
    return {
      id: docId,
      summary: summarize(readCase(doc)),
      unacked: hasUnacknowledgedChanges(doc, syncState),
      updatedAt: instant(),
    };
  }

  // -- what a sync session needs ------------------------------------------------------------

  /** A copy of the case for a session, with its stored sync state; null if not held. */
  async forSession(docId) {
    const entry = await this.load(docId);
    if (!entry) return null;
    return { doc: A.clone(entry.doc), syncState: entry.syncState };
  }

  /**
   * Stores what a session received for a case in one transaction: `update` is null (only the
   * sync state moved), `{ kind: 'merge', bytes }` (changes or a saved document) or
   * `{ kind: 'replace', bytes }` (the server's copy after a refusal). Returns the case before
   * and after, as plain cases, so the caller can tell what the server changed.
   */
  async store(docId, update, syncState) {
    const entry = await this.load(docId);
    const before = entry ? readCase(entry.doc) : null;
    let next = entry;
    if (update && (update.kind === 'replace' || !entry)) {
      const doc = A.load(update.bytes, { actor: this.actor });
      next = { doc, savedHeads: [], chunks: 0, syncState };
      this.loaded.set(docId, next);
      await this.persistEntry(docId, next, { snapshot: true });
    } else if (update) {
      entry.doc = A.loadIncremental(entry.doc, update.bytes);
      entry.syncState = syncState;
      await this.persistEntry(docId, entry);
    } else if (entry) {
      entry.syncState = syncState;
      await this.persistEntry(docId, entry, { touched: false });
    } else {
      return { before: null, after: null };
    }
    this.emit({ type: 'case', docId, origin: 'sync' });
    return { before, after: readCase(next.doc) };
  }

  /**
   * Moves the case's copy (document and sync state) into the stash, kept for the user and an
   * administrator and never synced (PROTOCOL §8.1). The case itself stays until replaced.
   */
  async stash(docId, why) {
    const entry = await this.load(docId);
    if (!entry) return;
    const record = {
      docId,
      summary: summarize(readCase(entry.doc)),
      document: A.save(entry.doc),
      syncState: entry.syncState,
      code: why.code,
      message: why.message,
      stashedAt: instant(),
    };
    await this.enqueue(docId, () => transaction(this.db, ['stash'], 'readwrite', (s) => void s.stash.add(record)));
    this.emit({ type: 'stash', docId });
  }

  /**
   * Stops holding a case (PROTOCOL §8.3): deletes the copy, or stashes it first when it holds
   * changes the server never acknowledged, so nothing the user wrote is silently lost.
   * `stash: false` when the copy was stashed already. Returns true when it was stashed now.
   */
  async forget(docId, why, { stash = true } = {}) {
    const indexEntry = this.index.get(docId);
    if (!indexEntry) return false;
    const stashed = stash && indexEntry.unacked;
    if (stashed) await this.stash(docId, why);
    this.index.delete(docId);
    this.loaded.delete(docId);
    await this.enqueue(docId, () =>
      transaction(this.db, ['docs', 'chunks', 'index', 'syncStates', 'meta'], 'readwrite', async (s) => {
        s.docs.delete(docId);
        s.index.delete(docId);
        s.syncStates.delete(docId);
        // The case's deadlines as last fetched (core/api.js `caseDeadlinesKey`).
        s.meta.delete(`case-deadlines:${docId}`);
        await deleteChunks(s.chunks, docId);
      }),
    );
    this.emit({ type: 'case', docId });
    return stashed;
  }

  // -- the cursor, settings, notices and the stash -------------------------------------------

  async getMeta(key) {
    const row = await transaction(this.db, ['meta'], 'readonly', (s) => request(s.meta.get(key)));
    return row?.value;
  }

  async setMeta(key, value) {
    await transaction(this.db, ['meta'], 'readwrite', (s) => void s.meta.put({ key, value }));
  }

  /** Records something the user must see (a refusal, a reverted change, a case gone). */
  async addNotice(notice) {
    const record = { ...notice, at: instant(), read: false };
    record.seq = await transaction(this.db, ['notices'], 'readwrite', (s) => request(s.notices.add(record)));
    this.emit({ type: 'notices' });
    return record;
  }

  /** Every notice, newest first. */
  async notices() {
    const all = await transaction(this.db, ['notices'], 'readonly', (s) => request(s.notices.getAll()));
    return all.reverse();
  }

  async markNoticesRead() {
    await transaction(this.db, ['notices'], 'readwrite', async (s) => {
      for (const n of await request(s.notices.getAll())) if (!n.read) s.notices.put({ ...n, read: true });
    });
    this.emit({ type: 'notices' });
  }

  /** The stash, newest first. */
  async stashEntries() {
    const all = await transaction(this.db, ['stash'], 'readonly', (s) => request(s.stash.getAll()));
    return all.reverse();
  }

  async deleteStashEntry(seq) {
    await transaction(this.db, ['stash'], 'readwrite', (s) => void s.stash.delete(seq));
    this.emit({ type: 'stash' });
  }
}
