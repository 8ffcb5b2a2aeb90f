// The client side of one sync session (PROTOCOL §4, §11): a port of
// `fengqiao_sync::session::ClientSession`. Sans-IO: the caller feeds it the server's messages and
// the documents it asks for, and gets back what to send, store, stash, forget and show. It works
// on its own copies of the documents and hands back only changes to merge, so the user may keep
// editing while a session runs: those edits go out in the next session.
//
// Outputs, in order:
//   { type: 'send', bytes, message }            encode-and-send is done: send `bytes`
//   { type: 'load', docIds }                    answer `loaded(docId, local)` for each
//   { type: 'store', docId, update, syncState } persist together: merge or replace, and the state
//   { type: 'notice', notice }                  show it: { kind: 'rejected' | 'compensated', ... }
//   { type: 'stash', docId, rejection }         move the replica's copy into the stash
//   { type: 'forget', docId, reason }           stop syncing it; delete (or stash unacknowledged)
//   { type: 'finished', cursor }                store the cursor: the session is complete
//   { type: 'failed', failure }                 the session stopped; keep the old cursor

import * as A from '../automerge.js';
import {
  DEFAULT_LIMITS,
  DecodeError,
  FRAME_RESERVE,
  decodeServerMessage,
  encodeBatch,
  encodeHello,
  encodedEntryLength,
  failure,
  minLimits,
  rejection,
} from './protocol.js';

const SYNC_STATE_TAG = 0x43;

/** The encoded sync state of a peer that shares `heads` (PROTOCOL §7): after a `saved` entry. */
export function sharedHeadsSyncState(heads) {
  const sorted = [...heads].sort();
  const out = [SYNC_STATE_TAG];
  let n = sorted.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  for (const h of sorted) for (let i = 0; i < 64; i += 2) out.push(parseInt(h.slice(i, i + 2), 16));
  return new Uint8Array(out);
}

/**
 * Whether the replica's copy holds changes the server has not acknowledged: the shared heads of
 * its stored sync state do not cover the document's heads (PROTOCOL §7).
 */
export function hasUnacknowledgedChanges(doc, syncState) {
  if (!syncState) return A.getHeads(doc).length > 0;
  let shared;
  try {
    shared = A.decodeSyncState(syncState).sharedHeads;
  } catch {
    return true;
  }
  const heads = A.getHeads(doc);
  if (heads.every((h) => shared.includes(h))) return false;
  try {
    return !A.hasHeads(doc, shared) || A.saveSince(doc, shared).length > 0;
  } catch {
    return true;
  }
}

/**
 * The server keeps nothing it could not commit: a change whose dependencies did not arrive with it
 * is dropped, not queued (over HTTP it keeps nothing at all between requests). When it asks again
 * for a change this session already sent, a dependency never reached it, typically one its Bloom
 * filter falsely claimed to hold, which it cannot name. Automerge would not send a change twice,
 * nor one the filter claims, so the exchange would repeat for ever: send everything the server is
 * not known to hold (all changes since the shared heads), whatever its filter says. Mirrors
 * `resend_what_the_server_dropped` in sync/src/session/client.rs.
 */
export function resendWhatTheServerDropped(state) {
  const sent = state.sentHashes ?? {};
  const askedAgain = (state.theirNeed ?? []).some((hash) => (sent instanceof Map ? sent.has(hash) : Boolean(sent[hash])));
  if (!askedAgain) return state;
  return { ...state, sentHashes: {}, theirHave: [{ lastSync: [...state.sharedHeads], bloom: new Uint8Array(0) }] };
}

const sameSet = (a, b) => a.length === b.length && a.every((h) => b.includes(h));

/** The message would only tell the server heads it already announced: skip the closing ack. */
function onlyAcknowledges(message, before) {
  const decoded = A.decodeSyncMessage(message);
  return (
    decoded.changes.length === 0 &&
    decoded.need.length === 0 &&
    Array.isArray(before.theirHeads) &&
    sameSet(before.theirHeads, decoded.heads)
  );
}

export class ClientSession {
  /**
   * @param start `{ cursor: Uint8Array | null, pending: [docId], agent }`: `pending` are the cases
   *   with changes the server has not acknowledged; they are synced first.
   */
  constructor(start, limits = DEFAULT_LIMITS) {
    this.limits = { ...limits };
    this.phase = 'awaitWelcome';
    this.pending = [...start.pending];
    this.start = start;
    this.cursor = null;
    this.round = 0;
    this.queue = [];
    this.order = [];
    this.active = new Map();
    this.loading = new Set();
  }

  /** The hello that starts the session. */
  hello() {
    const message = { kind: 'hello', cursor: this.start.cursor ?? null, agent: this.start.agent };
    return [{ type: 'send', message, bytes: encodeHello(message) }];
  }

  get finished() {
    return this.phase === 'finished';
  }

  /** Decodes `bytes` with the session's limits and handles the message. */
  receive(bytes) {
    const out = [];
    let message;
    try {
      message = decodeServerMessage(bytes, this.limits);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (this.phase !== 'finished') this.fail(e.toFailure(), out);
      return out;
    }
    this.onMessage(message, out);
    return out;
  }

  /** The answer to a `load` output: `local` is `{ doc, syncState }`, or null if not held. */
  loaded(docId, local) {
    const out = [];
    if (this.phase !== 'loading' || !this.loading.delete(docId)) return out;
    if (local) {
      let state;
      try {
        state = local.syncState ? A.decodeSyncState(local.syncState) : A.initSyncState();
      } catch {
        state = A.initSyncState();
      }
      this.active.set(docId, { doc: local.doc, state, held: true, reset: false, step: { kind: 'sync' } });
    } else {
      this.active.set(docId, { doc: A.init(), state: A.initSyncState(), held: false, reset: false, step: { kind: 'sync' } });
    }
    if (this.loading.size === 0) this.advance(out);
    return out;
  }

  /** Ends the session from outside (a broken connection). */
  abort(reason) {
    const out = [];
    if (this.phase !== 'finished') this.fail(reason, out);
    return out;
  }

  fail(f, out) {
    this.phase = 'finished';
    this.active.clear();
    out.push({ type: 'failed', failure: f });
  }

  onMessage(message, out) {
    if (this.phase === 'finished') return;
    if (message.kind === 'error') {
      this.fail({ code: message.code, message: message.message, retry: message.retry }, out);
      return;
    }
    // Notify is for an idle connection; the caller starts another session after this one.
    if (message.kind === 'notify') return;
    if (this.phase === 'awaitWelcome' && message.kind === 'welcome') {
      this.onWelcome(message, out);
    } else if ((this.phase === 'awaitReply' || this.phase === 'awaitDone') && message.kind === 'batch' && message.round === this.round) {
      this.onBatch(message, out);
      this.advance(out);
    } else if (this.phase === 'awaitDone' && message.kind === 'done') {
      this.phase = 'finished';
      out.push({ type: 'finished', cursor: message.cursor });
    } else {
      this.fail(failure('unexpected_message'), out);
    }
  }

  onWelcome(welcome, out) {
    this.cursor = welcome.cursor;
    this.limits = minLimits(this.limits, welcome.limits);
    const gone = new Set(welcome.gone);
    for (const docId of gone) out.push({ type: 'forget', docId, reason: 'gone' });
    const seen = new Set();
    // The user's own work first, then what changed on the server.
    for (const docId of [...this.pending, ...welcome.changed]) {
      if (!gone.has(docId) && !seen.has(docId)) {
        seen.add(docId);
        this.queue.push(docId);
      }
    }
    this.pending = [];
    this.advance(out);
  }

  onBatch(batch, out) {
    for (const reply of batch.entries) {
      const active = this.active.get(reply.doc);
      switch (reply.type) {
        case 'sync': {
          notifyCompensations(reply.doc, reply.compensated, out);
          if (!active) continue;
          const before = A.getHeads(active.doc);
          try {
            const [doc, state] = A.receiveSyncMessage(active.doc, active.state, reply.sync);
            active.doc = doc;
            active.state = resendWhatTheServerDropped(state);
          } catch {
            this.fail(failure('malformed'), out);
            return;
          }
          const after = A.getHeads(active.doc);
          const update = sameSet(before, after) ? null : { kind: 'merge', bytes: A.saveSince(active.doc, before) };
          active.step = { kind: 'sync' };
          out.push({ type: 'store', docId: reply.doc, update, syncState: A.encodeSyncState(active.state) });
          break;
        }
        case 'saved': {
          if (!active) continue;
          active.step = { kind: 'finished' };
          out.push({
            type: 'store',
            docId: reply.doc,
            update: { kind: active.reset ? 'replace' : 'merge', bytes: reply.document },
            syncState: sharedHeadsSyncState(reply.heads),
          });
          break;
        }
        case 'rejected':
          this.refused(reply.doc, { code: reply.code, message: reply.message }, out);
          break;
        case 'deferred':
          notifyCompensations(reply.doc, reply.compensated, out);
          if (active && active.step.kind === 'sent') active.step = { kind: 'resend', bytes: active.step.bytes };
          break;
      }
    }
  }

  /** The server (or this client, for a message too large to send) refused the case. */
  refused(docId, why, out) {
    out.push({ type: 'notice', notice: { kind: 'rejected', docId, code: why.code, message: why.message } });
    const active = this.active.get(docId);
    if (!active) return;
    if (why.code === 'doc_too_large') {
      // Whatever the client sent is stored; only sending the case failed.
      active.step = { kind: 'finished' };
    } else if (why.code === 'not_found') {
      if (active.held && !active.reset) out.push({ type: 'stash', docId, rejection: why });
      out.push({ type: 'forget', docId, reason: 'not_found' });
      active.step = { kind: 'finished' };
    } else if (active.held && !active.reset) {
      // Keep the refused changes aside and take the server's copy, once per session.
      out.push({ type: 'stash', docId, rejection: why });
      this.active.set(docId, { doc: A.init(), state: A.initSyncState(), held: false, reset: true, step: { kind: 'refetch' } });
    } else {
      active.step = { kind: 'finished' };
    }
  }

  /** Brings queued cases into play, or sends the next batch. */
  advance(out) {
    if (this.phase === 'finished') return;
    for (;;) {
      const room = Math.max(0, this.limits.max_entries - this.order.length);
      const load = [];
      while (load.length < room && this.queue.length > 0) {
        const docId = this.queue.shift();
        if (!this.active.has(docId)) load.push(docId);
      }
      if (load.length > 0) {
        this.order.push(...load);
        for (const d of load) this.loading.add(d);
        this.phase = 'loading';
        out.push({ type: 'load', docIds: load });
        return;
      }
      const entries = this.nextEntries(out);
      if (entries.length === 0 && this.queue.length > 0) continue;
      this.round += 1;
      this.phase = entries.length === 0 ? 'awaitDone' : 'awaitReply';
      const message = { kind: 'batch', round: this.round, cursor: this.cursor, entries };
      out.push({ type: 'send', message, bytes: encodeBatch(message) });
      return;
    }
  }

  /** The entries of the next batch within the limits; cases with nothing more to say leave play. */
  nextEntries(out) {
    let left = Math.max(0, this.limits.max_message_bytes - FRAME_RESERVE);
    const entries = [];
    for (const docId of [...this.order]) {
      for (;;) {
        const active = this.active.get(docId);
        const before = active.state;
        let sync;
        let unsent;
        const step = active.step;
        if (step.kind === 'finished') break;
        if (step.kind === 'resend') {
          sync = step.bytes;
          unsent = step;
        } else {
          unsent = step.kind === 'refetch' ? { kind: 'refetch' } : { kind: 'sync' };
          const [state, message] = A.generateSyncMessage(active.doc, active.state);
          if (message === null || onlyAcknowledges(message, before)) {
            active.state = before;
            active.step = { kind: 'finished' };
            break;
          }
          active.state = state;
          sync = message;
        }
        const entry = { doc: docId, sync };
        const size = encodedEntryLength(entry);
        if (sync.length > this.limits.max_doc_message_bytes || size + FRAME_RESERVE > this.limits.max_message_bytes) {
          // The server would refuse it, or could not even receive it.
          active.state = before;
          this.refused(docId, rejection('too_large'), out);
          continue;
        }
        if (size > left) {
          // Next round: the state must not believe it was sent.
          active.state = before;
          active.step = unsent;
          break;
        }
        left -= size;
        active.step = { kind: 'sent', bytes: sync };
        entries.push(entry);
        break;
      }
    }
    this.order = this.order.filter((docId) => {
      const done = this.active.get(docId)?.step.kind === 'finished';
      if (done) this.active.delete(docId);
      return !done;
    });
    return entries;
  }
}

function notifyCompensations(docId, compensated, out) {
  for (const c of compensated) out.push({ type: 'notice', notice: { kind: 'compensated', docId, ...c } });
}
