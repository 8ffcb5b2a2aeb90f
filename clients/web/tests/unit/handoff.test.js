// The handoff mirror: the same paths and the same missing fields, with the same Chinese labels, as
// schema/src/handoff.rs; the cases are those of schema/tests/handoff.rs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readRust } from '../../scripts/rust-source.mjs';
import { PATHS, canDecide, missingFields, missingMessage, path, pathsFrom } from '../../src/core/schema/handoff.js';
import { defaultPlain } from '../../src/core/schema/layout.js';

const rust = readRust('handoff.rs');
const snake = (s) => s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();

test('the paths are those of handoff.rs', () => {
  const parsed = [];
  const re = /HandoffPath \{\s*from: Track::(\w+),\s*to: Track::(\w+),\s*when: "([^"]+)",\s*clock: "([^"]+)",\s*source: "([^"]+)",\s*\}/g;
  let m;
  while ((m = re.exec(rust)) !== null) parsed.push({ from: snake(m[1]), to: snake(m[2]), when: m[3], clock: m[4], source: m[5] });
  assert.equal(parsed.length, 6);
  assert.deepEqual(PATHS, parsed);
});

test('every Chinese label of missing_fields appears in the mirror', () => {
  const body = rust.slice(rust.indexOf('pub fn missing_fields'), rust.indexOf('pub fn check_request'));
  const labels = [...body.matchAll(/"([^"]*[\u4e00-\u9fff][^"]*)"/g)].map((m) => m[1]);
  assert.ok(labels.length >= 15, `found ${labels.length} labels`);
  const js = readFileSync(new URL('../../src/core/schema/handoff.js', import.meta.url), 'utf8');
  for (const l of labels) assert.ok(js.includes(`'${l}'`), `handoff.js lacks the label ${l}`);
});

function caseIn(track) {
  const c = defaultPlain('Case');
  c.meta.kind = track === 'petition' ? 'petition' : 'dispute';
  c.custody.track = track;
  c.custody.unit = 'qingshan.dongxi';
  return c;
}

test('a failed mediation lists everything reconsideration needs, in form order', () => {
  const c = caseIn('mediation');
  assert.equal(
    missingMessage(missingFields(c, 'mediation', 'reconsideration')),
    '移交前还需填写：调解结果（调解不成或当事人拒绝调解）、已告知当事人的其他解决途径、申请人、被申请人（作出行政行为的机关）、被申请复议的行政行为名称、申请人知道该行政行为的日期、复议请求和理由',
  );
  c.mediation.result = 'failed';
  c.mediation.routes_told = '已告知可申请复议';
  c.parties.push({ ...defaultPlain('Party'), id: 'p1', role: 'applicant', name: '张三' });
  c.reconsideration.respondent_agency = '青山县自然资源局';
  c.reconsideration.act.name = '行政处罚决定书';
  c.reconsideration.act.known_on = '2026-02-03';
  c.reconsideration.request = '撤销';
  assert.deepEqual(missingFields(c, 'mediation', 'reconsideration'), []);
  c.parties[0].name = '  ';
  assert.deepEqual(missingFields(c, 'mediation', 'reconsideration').map((f) => f.label), ['申请人']);
});

test('petitions route by category', () => {
  const c = caseIn('petition');
  c.petition.route = 'petition_handling';
  assert.equal(
    missingMessage(missingFields(c, 'petition', 'litigation').slice(0, 1)),
    '移交前还需填写：依法分类处理途径（应为：涉法涉诉（诉讼程序））',
  );
  c.parties.push({ ...defaultPlain('Party'), id: 'p1', role: 'applicant', name: '张三' });
  assert.equal(missingMessage(missingFields(c, 'petition', 'mediation')), '移交前还需填写：被申请人、纠纷类型、当事人诉求');
});

test('reconsideration goes to litigation after a served decision', () => {
  const c = caseIn('reconsideration');
  c.parties.push({ ...defaultPlain('Party'), id: 'p1', role: 'applicant', name: '张三' });
  c.litigation.act_name = '行政处罚决定书';
  c.litigation.defendants = ['青山县自然资源局'];
  assert.equal(missingMessage(missingFields(c, 'reconsideration', 'litigation')), '移交前还需填写：复议决定（或不予受理、驳回申请、终止）');
  c.reconsideration.decision.kind = 'upheld';
  assert.equal(missingMessage(missingFields(c, 'reconsideration', 'litigation')), '移交前还需填写：复议决定书送达日期');
  c.reconsideration.decision.served_on = '2026-07-02';
  assert.deepEqual(missingFields(c, 'reconsideration', 'litigation'), []);
});

test('paths and deciders', () => {
  assert.equal(path('litigation', 'mediation'), null);
  assert.deepEqual(pathsFrom('mediation').map((p) => p.to), ['reconsideration', 'litigation']);
  const request = { to_track: 'reconsideration', to_unit: 'qingshan.justice' };
  assert.ok(canDecide({ unit: 'qingshan.justice', roles: ['reconsideration_officer'] }, request));
  assert.ok(!canDecide({ unit: 'qingshan.justice', roles: ['supervisor'] }, request));
  assert.ok(!canDecide({ unit: 'qingshan.legal', roles: ['reconsideration_officer'] }, request));
});
