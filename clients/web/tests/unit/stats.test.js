// The dashboard's data layer: rates are written exactly as schema/src/rates.rs writes them, and
// the page hears plainly when the server has no /v1/stats yet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fetchStats, formatRate, normalizeStats } from '../../src/core/stats.js';

const auth = { accessToken: async () => 't' };

test('rates are rounded half up to two decimals, like Rate::percent_2dp', () => {
  assert.equal(formatRate({ numerator: 1140, denominator: 1153 }), '98.87%');
  assert.equal(formatRate({ numerator: 1, denominator: 1 }), '100.00%');
  assert.equal(formatRate({ numerator: 19999, denominator: 20000 }), '100.00%');
  assert.equal(formatRate({ numerator: 1, denominator: 3 }), '33.33%');
  assert.equal(formatRate({ numerator: 2, denominator: 3 }), '66.67%');
  assert.equal(formatRate({ numerator: 0, denominator: 0 }), '—');
});

test('a missing endpoint is reported as not yet available', async () => {
  const result = await fetchStats({ auth, fetch: async () => new Response('', { status: 404 }) });
  assert.equal(result.status, 'unavailable');
  assert.match(result.message, /\/v1\/stats/);
  const offline = await fetchStats({
    auth,
    fetch: async () => {
      throw new TypeError('fetch failed');
    },
  });
  assert.equal(offline.status, 'offline');
});

test('answers are normalised so the page never meets a missing field', async () => {
  const body = {
    unit: 'qingshan',
    from: '2026-01-01',
    to: '2026-03-31',
    today: '2026-04-01',
    rates: [
      { code: 'mediation_success', label: '调解成功率', numerator: 9, denominator: 10, percent_2dp: 9000, percent: '90.00%' },
      { code: 'on_time', label: '按期办结率', numerator: 5, denominator: 2 },
    ],
    by_dispute_type: { housing_homestead: 3, neighbour: 'x' },
    townships: [{ township: 'qingshan.xiahe', name: '下河镇', registered: 3, mediation_success: { numerator: 1, denominator: 2 } }],
    trend: [{ month: '2026-01', rates: [{ code: 'mediation_success', numerator: 1, denominator: 1 }] }, { month: 'bad' }],
    overdue: [{ case_number: '（2026）下河镇调字第3号', track: 'mediation', rule: 'mediation.period', due_on: '2026-03-02' }],
    overdue_total: 240,
  };
  let asked;
  const result = await fetchStats({
    auth,
    query: { unit: 'qingshan', from: '2026-01-01', to: '2026-03-31' },
    fetch: async (url) => {
      asked = url;
      return new Response(JSON.stringify(body), { status: 200 });
    },
  });
  assert.equal(asked, '/v1/stats?unit=qingshan&from=2026-01-01&to=2026-03-31');
  assert.equal(result.status, 'ok');
  const data = result.data;
  assert.equal(formatRate(data.rates.mediation_success), '90.00%');
  assert.equal(formatRate(data.rates.on_time), '—', 'a numerator over its denominator is not shown as a rate');
  assert.equal(formatRate(data.rates.satisfaction), '—');
  assert.deepEqual(data.byDisputeType, { housing_homestead: 3, neighbour: 0 });
  assert.equal(data.townships[0].concluded, 0);
  assert.equal(formatRate(data.townships[0].mediationSuccess), '50.00%');
  assert.deepEqual(data.trend.map((t) => t.month), ['2026-01']);
  assert.equal(data.overdue[0].dueOn, '2026-03-02');
  assert.equal(data.overdueTotal, 240, 'the total counts beyond the items listed');
  assert.equal(data.dueSoonTotal, 0);
  assert.deepEqual(normalizeStats({}).overdue, []);
  assert.equal(normalizeStats({ due_soon: [{ due_on: '2026-03-09' }] }).dueSoonTotal, 1);
});
