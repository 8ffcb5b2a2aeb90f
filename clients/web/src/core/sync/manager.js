// Keeps the replica in step with the server: connects when the device is online, runs a session
// (`session.js`) on connect, after local edits and when the server notifies, reconnects with a
// growing delay, refreshes the access token when the server says it expired, and turns every
// refusal, reverted change and departed case into a notice the user sees (PROTOCOL §8: never
// silently dropped). It also says, at every moment, what the status indicator shows.

import { AuthError, NetworkError } from '../auth.js';
import { custodian } from '../schema/policy.js';
import { label } from '../schema/vocab.js';
import { formatInstant, instant } from '../schema/time.js';
import { ClientSession } from './session.js';
import { decodeServerMessage, failure as protocolFailure } from './protocol.js';

const RECONNECT_DELAYS_MS = [2000, 5000, 15000, 30000, 60000];
const LOCAL_EDIT_DEBOUNCE_MS = 800;
/** After this many WebSocket connections that never opened, sessions go over HTTP for a while. */
const WEBSOCKET_FAILURES_BEFORE_HTTP = 2;
const HTTP_FALLBACK_MS = 5 * 60 * 1000;

/** The four states of the status indicator, with their Chinese labels. */
export const STATUS_LABELS = {
  offline: '离线',
  pending: '有未同步的修改',
  synced: '已同步',
  error: '同步出错',
};

export class SyncManager {
  /**
   * @param replica the user's `Replica`
   * @param auth the user's `Auth`
   * @param transports `{ websocket, http }` (see transport.js); http is optional
   * @param agent the client program and version, for the server's logs
   * @param isOnline `() => boolean`, the browser's idea of the network
   */
  constructor({ replica, auth, transports, agent, isOnline = () => true, delays = RECONNECT_DELAYS_MS, debounceMs = LOCAL_EDIT_DEBOUNCE_MS }) {
    this.replica = replica;
    this.auth = auth;
    this.transports = transports;
    this.agent = agent;
    this.isOnline = isOnline;
    this.delays = delays;
    this.debounceMs = debounceMs;
    this.channel = null;
    this.channelKind = null;
    this.connection = 'offline';
    this.offlineReason = '';
    this.session = null;
    this.again = false;
    this.chain = Promise.resolve();
    this.lastError = null;
    this.lastSyncedAt = null;
    /** Sessions completed since start, so callers can wait for the next one. */
    this.completed = 0;
    this.attempt = 0;
    this.wsFailures = 0;
    this.httpUntil = 0;
    this.timers = new Set();
    this.listeners = new Set();
    this.stopped = true;
    this.debounce = null;
    this.unauthorizedRetries = 0;
    this.stashed = new Set();
  }

  // -- lifecycle ----------------------------------------------------------------------------

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.unsubscribe = this.replica.subscribe((event) => {
      if (event.type === 'case' && event.origin === 'local') this.requestSync();
      if (event.type === 'case' || event.type === 'storage-error') this.emit();
    });
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.unsubscribe?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    clearTimeout(this.debounce);
    this.channel?.close();
    this.channel = null;
    this.connection = 'offline';
    this.emit();
  }

  /** Resolves when the work of the current session so far is done (for tests). */
  idle() {
    return this.chain;
  }

  /** The browser went online or offline. */
  networkChanged() {
    if (this.isOnline()) {
      this.attempt = 0;
      this.connect();
    } else {
      this.channel?.close();
      this.dropChannel('设备未联网');
    }
    this.emit();
  }

  /** Sync now (the user asked, or a case was edited). */
  syncNow() {
    this.lastError = this.lastError?.sticky ? this.lastError : null;
    this.attempt = 0;
    if (this.channel && this.connection === 'connected') this.runSession();
    else this.connect();
    this.emit();
  }

  /** A local edit: sync soon, once the person pauses. */
  requestSync() {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      if (this.session) this.again = true;
      else if (this.channel && this.connection === 'connected') this.runSession();
      else this.connect();
    }, this.debounceMs);
  }

  // -- status -------------------------------------------------------------------------------

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    const status = this.status();
    for (const l of this.listeners) l(status);
  }

  /** What the status indicator shows: `{ state, label, detail, syncing, pending }`. */
  status() {
    const pending = this.replica.pendingIds().length;
    const syncing = this.session !== null;
    const pendingText = pending > 0 ? `${pending} 个案件有未同步的修改` : '';
    let state;
    let detail;
    if (this.lastError && (this.lastError.sticky || this.isOnline())) {
      state = 'error';
      detail = this.lastError.message;
    } else if (!this.isOnline() || (this.connection !== 'connected' && !syncing)) {
      state = this.connection === 'connecting' && pending === 0 && this.lastSyncedAt ? 'synced' : 'offline';
      detail = [this.offlineReason, pendingText].filter(Boolean).join('；');
      if (state === 'synced') detail = '正在连接服务器…';
    } else if (pending > 0) {
      state = 'pending';
      detail = syncing ? `正在同步 ${pending} 个案件` : pendingText;
    } else {
      state = 'synced';
      detail = this.lastSyncedAt ? `上次同步：${formatInstant(this.lastSyncedAt)}` : '';
    }
    return { state, label: STATUS_LABELS[state], detail, syncing, pending, error: this.lastError };
  }

  // -- connection ---------------------------------------------------------------------------

  transport() {
    if (this.transports.http && Date.now() < this.httpUntil) return this.transports.http;
    return this.transports.websocket ?? this.transports.http;
  }

  async connect() {
    if (this.stopped || this.channel || this.connection === 'connecting') return;
    if (!this.isOnline()) {
      this.connection = 'offline';
      this.offlineReason = '设备未联网';
      this.emit();
      return;
    }
    this.connection = 'connecting';
    this.emit();
    let token;
    try {
      token = await this.auth.accessToken();
    } catch (e) {
      this.connection = 'offline';
      if (e instanceof AuthError) {
        this.lastError = { code: e.code, message: `${e.message}（请重新登录后同步，本机上的案件不会丢失）`, sticky: e.needsLogin, login: e.needsLogin };
      } else {
        this.offlineReason = e instanceof NetworkError ? e.message : '无法连接服务器';
        this.scheduleReconnect();
      }
      this.emit();
      return;
    }
    if (this.stopped) return;
    const transport = this.transport();
    this.channelKind = transport.kind;
    const channel = transport.open(token, {
      onOpen: () => this.onOpen(channel),
      onMessage: (bytes) => this.onMessage(channel, bytes),
      onClose: (info) => this.onClose(channel, info),
    });
    this.channel = channel;
  }

  onOpen(channel) {
    if (channel !== this.channel) return;
    this.connection = 'connected';
    this.offlineReason = '';
    this.attempt = 0;
    if (this.channelKind === 'websocket') this.wsFailures = 0;
    this.emit();
    this.runSession();
  }

  onMessage(channel, bytes) {
    if (channel !== this.channel) return;
    if (this.session && !this.session.starting) {
      const session = this.session;
      this.enqueue(() => this.process(session, session.receive(bytes)));
      return;
    }
    // Between sessions the server only notifies, or says why it is closing.
    try {
      const message = decodeServerMessage(bytes);
      if (message.kind === 'notify') this.runSession();
      else if (message.kind === 'error') this.sessionFailed({ code: message.code, message: message.message, retry: message.retry });
    } catch {
      // Not a message: the server will close the connection.
    }
  }

  onClose(channel, info) {
    if (channel !== this.channel) return;
    if (this.channelKind === 'websocket' && !info.opened) {
      this.wsFailures += 1;
      if (this.wsFailures >= WEBSOCKET_FAILURES_BEFORE_HTTP && this.transports.http) this.httpUntil = Date.now() + HTTP_FALLBACK_MS;
    }
    const session = this.session;
    this.dropChannel('无法连接服务器');
    if (session?.starting) {
      this.session = null;
    } else if (session) {
      this.enqueue(() => this.process(session, session.abort({ ...protocolFailure('unavailable'), network: true })));
    }
    this.scheduleReconnect();
    this.emit();
  }

  dropChannel(reason) {
    this.channel = null;
    this.connection = 'offline';
    this.offlineReason = reason;
  }

  scheduleReconnect(delay) {
    if (this.stopped) return;
    const ms = delay ?? this.delays[Math.min(this.attempt, this.delays.length - 1)];
    this.attempt += 1;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.connect();
    }, ms);
    this.timers.add(timer);
  }

  enqueue(work) {
    this.chain = this.chain.then(work).catch((e) => {
      console.error('sync failed', e);
      this.lastError = { code: 'client', message: `同步时本机出错：${e.message}` };
      if (this.session) {
        this.session = null;
        this.channel?.close();
        this.dropChannel('同步出错');
        this.scheduleReconnect();
      }
      this.emit();
    });
    return this.chain;
  }

  // -- sessions -----------------------------------------------------------------------------

  runSession() {
    if (this.stopped) return;
    if (this.session) {
      this.again = true;
      return;
    }
    if (!this.channel || this.connection !== 'connected') {
      this.connect();
      return;
    }
    this.again = false;
    // Claimed synchronously so that a second call waits for this session.
    const claim = { starting: true };
    this.session = claim;
    this.emit();
    this.enqueue(async () => {
      const cursor = (await this.replica.getMeta('cursor')) ?? null;
      if (this.session !== claim) return;
      const session = new ClientSession({ cursor, pending: this.replica.pendingIds(), agent: this.agent });
      this.session = session;
      /** Cases whose copy this session already stashed (a refusal, then the refetch). */
      this.stashed = new Set();
      await this.process(session, session.hello());
    });
  }

  async process(session, outputs) {
    for (const output of outputs) {
      if (session !== this.session) return;
      await this.apply(session, output);
    }
  }

  async apply(session, o) {
    switch (o.type) {
      case 'send':
        if (!this.channel) {
          await this.process(session, session.abort({ ...protocolFailure('unavailable'), network: true }));
          return;
        }
        this.channel.send(o.bytes);
        return;
      case 'load':
        for (const docId of o.docIds) {
          const local = await this.replica.forSession(docId);
          await this.process(session, session.loaded(docId, local));
        }
        return;
      case 'store': {
        const { before, after } = await this.replica.store(o.docId, o.update, o.syncState);
        await this.noticeChanges(o.docId, before, after);
        return;
      }
      case 'notice':
        // The refusal of the refetch after a refusal says nothing new: the first one was shown.
        if (o.notice.kind === 'rejected' && this.stashed.has(o.notice.docId)) return;
        await this.notice(o.notice);
        return;
      case 'stash':
        this.stashed.add(o.docId);
        await this.replica.stash(o.docId, o.rejection);
        return;
      case 'forget': {
        const title = this.title(o.docId);
        const why =
          o.reason === 'gone'
            ? { code: 'gone', message: '您已无权查看该案件' }
            : { code: 'not_found', message: '案件不存在，或您无权查看该案件' };
        const already = this.stashed.has(o.docId);
        const stashed = (await this.replica.forget(o.docId, why, { stash: !already })) || already;
        if (o.reason === 'gone' || stashed) {
          await this.replica.addNotice({
            kind: 'gone',
            docId: o.docId,
            title,
            message: stashed
              ? `案件「${title}」${why.message}，已从本机移除；本机未同步的修改已保存在“被拒绝的修改”中。`
              : `案件「${title}」${why.message}，已从本机移除。`,
          });
        }
        return;
      }
      case 'finished':
        await this.replica.setMeta('cursor', o.cursor);
        this.sessionFinished();
        return;
      case 'failed':
        this.sessionFailed(o.failure);
        return;
    }
  }

  sessionFinished() {
    this.session = null;
    this.lastError = null;
    this.unauthorizedRetries = 0;
    this.lastSyncedAt = instant();
    this.completed += 1;
    this.emit();
    if (this.again) this.runSession();
  }

  sessionFailed(failure) {
    this.session = null;
    if (failure.network) {
      // The connection broke: onClose reports and reconnects.
      this.emit();
      return;
    }
    this.channel?.close();
    this.dropChannel('同步已中止');
    if (failure.code === 'unauthorized' && this.unauthorizedRetries < 1) {
      // The access token expired during the connection: refresh it and start again.
      this.unauthorizedRetries += 1;
      this.auth.expireAccessToken();
      this.scheduleReconnect(0);
    } else if (failure.retry) {
      this.lastError = { code: failure.code, message: failure.message };
      this.scheduleReconnect();
    } else {
      // Not worth retrying by itself (a revoked device, an unsupported version): the person must act.
      this.lastError = { code: failure.code, message: failure.message, sticky: failure.code === 'device_revoked' };
    }
    this.emit();
  }

  // -- notices ------------------------------------------------------------------------------

  title(docId) {
    const summary = this.replica.index.get(docId)?.summary;
    return summary?.title || summary?.caseNumber || docId;
  }

  async notice(n) {
    const title = this.title(n.docId);
    if (n.kind === 'rejected') {
      await this.replica.addNotice({ kind: 'rejected', docId: n.docId, title, code: n.code, message: `案件「${title}」：${n.message}` });
    } else {
      await this.replica.addNotice({
        kind: 'compensated',
        docId: n.docId,
        title,
        section: n.section,
        reviewItem: n.reviewItem,
        reverted: n.reverted,
        message: `案件「${title}」的「${label('section', n.section) || n.section}」部分：${n.reason}`,
      });
    }
  }

  /** Tells the user what the server changed that concerns them: custody moved, handoffs decided. */
  async noticeChanges(docId, before, after) {
    if (!before || !after) return;
    const user = this.auth.user;
    const title = after.meta.title || after.meta.case_number || docId;
    const was = custodian(before);
    const now = custodian(after);
    if (was.unit === user.unit && now.unit !== user.unit) {
      await this.replica.addNotice({
        kind: 'custody_left',
        docId,
        title,
        message: `案件「${title}」已移交至${now.unit}（${label('track', now.track)}），本机上的该案件已转为只读，可继续查看办理结果。`,
      });
    }
    for (const h of after.handoffs) {
      const old = before.handoffs.find((x) => x.id === h.id);
      if (!old || old.status === h.status) continue;
      const mine = h.requested_by === user.id || h.from_unit === user.unit;
      const toMe = h.to_unit === user.unit;
      if (mine && ['invalid', 'superseded', 'rejected', 'accepted'].includes(h.status)) {
        const why = h.status_reason || h.decision.note;
        await this.replica.addNotice({
          kind: 'handoff',
          docId,
          title,
          message: `案件「${title}」的移交申请${label('handoff_status', h.status)}${why ? `：${why}` : ''}`,
        });
      } else if (toMe && h.status === 'pending') {
        await this.replica.addNotice({ kind: 'inbox', docId, title, message: `收到案件「${title}」的移交申请，请在“移交待办”中接收或拒绝。` });
      }
    }
  }
}
