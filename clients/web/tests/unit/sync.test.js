// Sync sessions against a stand-in server (tests/support/fake-server.js) with the real replica on
// an in-memory IndexedDB: a fresh device bootstraps, a case made offline reaches the server,
// edits flow both ways, and refusals, reverted changes and departed cases reach the user.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../src/core/automerge.js';
import { Auth } from '../../src/core/auth.js';
import { Replica } from '../../src/core/replica/replica.js';
import { newCaseDocument, readCase, setField, setText } from '../../src/core/schema/document.js';
import { newCaseId } from '../../src/core/schema/ids.js';
import { SyncManager } from '../../src/core/sync/manager.js';
import { ClientSession, hasUnacknowledgedChanges, resendWhatTheServerDropped, sharedHeadsSyncState } from '../../src/core/sync/session.js';
import { FakeServer } from '../support/fake-server.js';
import { memoryTransport } from '../support/memory-transport.js';

const USER = { id: 'wang.fang', name: '王芳', unit: 'qingshan.xiahe', roles: ['mediator'] };
let users = 0;

const intake = (title) => ({
  kind: 'dispute',
  unit: USER.unit,
  user: USER.id,
  township: USER.unit,
  title,
  createdAt: '2026-03-01T00:00:00Z',
});

function fixedAuth() {
  return { user: USER, accessToken: async () => 'token-1', expireAccessToken() {} };
}

async function device(server, { auth = fixedAuth(), online = { value: true }, transport } = {}) {
  users += 1;
  const replica = await Replica.open(`test-user-${users}`);
  const manager = new SyncManager({
    replica,
    auth,
    transports: { websocket: transport ?? memoryTransport(server) },
    agent: 'web-test/1',
    isOnline: () => online.value,
    delays: [5, 5, 5],
    debounceMs: 1,
  });
  return { replica, manager, online };
}

/** Waits until `predicate()` holds, checking after every status change, or fails after 5 s. */
function waitFor(manager, predicate, what) {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      stop();
      reject(new Error(`timed out waiting for ${what}; status ${JSON.stringify(manager.status())}`));
    }, 5000);
    const check = () => {
      if (predicate()) {
        stop();
        resolve();
      }
    };
    const poll = setInterval(check, 10);
    const unsubscribe = manager.subscribe(check);
    function stop() {
      clearTimeout(deadline);
      clearInterval(poll);
      unsubscribe();
    }
    check();
  });
}

async function syncOnce(manager) {
  const before = manager.completed;
  manager.syncNow();
  await waitFor(manager, () => (manager.completed > before || manager.lastError) && !manager.session, 'a session');
  await manager.idle();
}

test('a fresh device bootstraps from saved documents and stores the cursor', async () => {
  const server = new FakeServer();
  const ids = [newCaseId(), newCaseId()];
  server.put(ids[0], newCaseDocument(intake('甲案')));
  server.put(ids[1], newCaseDocument(intake('乙案')));
  const { replica, manager } = await device(server);
  manager.start();
  await waitFor(manager, () => manager.lastSyncedAt && !manager.session, 'the first session');
  assert.deepEqual(replica.list().map((e) => e.summary.title).sort(), ['乙案', '甲案']);
  assert.deepEqual(replica.pendingIds(), [], 'saved documents are acknowledged');
  assert.ok(await replica.getMeta('cursor'));
  assert.equal(manager.status().label, '已同步');
  manager.stop();
});

test('a case created offline reaches the server once online, and is then acknowledged', async () => {
  const server = new FakeServer();
  const online = { value: false };
  const { replica, manager } = await device(server, { online });
  manager.start();
  const id = await replica.create(intake('离线新建的案件'), (d) => setText(d, ['claims', 'claims'], '要求赔偿'));
  assert.equal(manager.status().label, '离线');
  assert.match(manager.status().detail, /1 个案件有未同步的修改/);
  online.value = true;
  manager.networkChanged();
  await waitFor(manager, () => replica.pendingIds().length === 0 && !manager.session, 'acknowledgement');
  assert.equal(readCase(server.docs.get(id).doc).claims.claims, '要求赔偿');
  assert.equal(manager.status().state, 'synced');
  manager.stop();
});

test('edits flow both ways and converge; a notify pulls the server side', async () => {
  const server = new FakeServer();
  const id = newCaseId();
  server.put(id, newCaseDocument(intake('双向修改')));
  const { replica, manager } = await device(server);
  manager.start();
  await waitFor(manager, () => replica.has(id) && !manager.session, 'bootstrap');
  await replica.change(id, 'local', (d) => setField(d, ['meta', 'village'], '东村'));
  server.edit(id, (d) => setText(d, ['claims', 'facts'], '另一台设备补充的事实'));
  await waitFor(manager, () => replica.pendingIds().length === 0 && !manager.session, 'the local edit to sync');
  await syncOnce(manager);
  const local = readCase(await replica.doc(id));
  const remote = readCase(server.docs.get(id).doc);
  assert.equal(local.meta.village, '东村');
  assert.equal(local.claims.facts, '另一台设备补充的事实');
  assert.deepEqual(local, remote);
  manager.stop();
});

test('a refused case is stashed, shown, and replaced by the server copy; the others go on', async () => {
  const server = new FakeServer();
  const refused = newCaseId();
  server.put(refused, newCaseDocument(intake('被拒绝的案件')));
  const { replica, manager } = await device(server);
  manager.start();
  await waitFor(manager, () => replica.has(refused) && !manager.session, 'bootstrap');
  await replica.change(refused, 'late edit', (d) => setField(d, ['meta', 'village'], '西村'));
  await replica.create(intake('正常的案件'), () => {});
  const fineId = replica.list().find((e) => e.summary.title === '正常的案件').id;
  server.rejections.set(refused, { code: 'no_write_access', message: '您没有修改该案件的权限，本次修改未保存。', times: 1 });
  await waitFor(manager, () => replica.pendingIds().length === 0 && !manager.session, 'the session');
  assert.ok(server.docs.has(fineId), 'the other case reached the server');
  const [stashed] = await replica.stashEntries();
  assert.equal(stashed.docId, refused);
  assert.equal(stashed.code, 'no_write_access');
  assert.equal(readCase(A.load(stashed.document)).meta.village, '西村', 'the refused edit is kept in the stash');
  assert.equal(readCase(await replica.doc(refused)).meta.village, '', 'the replica holds the server copy');
  const notices = await replica.notices();
  assert.ok(notices.some((n) => n.kind === 'rejected' && n.message === '案件「被拒绝的案件」：您没有修改该案件的权限，本次修改未保存。'));
  manager.stop();
});

test('compensated changes are shown with the section', async () => {
  const server = new FakeServer();
  const id = newCaseId();
  server.put(id, newCaseDocument(intake('已移交的案件')));
  const { replica, manager } = await device(server);
  manager.start();
  await waitFor(manager, () => replica.has(id) && !manager.session, 'bootstrap');
  server.compensations.set(id, { section: 'mediation', reason: '案件已移交，移交后提交的修改已被撤销。', review_item: 'r1' });
  await replica.change(id, 'late', (d) => setText(d, ['mediation', 'follow_up', 'notes'], '回访'));
  await waitFor(manager, () => replica.pendingIds().length === 0 && !manager.session, 'the session');
  const notices = await replica.notices();
  const n = notices.find((x) => x.kind === 'compensated');
  assert.equal(n.message, '案件「已移交的案件」的「调解」部分：案件已移交，移交后提交的修改已被撤销。');
  assert.equal(n.reviewItem, 'r1');
  manager.stop();
});

test('a case no longer readable is removed, and stashed if it held unsynced edits', async () => {
  const server = new FakeServer();
  const [clean, edited] = [newCaseId(), newCaseId()];
  server.put(clean, newCaseDocument(intake('无修改')));
  server.put(edited, newCaseDocument(intake('有修改')));
  const online = { value: true };
  const { replica, manager } = await device(server, { online });
  manager.start();
  await waitFor(manager, () => replica.has(edited) && replica.has(clean) && !manager.session, 'bootstrap');
  online.value = false;
  manager.networkChanged();
  await replica.change(edited, 'offline', (d) => setField(d, ['meta', 'village'], '南村'));
  server.unreadable.add(clean);
  server.unreadable.add(edited);
  online.value = true;
  manager.networkChanged();
  await waitFor(manager, () => !replica.has(edited) && !replica.has(clean) && !manager.session, 'forgetting');
  const stash = await replica.stashEntries();
  assert.deepEqual(stash.map((s) => s.docId), [edited]);
  const notices = await replica.notices();
  assert.equal(notices.filter((n) => n.kind === 'gone').length, 2);
  manager.stop();
});

test('custody moving away and handoff decisions become notices', async () => {
  const server = new FakeServer();
  const id = newCaseId();
  server.put(id, newCaseDocument(intake('移交案件'), (d) => {
    d.handoffs.push({});
    const h = d.handoffs[0];
    h.id = new A.ImmutableString('h1');
    h.requested_by = new A.ImmutableString(USER.id);
    h.status = new A.ImmutableString('pending');
  }));
  const { replica, manager } = await device(server);
  manager.start();
  await waitFor(manager, () => replica.has(id) && !manager.session, 'bootstrap');
  server.edit(id, (d) => {
    d.custody.unit = new A.ImmutableString('qingshan.sifa');
    d.custody.track = new A.ImmutableString('reconsideration');
    d.handoffs[0].status = new A.ImmutableString('accepted');
  });
  await syncOnce(manager);
  const kinds = (await replica.notices()).map((n) => n.kind).sort();
  assert.deepEqual(kinds, ['custody_left', 'handoff']);
  manager.stop();
});

test('an expired access token is refreshed and the session runs again', async () => {
  const server = new FakeServer();
  server.tokens = new Set(['fresh-token']);
  const id = newCaseId();
  server.put(id, newCaseDocument(intake('令牌过期')));
  let refreshes = 0;
  const fetchStub = async (url, init) => {
    assert.match(url, /\/v1\/auth\/refresh$/);
    assert.deepEqual(JSON.parse(init.body), { refresh_token: `refresh-${refreshes}` });
    refreshes += 1;
    const session = { access_token: 'fresh-token', token_type: 'Bearer', expires_at: 4e9, refresh_token: `refresh-${refreshes}`, refresh_expires_at: 4e9, user: USER, device_id: 'web-1' };
    return new Response(JSON.stringify(session), { status: 200 });
  };
  const saved = [];
  const auth = new Auth({
    fetch: fetchStub,
    session: { access_token: 'old-token', expires_at: 4e9, refresh_token: 'refresh-0', user: USER },
    save: async (s) => saved.push(s),
  });
  const { replica, manager } = await device(server, { auth });
  manager.start();
  await waitFor(manager, () => replica.has(id) && !manager.session, 'the retried session');
  assert.equal(refreshes, 1);
  assert.equal(saved[0].refresh_token, 'refresh-1', 'the rotated refresh token is kept');
  manager.stop();
});

test('a refused refresh token asks for a new login and keeps the cases', async () => {
  const server = new FakeServer();
  const auth = new Auth({
    fetch: async () => new Response(JSON.stringify({ code: 'refresh_expired', message: '登录已过期，请重新登录' }), { status: 401 }),
    session: { access_token: 'old', expires_at: 0, refresh_token: 'r', user: USER },
    save: async () => {},
  });
  const { replica, manager } = await device(server, { auth });
  await replica.create(intake('保留的案件'), () => {});
  manager.start();
  await waitFor(manager, () => manager.lastError, 'the refusal');
  const status = manager.status();
  assert.equal(status.label, '同步出错');
  assert.match(status.detail, /登录已过期/);
  assert.ok(status.error.login);
  assert.equal(replica.list().length, 1);
  manager.stop();
});

test('a session message over the document limit is refused locally, never sent', () => {
  const doc = newCaseDocument(intake('过大'), (d) => setText(d, ['claims', 'facts'], '很长的事实'.repeat(400)));
  const limits = { max_message_bytes: 8388608, max_entries: 256, max_doc_message_bytes: 1024 };
  const session = new ClientSession({ cursor: null, pending: ['ujFMvSEi2ULTeL3PGRvCBJw9us5'], agent: 't' }, limits);
  session.hello();
  const welcome = new FakeServer({ limits }).connect().handle(new Uint8Array([0x83, 0x02, 0x65, ...Buffer.from('hello'), 0xa2, 0x66, ...Buffer.from('cursor'), 0xf6, 0x65, ...Buffer.from('agent'), 0x61, 0x74]));
  const load = session.receive(welcome);
  assert.deepEqual(load.map((o) => o.type), ['load']);
  const out = session.loaded('ujFMvSEi2ULTeL3PGRvCBJw9us5', { doc, syncState: null });
  // The first message carries only heads; generating it fits. The changes follow after the reply.
  assert.equal(out.at(-1).type, 'send');
  assert.ok(hasUnacknowledgedChanges(doc, null));
  assert.ok(!hasUnacknowledgedChanges(doc, sharedHeadsSyncState(A.getHeads(doc))));
});

test('changes the server asks for again are sent again, whatever its Bloom filter said', () => {
  let a = newCaseDocument(intake('重发'));
  a = A.change(a, (d) => setField(d, ['meta', 'village'], '东村'));
  a = A.change(a, (d) => setField(d, ['meta', 'village'], '西村'));
  let b = A.init();
  let sa = A.initSyncState();
  let sb = A.initSyncState();
  let m;
  [sa, m] = A.generateSyncMessage(a, sa);
  [b, sb] = A.receiveSyncMessage(b, sb, m);
  [sb, m] = A.generateSyncMessage(b, sb);
  [a, sa] = A.receiveSyncMessage(a, sa, m);
  [sa, m] = A.generateSyncMessage(a, sa);
  assert.ok(A.decodeSyncMessage(m).changes.length > 0);
  // The server dropped what it got (a dependency never arrived whole) and asks for the newest again.
  const all = A.getAllChanges(a).length;
  const asked = { ...sa, inFlight: false, theirNeed: [A.getHeads(a)[0]] };
  const reset = resendWhatTheServerDropped(asked);
  // Nothing counts as sent, and the server's filter is replaced by one that claims nothing.
  assert.deepEqual(reset.sentHashes, {});
  assert.deepEqual(reset.theirHave, [{ lastSync: asked.sharedHeads, bloom: new Uint8Array(0) }]);
  // A v2 sync message may pack several changes into one entry: count what a peer can apply.
  const applicable = (message) => A.getAllChanges(A.receiveSyncMessage(A.init(), A.initSyncState(), message)[0]).length;
  const [, fixed] = A.generateSyncMessage(a, reset);
  assert.equal(applicable(fixed), all, 'everything since the shared heads goes again');
  const fresh = A.initSyncState();
  assert.equal(resendWhatTheServerDropped(fresh), fresh, 'nothing changes when nothing was asked again');
});
