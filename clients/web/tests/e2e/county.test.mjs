// County and township screens against seeded cases: a reconsideration officer accepts a handoff
// from the inbox and settles two concurrent values of a decision side by side; a mediator sees a
// case that left the township's custody read-only, with its outcome. Fails on console errors.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as A from '../../src/core/automerge.js';
import { newCaseDocument, readCase, setField, setText } from '../../src/core/schema/document.js';
import { newCaseId } from '../../src/core/schema/ids.js';
import { addParty, requestHandoff } from '../../src/core/schema/operations.js';
import { launchTablet } from './lib/browser.mjs';
import { DIST, ensureBuilt } from './lib/build.mjs';
import { USERS, startTestServer } from './lib/server.mjs';

const RESULTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const MEDIATOR = { id: 'wang.fang', unit: 'qingshan.xiahe', roles: ['mediator'] };
const intake = (title) => ({ kind: 'dispute', unit: MEDIATOR.unit, user: MEDIATOR.id, township: MEDIATOR.unit, title, createdAt: '2026-03-01T01:00:00Z' });
let server;
let browser;
const ids = { pending: newCaseId(), conflict: newCaseId() };

/** What the server writes: custody, handoff status. The stand-in has no ingest of its own. */
function asServer(doc, fn) {
  return A.change(A.clone(doc, { actor: '5e'.repeat(16) }), fn);
}

function seed(backend) {
  // A failed mediation the township asked to hand to the justice bureau; the server made it pending.
  let pending = newCaseDocument(intake('张三与李四宅基地确权纠纷'), (d) => {
    addParty(d, { role: 'applicant', kind: 'person', name: '张三' });
    setField(d, ['mediation', 'result'], 'failed');
    setText(d, ['mediation', 'routes_told'], '已告知可申请行政复议');
    setField(d, ['reconsideration', 'respondent_agency'], '青山县自然资源局');
    setField(d, ['reconsideration', 'act', 'name'], '宅基地使用权确权决定书');
    setField(d, ['reconsideration', 'act', 'known_on'], '2026-02-12');
    setText(d, ['reconsideration', 'request'], '请求撤销确权决定');
  });
  const c = readCase(pending);
  pending = A.change(pending, (d) =>
    requestHandoff(d, c, { user: MEDIATOR, toTrack: 'reconsideration', toUnit: 'qingshan.sifa', reason: '调解不成，申请人选择申请行政复议', id: 'h1' }),
  );
  pending = asServer(pending, (d) => {
    setField(d, ['meta', 'case_number'], '（2026）下河镇调字第3号');
    setField(d, ['handoffs', { id: 'h1' }, 'status'], 'pending');
  });
  backend.put(ids.pending, pending);

  // A case in the justice bureau's custody whose decision two devices set differently.
  let held = newCaseDocument(intake('王五不服行政处罚案'), (d) => addParty(d, { role: 'applicant', name: '王五' }));
  held = asServer(held, (d) => {
    setField(d, ['meta', 'case_number'], '（2026）青复字第7号');
    setField(d, ['custody', 'track'], 'reconsideration');
    setField(d, ['custody', 'unit'], 'qingshan.sifa');
    setField(d, ['custody', 'version'], 1);
    d.custody.history.push({});
    setField(d, ['custody', 'history', 0, 'track'], 'mediation');
    setField(d, ['custody', 'history', 0, 'unit'], MEDIATOR.unit);
  });
  const a = A.change(A.clone(held, { actor: 'a1'.repeat(16) }), (d) => setField(d, ['reconsideration', 'decision', 'kind'], 'upheld'));
  const b = A.change(A.clone(held, { actor: 'b2'.repeat(16) }), (d) => setField(d, ['reconsideration', 'decision', 'kind'], 'revoked'));
  backend.put(ids.conflict, A.merge(A.clone(a), b));
}

before(async () => {
  await mkdir(RESULTS, { recursive: true });
  await ensureBuilt();
  server = await startTestServer({ root: DIST });
  seed(server.backend);
  browser = await launchTablet();
  browser.page.setDefaultTimeout(15000);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function login(page, id) {
  await page.getByLabel('账号').fill(id);
  await page.getByLabel('密码').fill(USERS[id].password);
  await page.getByRole('button', { name: '登录' }).click();
}

test('a reconsideration officer accepts a handoff and settles concurrent values', async () => {
  const { page, consoleErrors } = browser;
  await page.goto(server.url);
  await login(page, 'zhao.lei');
  await page.getByRole('heading', { name: '移交待办' }).waitFor();
  const item = page.locator('.inbox-item', { hasText: '张三与李四宅基地确权纠纷' });
  await item.waitFor();
  await item.getByRole('button', { name: '检查移交材料是否齐全' }).click();
  await item.getByText('移交所需信息齐全。').waitFor();
  await page.screenshot({ path: `${RESULTS}11-inbox.png` });
  await item.getByRole('button', { name: '接收', exact: true }).click();
  await item.getByText('已接收').waitFor();
  await page.locator('.topbar .status[data-state="synced"]').waitFor({ timeout: 30000 });
  const decided = readCase(server.backend.docs.get(ids.pending).doc).handoffs[0].decision;
  assert.equal(decided.verdict, 'accept');
  assert.equal(decided.by, 'zhao.lei');

  await page.goto(`${server.url}#/case/${ids.conflict}/review`);
  const conflict = page.locator('.conflict');
  await conflict.waitFor();
  assert.match(await conflict.textContent(), /维持/);
  assert.match(await conflict.textContent(), /撤销/);
  await page.screenshot({ path: `${RESULTS}12-concurrent-values.png` });
  await conflict.locator('.choice', { hasText: '撤销' }).getByRole('button', { name: '采用此值' }).click();
  await page.getByText('没有同时填写的不同值。').waitFor();
  await page.getByRole('tab', { name: '行政复议' }).click();
  assert.equal(await page.getByLabel('复议决定').inputValue(), 'revoked');
  await page.screenshot({ path: `${RESULTS}13-reconsideration-form.png` });
  assert.deepEqual(consoleErrors, []);
});

test('a mediator sees a case that left the township read-only, with its outcome', async () => {
  const { page, consoleErrors } = browser;
  // The chosen value may not have synced yet: logging out warns, and keeps it on the device.
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: '退出' }).click();
  await login(page, 'wang.fang');
  await page.getByRole('heading', { name: '我的案件' }).waitFor();
  await page.getByRole('tab', { name: '已移出' }).click();
  await page.locator('.case-row', { hasText: '王五不服行政处罚案' }).click();
  const banner = page.locator('.banner-readonly');
  await banner.waitFor();
  assert.match(await banner.textContent(), /本案已移出您单位的管辖/);
  assert.match(await banner.textContent(), /复议决定：撤销/);
  assert.ok(await page.getByLabel('案件名称').isDisabled());
  await page.screenshot({ path: `${RESULTS}14-left-custody.png` });
  assert.deepEqual(consoleErrors, []);
});
