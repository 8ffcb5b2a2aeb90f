// The tablet app against the real server (`fengqiao serve` with the demo county, serving dist/):
// a mediator records a case offline and finds it after an offline reload, then the case reaches
// the server; the mediator hands it to reconsideration and a county officer accepts it in a
// second browser and finds the case's deadlines as the server lists them, online and after an
// offline reload; two mediators edit one agreement offline and see the merged text, settle the
// value they set at once side by side and mark the server's review item done; a supervisor's
// dashboard shows the figures of /v1/stats and downloads the annual report. Every screen is
// photographed at 1280×800 into test-results/screenshots/; any console or page error fails.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchTablet } from './lib/browser.mjs';
import { ensureBuilt } from './lib/build.mjs';
import { JUSTICE_BUREAU, PASSWORD, USERS, startFengqiao } from './lib/fengqiao.mjs';

const SHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
const FAILURES = fileURLToPath(new URL('../../test-results/failures/', import.meta.url));
const TIMEOUT = 30000;
let server;
let mediator; // the first mediator's browser, for the whole file
let officer; // a second browser: the reconsideration officer, then the supervisor
let caseId; // the case opened offline in the first test
const TITLE = '张三与李四房屋宅基地纠纷';

before(async () => {
  await mkdir(SHOTS, { recursive: true });
  await ensureBuilt();
  server = await startFengqiao({ cases: 60 });
  mediator = await launchTablet();
  open.set('mediator', mediator);
  mediator.page.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  await mediator?.close();
  await officer?.close();
  await server?.close();
});

const shot = (page, name) => page.screenshot({ path: `${SHOTS}${name}.png` });
const status = (page, state) => page.locator(`.topbar .status[data-state="${state}"]`);
const noErrors = (...browsers) => assert.deepEqual(browsers.flatMap((b) => b.consoleErrors), []);

/** Every browser open at the moment, by role, for the evidence of a failure. */
const open = new Map();

/**
 * A test body that, when it fails, leaves evidence: a screenshot and the visible text of every
 * open browser (test-results/failures/), its address, console errors and the server's log tail
 * printed with the error.
 */
const withEvidence = (body) => async (t) => {
  try {
    await body(t);
  } catch (error) {
    await mkdir(FAILURES, { recursive: true });
    const slug = t.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
    const lines = [];
    for (const [role, browser] of open) {
      for (const [i, page] of browser.context.pages().entries()) {
        const name = `${slug}-${role}-${i}`;
        await page.screenshot({ path: `${FAILURES}${name}.png` }).catch(() => {});
        const text = await page.locator('body').innerText({ timeout: 2000 }).catch((e) => `(no text: ${e.message})`);
        await writeFile(`${FAILURES}${name}.txt`, text).catch(() => {});
        lines.push(`${role} page ${i}: ${page.url()}`, `  online: ${await page.evaluate(() => navigator.onLine).catch(() => '?')}`);
        lines.push(...text.split('\n').slice(0, 12).map((l) => `  | ${l}`));
      }
      if (browser.consoleErrors.length) lines.push(`${role} console errors:`, ...browser.consoleErrors.map((e) => `  ${e}`));
    }
    lines.push('server log (tail):', ...(server?.log() ?? '').split('\n').slice(-25).map((l) => `  ${l}`));
    const evidence = `\n--- evidence (screenshots in test-results/failures/) ---\n${lines.join('\n')}`;
    error.message += evidence;
    if (typeof error.stack === 'string') error.stack += evidence;
    throw error;
  }
};

async function login(page, user) {
  await page.getByLabel('账号').fill(user);
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
}

/** Logs out (accepting the warning about unsynced cases, if any) and waits for the login form. */
async function logout(page) {
  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: '退出' }).click();
  await page.getByLabel('账号').waitFor();
}

/** Waits until `page` has nothing to upload and its last sync succeeded. */
async function synced(page) {
  await status(page, 'synced').waitFor({ timeout: 60000 });
}

/** The id of the case open on `page`, from its address. */
const openCaseId = (page) => decodeURIComponent(new URL(page.url()).hash.split('/')[2]);

test('a mediator records a case offline, finds it after an offline reload, and it reaches the server', withEvidence(async () => {
  const { page, context } = mediator;
  await page.goto(server.url);
  await shot(page, '01-login');
  await login(page, USERS.mediator);
  await page.getByRole('heading', { name: '我的案件' }).waitFor();
  await synced(page);
  await shot(page, '02-cases');
  // The service worker must control the page before the network goes away.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);

  await context.setOffline(true);
  await status(page, 'offline').waitFor();
  assert.equal(await page.locator('.topbar .status .status-label').textContent(), '离线');

  await page.getByRole('button', { name: '新建案件' }).click();
  await page.getByLabel('纠纷类型').selectOption('housing_homestead');
  await page.getByLabel('村（社区）').fill('东村');
  await page.locator('#p0-name').fill('张三');
  await page.locator('#p0-phone').fill('13800000000');
  await page.locator('#p1-name').fill('李四');
  await page.getByLabel('当事人诉求').fill('要求李某停止侵占宅基地，拆除越界围墙');
  await shot(page, '03-new-case');
  await page.getByRole('button', { name: '保存案件' }).click();

  await page.getByRole('heading', { name: TITLE }).waitFor();
  caseId = openCaseId(page);
  await page.getByText('未登记：上传到服务器后获得正式编号').waitFor();
  assert.match(await page.locator('.topbar .status').textContent(), /1 个案件有未同步的修改/);
  await shot(page, '04-case-overview');

  await page.getByRole('tab', { name: '当事人' }).click();
  await page.locator('.item').nth(1).waitFor();
  await shot(page, '05-parties');

  await page.getByRole('tab', { name: '调解' }).click();
  await page.getByRole('button', { name: '添加调解记录' }).click();
  await page.getByLabel('地点').fill('东村村委会调解室');
  await page.getByLabel('地点').press('Tab');
  await page.locator('.session textarea').fill('双方到场。张三要求拆除围墙；李四称围墙按原界址修建。');
  await page.getByLabel('协议内容').pressSequentially('李某于三十日内拆除越界围墙。');
  await page.getByLabel('协议内容').press('Tab');
  await shot(page, '06-mediation-offline');

  await page.getByRole('link', { name: '我的案件' }).click();
  await page.reload();
  await page.getByRole('heading', { name: '我的案件' }).waitFor();
  const row = page.locator('.case-row', { hasText: TITLE });
  await row.getByText('未同步').waitFor();
  await status(page, 'offline').waitFor();
  await shot(page, '07-reloaded-offline');

  await row.click();
  await page.getByRole('tab', { name: '调解' }).click();
  assert.equal(await page.getByLabel('协议内容').inputValue(), '李某于三十日内拆除越界围墙。');
  assert.equal(await page.locator('.session textarea').inputValue(), '双方到场。张三要求拆除围墙；李四称围墙按原界址修建。');
  assert.equal(await page.getByLabel('地点').inputValue(), '东村村委会调解室');
  await page.getByRole('tab', { name: '当事人' }).click();
  assert.deepEqual(await page.locator('.item input[id$="-name"], .item .field input').evaluateAll((els) => els.map((e) => e.value).filter((v) => v === '张三' || v === '李四')), ['张三', '李四']);

  // Back online: the case reaches the server, which gives it a number.
  await context.setOffline(false);
  await synced(page);
  const number = page.locator('.case-meta span').first();
  await page.getByText(/调字第\d+号/).first().waitFor();
  const shown = await number.textContent();
  const token = await server.login(USERS.mediator);
  const { cases } = await server.api(token, `/v1/cases?q=${encodeURIComponent(TITLE)}`);
  assert.deepEqual(
    cases.map((c) => [c.id, c.title, c.case_number, c.track, c.custody_unit, c.dispute_type]),
    [[caseId, TITLE, shown, 'mediation', 'yunxi.chengguan', 'housing_homestead']],
  );
  await shot(page, '08-synced');
  noErrors(mediator);
}));

test('the mediator hands the case to reconsideration; the county officer accepts; the case turns read-only', withEvidence(async () => {
  const { page } = mediator;
  await page.goto(`${server.url}#/case/${encodeURIComponent(caseId)}/handoff`);
  await page.locator('input[name="to"][value="reconsideration"]').check();
  // Before sending, the form names what the reconsideration track still needs.
  const missing = page.locator('ul.missing li');
  await missing.first().waitFor();
  assert.deepEqual(await missing.allTextContents(), [
    '调解结果（调解不成或当事人拒绝调解）',
    '已告知当事人的其他解决途径',
    '被申请人（作出行政行为的机关）',
    '被申请复议的行政行为名称',
    '申请人知道该行政行为的日期',
    '复议请求和理由',
  ]);
  assert.ok(await page.getByRole('button', { name: '提交移交申请' }).isDisabled());
  await shot(page, '09-handoff-missing');

  await page.getByRole('link', { name: '调解结果（调解不成或当事人拒绝调解）' }).click();
  await page.getByLabel('调解结果', { exact: true }).selectOption('failed');
  await page.getByLabel('已告知当事人的其他解决途径').fill('已告知当事人可依法申请行政复议或提起行政诉讼');
  await page.getByLabel('已告知当事人的其他解决途径').press('Tab');
  await page.getByRole('tab', { name: '行政复议' }).click();
  await page.getByLabel('被申请人（作出行政行为的机关）').fill('云溪县自然资源局');
  await page.getByLabel('被申请人（作出行政行为的机关）').press('Tab');
  await page.getByLabel('行政行为名称').fill('宅基地使用权确权决定书');
  await page.getByLabel('行政行为名称').press('Tab');
  await page.getByLabel('申请人知道该行政行为的日期').fill(new Date(Date.now() - 10 * 86400000).toISOString().slice(0, 10));
  await page.getByLabel('复议请求和理由').fill('请求撤销确权决定');
  await page.getByLabel('复议请求和理由').press('Tab');
  await shot(page, '10-reconsideration-form');

  await page.goto(`${server.url}#/case/${encodeURIComponent(caseId)}/handoff`);
  await page.locator('input[name="to"][value="reconsideration"]').check();
  await page.getByText('行政复议需要的信息都已填写。').waitFor();
  // The receiver is chosen by name from the county's units (GET /v1/units).
  assert.deepEqual(await page.locator('#ho-unit option').allTextContents(), [JUSTICE_BUREAU.name]);
  await page.getByLabel('移交理由').fill('调解不成，申请人选择申请行政复议');
  await shot(page, '11-handoff-ready');
  await page.getByRole('button', { name: '提交移交申请' }).click();
  await page.getByRole('heading', { name: '移交' }).waitFor();
  await synced(page);
  await page.locator('.handoff').getByText('待接收').waitFor();
  await page.locator('.handoff').getByText(`接收单位：${JUSTICE_BUREAU.name}`).waitFor();
  await shot(page, '12-handoff-pending');

  officer = await launchTablet();
  open.set('officer', officer);
  const county = officer.page;
  county.setDefaultTimeout(TIMEOUT);
  await county.goto(server.url);
  await login(county, USERS.reconsideration);
  await county.getByRole('heading', { name: '移交待办' }).waitFor();
  const item = county.locator('.inbox-item', { hasText: TITLE });
  await item.waitFor({ timeout: 60000 });
  await item.getByRole('button', { name: '检查移交材料是否齐全' }).click();
  await item.getByText('移交所需信息齐全。').waitFor();
  await shot(county, '13-inbox');
  await item.getByRole('button', { name: '接收', exact: true }).click();
  await item.getByText('已接收').waitFor();
  await synced(county);

  // The mediator's tablet learns of it by the server's notice and shows the case read-only.
  await page.getByRole('tab', { name: '概况' }).click();
  const banner = page.locator('.banner-readonly');
  await banner.waitFor({ timeout: 60000 });
  assert.match(await banner.textContent(), /本案已移出您单位的管辖/);
  assert.match(await banner.textContent(), new RegExp(`现由${JUSTICE_BUREAU.name}按行政复议办理`));
  assert.match(await page.locator('.case-meta .custody').textContent(), new RegExp(`行政复议 · ${JUSTICE_BUREAU.name}`));
  assert.ok(await page.getByLabel('案件名称').isDisabled());
  await shot(page, '14-left-custody');

  const token = await server.login(USERS.reconsideration);
  const { cases } = await server.api(token, `/v1/cases?track=reconsideration&q=${encodeURIComponent(TITLE)}`);
  assert.deepEqual(cases.map((c) => [c.id, c.custody_unit]), [[caseId, JUSTICE_BUREAU.id]]);

  // The officer's forms of the track, and the deadline lists.
  await county.goto(`${server.url}#/case/${encodeURIComponent(caseId)}/reconsideration`);
  await county.getByLabel('收到申请日期').waitFor();
  assert.equal(await county.getByLabel('收到申请日期').isDisabled(), false);
  await shot(county, '15-reconsideration-officer');

  // Every deadline of the case, as GET /v1/cases/{id}/deadlines gives them, with explanations;
  // after an offline reload, the same list from the device, marked with when it was fetched.
  const { deadlines } = await server.api(token, `/v1/cases/${encodeURIComponent(caseId)}/deadlines`);
  assert.ok(deadlines.some((d) => d.rule === 'reconsideration.application'), JSON.stringify(deadlines));
  const expected = deadlines.map((d) => [d.rule, d.label, d.status, d.due_on, d.explanation]);
  const shownDeadlines = () =>
    county.locator('.deadline-list .deadline').evaluateAll((els) =>
      els.map((e) => [e.dataset.rule, e.querySelector('.deadline-label').textContent, e.dataset.status, e.dataset.due, e.querySelector('.deadline-explanation').textContent]),
    );
  await county.getByRole('tab', { name: '期限' }).click();
  await county.locator('.deadlines-asof[data-stale="false"]').waitFor();
  assert.deepEqual(await shownDeadlines(), expected);
  await shot(county, '15a-case-deadlines');
  await county.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await officer.context.setOffline(true);
  await county.reload();
  const asOf = county.locator('.deadlines-asof[data-stale="true"]');
  await asOf.waitFor();
  assert.match(await asOf.textContent(), /^当前离线：以下为.+从服务器获取的期限/);
  assert.deepEqual(await shownDeadlines(), expected);
  await shot(county, '15b-case-deadlines-offline');
  await officer.context.setOffline(false);
  await synced(county);
  await county.getByRole('link', { name: '移交待办' }).click();
  await county.locator('[data-list="overdue"]').waitFor();
  await county.locator('[data-list="due-soon"]').waitFor();
  await shot(county, '16-deadlines');
  noErrors(mediator, officer);
}));

test('two mediators edit one agreement offline; both see the merged text and settle a value set at once', withEvidence(async () => {
  const a = mediator.page;
  const second = await launchTablet();
  open.set('second-mediator', second);
  const b = second.page;
  b.setDefaultTimeout(TIMEOUT);
  try {
    // A opens a case online, with an agreement to work on.
    await a.getByRole('link', { name: '我的案件' }).click();
    await a.getByRole('button', { name: '新建案件' }).click();
    await a.getByLabel('纠纷类型').selectOption('neighbour');
    await a.locator('#p0-name').fill('王五');
    await a.locator('#p1-name').fill('赵六');
    await a.getByLabel('当事人诉求').fill('要求赔偿漏水损失');
    await a.getByRole('button', { name: '保存案件' }).click();
    await a.getByRole('tab', { name: '调解' }).click();
    const id = openCaseId(a);
    await a.getByLabel('协议内容').pressSequentially('赵六赔偿王五一千元。');
    await a.getByLabel('协议内容').press('Tab');
    await synced(a);

    // B, a colleague in the same township, gets the case by sync.
    await b.goto(server.url);
    await login(b, USERS.secondMediator);
    await b.getByRole('heading', { name: '我的案件' }).waitFor();
    await b.locator('.case-row', { hasText: '王五与赵六' }).waitFor({ timeout: 60000 });
    await synced(b);
    await b.goto(`${server.url}#/case/${encodeURIComponent(id)}/mediation`);
    await b.getByLabel('协议内容').waitFor();
    assert.equal(await b.getByLabel('协议内容').inputValue(), '赵六赔偿王五一千元。');

    // Both offline: A appends, B writes in front; each sets the result differently.
    await mediator.context.setOffline(true);
    await second.context.setOffline(true);
    await status(a, 'offline').waitFor();
    await status(b, 'offline').waitFor();
    const terms = (page) => page.getByLabel('协议内容');
    await terms(a).click();
    await terms(a).press('End');
    await terms(a).pressSequentially('于五日内付清。');
    await terms(a).press('Tab');
    await terms(b).click();
    await terms(b).press('Home');
    await terms(b).pressSequentially('经调解，');
    await terms(b).press('Tab');
    await a.getByLabel('调解结果', { exact: true }).selectOption('success');
    await b.getByLabel('调解结果', { exact: true }).selectOption('failed');
    await shot(a, '17-agreement-offline-a');
    await shot(b, '18-agreement-offline-b');

    await mediator.context.setOffline(false);
    await synced(a);
    await second.context.setOffline(false);
    await synced(b);
    const merged = '经调解，赵六赔偿王五一千元。于五日内付清。';
    for (const page of [a, b]) {
      await page.waitForFunction((text) => document.querySelector('textarea[id]') && [...document.querySelectorAll('textarea')].some((t) => t.value === text), merged, { timeout: 60000 });
      assert.equal(await terms(page).inputValue(), merged);
    }
    await shot(a, '19-agreement-merged');

    // The two results are shown side by side; A keeps one; the server's review item is marked done.
    await a.getByRole('tab', { name: /待核查/ }).click();
    const conflict = a.locator('.conflict');
    await conflict.waitFor();
    assert.match(await conflict.textContent(), /调解成功/);
    assert.match(await conflict.textContent(), /调解不成/);
    const review = a.locator('.review-item', { hasText: '调解结果' });
    await review.waitFor({ timeout: 60000 });
    await shot(a, '20-concurrent-values');
    await conflict.locator('.choice', { hasText: '调解不成' }).getByRole('button', { name: '采用此值' }).click();
    await a.getByText('没有同时填写的不同值。').waitFor();
    await review.getByRole('button', { name: '标记为已处理' }).click();
    await review.getByText(new RegExp(`由 ${USERS.mediator} 于`)).waitFor({ timeout: 60000 });
    await synced(a);
    await shot(a, '21-review-done');
    await a.getByRole('tab', { name: '调解' }).click();
    assert.equal(await a.getByLabel('调解结果', { exact: true }).inputValue(), 'failed');
    noErrors(mediator, second);
  } finally {
    open.delete('second-mediator');
    await second.close();
  }
}));

test("a supervisor's dashboard shows the demo county's rates as /v1/stats gives them", withEvidence(async () => {
  const page = officer.page;
  await logout(page);
  await login(page, USERS.supervisor);
  await page.getByRole('heading', { name: '督查统计' }).waitFor();
  // The whole demo period: the two years before today.
  const today = new Date(Date.now() + 8 * 3600000).toISOString().slice(0, 10);
  const from = `${Number(today.slice(0, 4)) - 2}-01-01`;
  await page.getByLabel('起始日期').fill(from);
  await page.getByLabel('截止日期').fill(today);
  // Units are named once the directory (GET /v1/units, fetched at login) arrives.
  await page.locator('#st-unit option:checked', { hasText: '云溪县' }).waitFor({ state: 'attached' });
  assert.equal(await page.locator('#st-unit option:checked').textContent(), '云溪县');
  await page.getByRole('button', { name: '查询' }).click();
  await page.locator('.rate-card').first().waitFor();

  const token = await server.login(USERS.supervisor);
  const stats = await server.api(token, `/v1/stats?unit=yunxi&from=${from}&to=${today}`);
  const cards = await page.locator('.rate-card').evaluateAll((els) =>
    els.map((e) => [e.querySelector('.rate-name').textContent, e.querySelector('.rate-value').textContent, e.querySelector('.muted').textContent]),
  );
  assert.deepEqual(
    cards,
    stats.rates.map((r) => [r.label, r.percent ?? '—', `${r.numerator}/${r.denominator}`]),
  );
  assert.ok(stats.rates.some((r) => r.denominator > 0), 'the demo data counts something');
  const townships = await page.locator('.table').first().locator('tbody tr td:first-child').allTextContents();
  assert.deepEqual(townships, stats.townships.map((t) => t.name));
  // The lists show the most urgent deadlines under the server's totals.
  await page.getByText(`已逾期（${stats.overdue_total}）`, { exact: true }).waitFor();
  await page.getByText(`即将到期（${stats.due_soon_total}）`, { exact: true }).waitFor();
  await page.locator('.chart canvas').first().waitFor();
  await page.waitForTimeout(1200); // the charts' entry animation, for the screenshot
  await shot(page, '22-dashboard');

  // The annual report, both formats.
  await page.getByLabel('年度').selectOption(today.slice(0, 4));
  const [markdown] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 Markdown' }).click()]);
  const text = await readFile(await markdown.path(), 'utf8');
  assert.match(text, /^#/);
  assert.match(text, /云溪县/);
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载 Excel（xlsx）' }).click()]);
  assert.match(xlsx.suggestedFilename(), /\.xlsx$/);
  assert.equal((await readFile(await xlsx.path())).subarray(0, 2).toString(), 'PK');
  await page.getByRole('link', { name: '同步通知' }).click();
  await shot(page, '23-notices');
  await page.getByRole('link', { name: '被拒绝的修改' }).click();
  await shot(page, '24-stash');
  noErrors(officer);
}));
