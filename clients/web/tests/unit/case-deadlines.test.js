// A case's deadlines (GET /v1/cases/{id}/deadlines) are remembered in the replica when fetched,
// shown from there, marked stale with the time they were fetched, when the server cannot be
// reached, and forgotten with the case.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, caseDeadlinesKey, loadCaseDeadlines, rememberedCaseDeadlines } from '../../src/core/api.js';
import { Replica } from '../../src/core/replica/replica.js';
import { periodText } from '../../src/ui/screens/case-deadlines.js';

const auth = { accessToken: async () => 'token' };
const CASE = '0190a1b2c3d4e5f60718293a4b5c6d7e';
const ANSWER = {
  case_id: CASE,
  today: '2026-03-20',
  deadlines: [
    {
      rule: 'mediation.period',
      label: '调解期限',
      track: 'mediation',
      kind: 'duty',
      article: '《人民调解工作若干规定》第三十三条',
      start_on: '2026-03-10',
      start_event: '受理调解之日',
      period_length: 30,
      period_unit: 'calendar_days',
      counting: 'calendar_days',
      extension_days: 0,
      suspended_days: 0,
      last_day: '2026-04-09',
      due_on: '2026-04-09',
      shifted_from: null,
      status: 'running',
      status_label: '进行中',
      met_on: null,
      explanation: '自受理调解之日起计算……',
    },
  ],
};

let users = 0;

test('fetched deadlines are remembered, and served stale with their time when the server is away', async () => {
  const replica = await Replica.open(`deadlines-user-${++users}`);
  try {
    const asked = [];
    const online = async (url, init) => {
      asked.push([url, init.headers.Authorization]);
      return new Response(JSON.stringify(ANSWER), { status: 200, headers: { 'Content-Type': 'application/json' } });
    };
    const before = Date.now();
    const fresh = await loadCaseDeadlines({ auth, replica, fetch: online }, CASE);
    assert.deepEqual(asked, [[`/v1/cases/${CASE}/deadlines`, 'Bearer token']]);
    assert.equal(fresh.stale, false);
    assert.deepEqual([fresh.caseId, fresh.today, fresh.deadlines], [CASE, ANSWER.today, ANSWER.deadlines]);
    assert.ok(fresh.fetchedAt >= before && fresh.fetchedAt <= Date.now());

    const unreachable = async () => {
      throw new TypeError('fetch failed');
    };
    const stale = await loadCaseDeadlines({ auth, replica, fetch: unreachable }, CASE);
    assert.equal(stale.stale, true);
    assert.equal(stale.error, '无法连接服务器');
    assert.deepEqual([stale.today, stale.deadlines, stale.fetchedAt], [ANSWER.today, ANSWER.deadlines, fresh.fetchedAt]);
    assert.deepEqual(await rememberedCaseDeadlines(replica, CASE), { caseId: CASE, today: ANSWER.today, deadlines: ANSWER.deadlines, fetchedAt: fresh.fetchedAt, stale: true });

    // Never fetched: nothing to show, and the caller hears why.
    await assert.rejects(loadCaseDeadlines({ auth, replica, fetch: unreachable }, 'ffffffffffffffffffffffffffffffff'), (e) => e instanceof ApiError && e.offline);
    assert.equal(await rememberedCaseDeadlines(replica, 'ffffffffffffffffffffffffffffffff'), null);

    // A refusal (the case is no longer readable) falls back to the last answer too, marked stale.
    const gone = async () => new Response(JSON.stringify({ code: 'not_found', message: '未找到' }), { status: 404 });
    const refused = await loadCaseDeadlines({ auth, replica, fetch: gone }, CASE);
    assert.equal(refused.stale, true);
    assert.equal(refused.error, '未找到');
  } finally {
    replica.close();
  }
});

test('a case the device stops holding takes its remembered deadlines with it', async () => {
  const replica = await Replica.open(`deadlines-user-${++users}`);
  try {
    const intake = { kind: 'dispute', unit: 'qingshan.dongxi', user: 'a1', township: 'qingshan.dongxi', title: '测试案件', createdAt: '2026-03-01T00:00:00Z' };
    const docId = await replica.create(intake, () => {});
    await replica.setMeta(caseDeadlinesKey(docId), { caseId: docId, today: ANSWER.today, deadlines: ANSWER.deadlines, fetchedAt: 1 });
    assert.equal((await rememberedCaseDeadlines(replica, docId))?.today, ANSWER.today);
    await replica.forget(docId, { code: 'gone', message: '案件已移出' }, { stash: false });
    await replica.flush();
    assert.equal(await rememberedCaseDeadlines(replica, docId), null);
  } finally {
    replica.close();
  }
});

test('periods read as the law states them', () => {
  const text = (period_unit, period_length) => periodText({ period_unit, period_length });
  assert.deepEqual(
    [text('calendar_days', 30), text('working_days', 5), text('months', 6), text('years', 1)],
    ['30日（自然日）', '5个工作日', '6个月', '1年'],
  );
});
