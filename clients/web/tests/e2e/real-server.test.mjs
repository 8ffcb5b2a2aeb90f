// The sync client against the real Fengqiao server, when one is running: set
// FENGQIAO_SERVER_URL (e.g. http://127.0.0.1:8080) to a server that imported
// server/examples/county.toml. Without it these tests are skipped. They drive the same core the
// browser runs (replica, session, manager, both transports) from Node, with `ws` as WebSocket.

import { test } from 'node:test';
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

const BASE = process.env.FENGQIAO_SERVER_URL?.replace(/\/$/, '');
const skip = BASE ? false : 'set FENGQIAO_SERVER_URL to run against a real server';
const MEDIATOR = { id: 'wang.fang', password: 'xiahe-tiaojie-2026' };

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
  test(`a case opened on the device is registered by the server (${kind})`, { skip }, async () => {
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

test('a case the user may not open is refused, stashed once and removed', { skip }, async () => {
  const { session, replica, manager } = await deviceFor('websocket');
  const id = await replica.create(
    { kind: 'dispute', unit: 'qingshan.shangping', user: session.user.id, township: 'qingshan.shangping', title: '越权登记的案件', createdAt: instant() },
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
