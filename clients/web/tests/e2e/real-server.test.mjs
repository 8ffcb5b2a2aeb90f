// The sync client against the real Fengqiao server (lib/fengqiao.mjs: the demo county on a fresh
// database), over both transports: the same core the browser runs (replica, session, manager)
// driven from Node, with `ws` as WebSocket.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Auth, login } from '../../src/core/auth.js';
import { Replica } from '../../src/core/replica/replica.js';
import { readCase, setText } from '../../src/core/schema/document.js';
import { addParty } from '../../src/core/schema/operations.js';
import { instant } from '../../src/core/schema/time.js';
import { SyncManager } from '../../src/core/sync/manager.js';
import { httpTransport, webSocketTransport } from '../../src/core/sync/transport.js';
import 'fake-indexeddb/auto';
import { PASSWORD, USERS, startFengqiao } from './lib/fengqiao.mjs';

const MEDIATOR = { id: USERS.mediator, password: PASSWORD };
/** A township not the mediator's (server/src/demo.rs). */
const OTHER_TOWNSHIP = 'yunxi.dongba';
let server;
let BASE;

before(async () => {
  server = await startFengqiao({ cases: 0 });
  BASE = server.origin;
});

after(() => server?.close());

async function deviceFor(kind) {
  const session = await login({ baseUrl: BASE, userId: MEDIATOR.id, password: MEDIATOR.password, deviceId: `web-e2e-${kind}-${Date.now()}`, deviceName: '网页端测试' });
  const replica = await Replica.open(`e2e-${kind}-${Date.now()}`);
  const auth = new Auth({ baseUrl: BASE, session, save: async () => {} });
  const transports =
    kind === 'http'
      ? { http: httpTransport({ url: `${BASE}/v1/sync` }) }
      : { websocket: webSocketTransport({ url: `${BASE.replace(/^http/, 'ws')}/v1/sync`, WebSocket }) };
  const manager = new SyncManager({ replica, auth, transports, agent: 'fengqiao-web-e2e/1', debounceMs: 10 });
  return { session, replica, manager };
}

async function until(predicate, what, ms = 20000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const kind of ['websocket', 'http']) {
  test(`a case opened on the device is registered by the server (${kind})`, async () => {
    const { session, replica, manager } = await deviceFor(kind);
    const id = await replica.create(
      { kind: 'dispute', unit: session.user.unit, user: session.user.id, township: session.user.unit, title: '端到端测试案件', createdAt: instant() },
      (d) => {
        addParty(d, { role: 'applicant', kind: 'person', name: '张三' });
        setText(d, ['claims', 'claims'], '要求赔偿');
      },
    );
    manager.start();
    try {
      await until(async () => readCase(await replica.doc(id)).meta.case_number && replica.pendingIds().length === 0 && !manager.session, 'registration');
      const c = readCase(await replica.doc(id));
      assert.match(c.meta.case_number, /调字第\d+号/);
      assert.equal(c.custody.unit, session.user.unit);
      assert.equal(c.custody.track, 'mediation');
      const before = manager.completed;
      await replica.change(id, '协议', (d) => setText(d, ['mediation', 'agreement', 'terms'], '李某于三十日内拆除越界围墙'));
      await until(() => manager.completed > before && replica.pendingIds().length === 0 && !manager.session, 'the edit to sync');
      assert.equal(manager.lastError, null);
    } finally {
      manager.stop();
    }
  });
}

test('a case the user may not open is refused, stashed once and removed', async () => {
  const { session, replica, manager } = await deviceFor('websocket');
  const id = await replica.create(
    { kind: 'dispute', unit: OTHER_TOWNSHIP, user: session.user.id, township: OTHER_TOWNSHIP, title: '越权登记的案件', createdAt: instant() },
    () => {},
  );
  manager.start();
  try {
    await until(() => !replica.has(id) && !manager.session, 'the refusal');
    const stash = await replica.stashEntries();
    assert.deepEqual(stash.map((s) => [s.docId, s.code]), [[id, 'may_not_open']]);
    const kinds = (await replica.notices()).map((n) => n.kind).sort();
    assert.deepEqual(kinds, ['gone', 'rejected']);
  } finally {
    manager.stop();
  }
});
