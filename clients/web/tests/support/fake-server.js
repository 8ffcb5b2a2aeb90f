// A stand-in for the Fengqiao server's sync endpoint in tests: it speaks docs/PROTOCOL.md with
// real Automerge documents and a change feed, and can be told to refuse a case, to report a
// compensation, or to make a case unreadable. It authorises nothing by itself and stores in
// memory: the real server is tested in the Rust workspace and, end to end, in tests/e2e.

import { decode, encode } from 'cborg';
import * as A from '../../src/core/automerge.js';
import { decodeCaseId, encodeCaseId } from '../../src/core/schema/ids.js';

const ENC = { mapSorter: null };
const LIMITS = { max_message_bytes: 8388608, max_entries: 256, max_doc_message_bytes: 1048576 };

function cursorFor(seq) {
  const bytes = new Uint8Array(9);
  bytes[0] = 1;
  new DataView(bytes.buffer).setBigUint64(1, BigInt(seq));
  return bytes;
}

function seqOf(cursor) {
  if (!cursor || cursor.length !== 9 || cursor[0] !== 1) return null;
  return Number(new DataView(cursor.buffer, cursor.byteOffset).getBigUint64(1));
}

export function serverMessage(kind, body) {
  return encode([2, kind, body], ENC);
}

/** A reply entry `{ type, doc, ... }` as the wire writes it: `[type, doc bytes, ...]` (PROTOCOL §5.4). */
function wireEntry(e) {
  const doc = decodeCaseId(e.doc);
  switch (e.type) {
    case 'sync':
      return e.compensated?.length ? ['sync', doc, e.sync, e.compensated] : ['sync', doc, e.sync];
    case 'saved':
      return ['saved', doc, e.heads, e.document];
    case 'rejected':
      return ['rejected', doc, e.code, e.message];
    default:
      return e.compensated?.length ? ['deferred', doc, e.compensated] : ['deferred', doc];
  }
}

export class FakeServer {
  constructor({ limits = LIMITS } = {}) {
    this.limits = limits;
    this.docs = new Map();
    this.seq = 0;
    /** docId → `{ code, message, times }`: refuse the case's next messages. */
    this.rejections = new Map();
    /** docId → compensation to report with the next changes received. */
    this.compensations = new Map();
    /** Cases the user may no longer read. */
    this.unreadable = new Set();
    this.received = [];
    this.actor = '5e'.repeat(16);
  }

  /** A case edited on the server (by another device): commits it to the feed. */
  edit(docId, fn) {
    const existing = this.docs.get(docId);
    const doc = A.change(existing ? existing.doc : A.init({ actor: this.actor }), fn);
    this.commit(docId, doc);
    return doc;
  }

  /** Puts a whole document (e.g. made by the schema helpers) on the server. */
  put(docId, doc) {
    this.commit(docId, A.clone(doc, { actor: this.actor }));
  }

  commit(docId, doc) {
    this.seq += 1;
    this.docs.set(docId, { doc, seq: this.seq });
  }

  connect() {
    return new FakeConnection(this);
  }
}

/** One client's connection: the server side of its sessions. */
export class FakeConnection {
  constructor(server) {
    this.server = server;
    this.head = null;
    this.states = new Map();
  }

  /** The answer to one client message (CBOR bytes in, CBOR bytes out). */
  handle(bytes) {
    const [version, kind, body] = decode(bytes);
    if (version !== 2) return serverMessage('error', { code: 'unsupported_version', message: '同步协议版本不受支持，请升级应用。', retry: false });
    if (kind === 'hello') return this.hello(body);
    if (kind === 'batch') return this.batch(body);
    return serverMessage('error', { code: 'malformed', message: '同步消息格式错误，本次同步已中止。', retry: false });
  }

  hello({ cursor }) {
    const s = this.server;
    const since = seqOf(cursor);
    this.head = s.seq;
    this.states = new Map();
    const changed = [...s.docs.entries()]
      .filter(([id, d]) => !s.unreadable.has(id) && (since === null || d.seq > since))
      .map(([id]) => id);
    const gone = since === null ? [] : [...s.unreadable];
    const ids = (list) => list.map((id) => decodeCaseId(id));
    return serverMessage('welcome', { cursor: cursorFor(this.head), fresh: since === null, changed: ids(changed), gone: ids(gone), limits: s.limits });
  }

  batch({ round, entries }) {
    const s = this.server;
    if (entries.length === 0) return serverMessage('done', { cursor: cursorFor(this.head) });
    const out = [];
    for (const [docBytes, sync] of entries) {
      const docId = encodeCaseId(docBytes);
      s.received.push({ docId, sync });
      const refusal = s.rejections.get(docId);
      if (refusal && refusal.times > 0) {
        refusal.times -= 1;
        out.push({ type: 'rejected', doc: docId, code: refusal.code, message: refusal.message });
        continue;
      }
      if (s.unreadable.has(docId)) {
        out.push({ type: 'rejected', doc: docId, code: 'not_found', message: '案件不存在，或您无权查看该案件。' });
        continue;
      }
      const message = A.decodeSyncMessage(sync);
      const holdsNothing = message.heads.length === 0 && message.changes.length === 0;
      const existing = s.docs.get(docId);
      if (!existing && holdsNothing) {
        out.push({ type: 'rejected', doc: docId, code: 'not_found', message: '案件不存在，或您无权查看该案件。' });
        continue;
      }
      if (existing && holdsNothing) {
        out.push({ type: 'saved', doc: docId, heads: A.getHeads(existing.doc), document: A.save(existing.doc) });
        continue;
      }
      const doc = existing ? existing.doc : A.init({ actor: s.actor });
      const before = A.getHeads(doc);
      const [received, state] = A.receiveSyncMessage(doc, this.states.get(docId) ?? A.initSyncState(), sync);
      const after = A.getHeads(received);
      const changed = before.length !== after.length || before.some((h) => !after.includes(h));
      // receiveSyncMessage outdates the document it was given: keep the one it returned.
      if (changed) s.commit(docId, received);
      else if (existing) existing.doc = received;
      const [nextState, reply] = A.generateSyncMessage(received, state);
      this.states.set(docId, nextState);
      const compensation = changed ? s.compensations.get(docId) : undefined;
      if (!reply && !compensation) continue;
      // A compensation notice needs an entry even when there is nothing else to say: the heads.
      const entry = { type: 'sync', doc: docId, sync: reply ?? A.generateSyncMessage(received, A.initSyncState())[1] };
      if (compensation) {
        s.compensations.delete(docId);
        entry.compensated = [{ ...compensation, reverted: after.filter((h) => !before.includes(h)) }];
      }
      out.push(entry);
    }
    return serverMessage('batch', { round, entries: out.map(wireEntry) });
  }
}
