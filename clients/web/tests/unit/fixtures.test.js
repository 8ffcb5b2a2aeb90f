// Cross-language fixtures (DESIGN §3). The web app's case is kept in fixtures/web-case.automerge
// and hydrated by Rust in schema/tests/web_fixture.rs; Rust's full case is kept in
// schema/tests/fixtures/rust-case.automerge and read here. With FENGQIAO_WRITE_FIXTURES=1 this
// test rewrites the web fixture first (`npm run fixtures`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as A from '../../src/core/automerge.js';
import { buildWebCase } from '../../fixtures/web-case.js';
import { readCase } from '../../src/core/schema/document.js';
import { label } from '../../src/core/schema/vocab.js';
import { missingFields } from '../../src/core/schema/handoff.js';
import { pathsOfType, shapeOf } from './shape.js';

const WEB_CASE = new URL('../../fixtures/web-case.automerge', import.meta.url);
const RUST_CASE = new URL('../../../../schema/tests/fixtures/rust-case.automerge', import.meta.url);

if (process.env.FENGQIAO_WRITE_FIXTURES === '1') {
  writeFileSync(WEB_CASE, A.save(buildWebCase()));
}

test('the committed web fixture is what the web code writes today', () => {
  const committed = A.load(readFileSync(WEB_CASE));
  assert.deepEqual(readCase(committed), readCase(buildWebCase()), 'regenerate with `npm run fixtures`');
  assert.deepEqual(shapeOf(committed), shapeOf(buildWebCase()));
  assert.deepEqual(pathsOfType(shapeOf(committed), 'f64'), [], 'integers only');
});

test('the web fixture holds two parties, a session with Chinese notes, an agreement and a handoff', () => {
  const c = readCase(A.load(readFileSync(WEB_CASE)));
  assert.deepEqual(c.parties.map((p) => p.name), ['张三', '李四']);
  assert.match(c.mediation.sessions[0].notes, /约定三日内共同查看界址。$/);
  assert.equal(c.mediation.agreement.terms, '经调解，李某于三十日内拆除越界围墙，恢复原状。');
  assert.equal(c.handoffs[0].status, 'requested');
  assert.deepEqual(missingFields(c, 'mediation', 'reconsideration'), []);
});

test('the Rust full case reads in JavaScript: names, Chinese text, dates, codes', () => {
  const doc = A.load(readFileSync(RUST_CASE));
  const c = readCase(doc);

  assert.equal(c.meta.case_number, '（2026）青山镇调字第12号');
  assert.equal(c.meta.title, '张某与李某宅基地纠纷');
  assert.equal(c.meta.created_at, '2026-03-01T01:02:03Z');
  assert.equal(c.meta.registered_at, '2026-03-02T08:00:00Z');
  assert.equal(c.meta.kind, 'dispute');
  assert.equal(c.meta.dispute_type, 'housing_homestead');
  assert.equal(label('dispute_type', c.meta.dispute_type), '房屋宅基地');
  assert.deepEqual(c.meta.handlers, ['wang.mediator', 'li.mediator']);
  assert.equal(c.meta.schema_version, 1);

  assert.deepEqual(
    c.parties.map((p) => [p.id, p.role, p.name, p.represents]),
    [
      ['p1', 'applicant', '张三', null],
      ['p2', 'agent', '律师甲', 'p1'],
    ],
  );
  assert.equal(c.parties[0].address, '青山镇东村3组');

  assert.equal(c.claims.claims, '要求停止侵占宅基地');
  assert.equal(c.claims.facts, '2025年起李某扩建围墙');
  assert.equal(c.mediation.committee, '青山镇人民调解委员会');
  assert.equal(c.mediation.issues, '界址争议');
  assert.equal(c.mediation.agreement.terms, '李某于三十日内拆除越界围墙');
  assert.equal(c.mediation.agreement.effective_on, '2026-03-10');
  assert.equal(c.mediation.agreement.amount_fen, 1234500);
  assert.equal(c.mediation.follow_up.performance, 'performed');
  assert.equal(c.mediation.judicial_confirmation.result, 'valid');

  assert.equal(c.petition.group_size, 7);
  assert.deepEqual(c.petition.representatives, ['代表甲', '代表乙']);
  assert.equal(c.petition.reply.legal_basis, '《信访工作条例》第三十二条');
  assert.equal(c.petition.extension.days, 30);
  assert.equal(c.petition.re_review.result, null);

  const r = c.reconsideration;
  assert.equal(r.respondent_agency, '青山县自然资源局');
  assert.equal(r.act.number, '青自然资罚〔2026〕3号');
  assert.equal(r.act.right_notified, false);
  assert.equal(r.act.real_property, true);
  assert.equal(r.hearing.notes, '听证笔录');
  assert.deepEqual(r.suspensions, [{ id: 'z1', from: '2026-04-21', to: '2026-05-01', reason: '等待鉴定' }]);
  assert.equal(r.decision.kind, 'revoked');
  assert.equal(label('reconsideration_decision', r.decision.kind), '撤销');
  assert.equal(r.decision.served_on, '2026-07-02');

  const l = c.litigation;
  assert.deepEqual(l.defendants, ['青山县自然资源局', '青山县人民政府']);
  assert.equal(l.reconsideration_upheld, true);
  assert.equal(l.hearings[0].head_name, '赵局长');
  assert.equal(l.hearings[0].head_rank, 'chief');
  assert.equal(l.judgment.outcome, 'claim_rejected');

  assert.equal(c.handoffs[0].status, 'accepted');
  assert.equal(c.handoffs[0].custody_version, 1);
  assert.equal(c.handoffs[0].decision.verdict, 'accept');
  assert.equal(c.custody.track, 'reconsideration');
  assert.equal(c.custody.version, 2);
  assert.equal(c.custody.history[0].until, '2026-03-16T02:00:00Z');
  assert.equal(c.review[0].summary, '移交后修改当事人电话，已撤回');
  assert.equal(c.review[0].change_hashes[0], 'ab'.repeat(32));
  assert.equal(c.review[0].done, true);
  assert.equal(c.attachments[0].name, '调解协议书.pdf');
  assert.equal(c.attachments[0].size, 12345);
});

test('the Rust case can be edited in JavaScript and its text stays Text', () => {
  let doc = A.load(readFileSync(RUST_CASE), { actor: 'cc'.repeat(16) });
  doc = A.change(doc, (d) => {
    A.splice(d, ['mediation', 'agreement', 'terms'], 0, 0, '经调解，');
  });
  const reloaded = A.load(A.save(doc));
  assert.equal(readCase(reloaded).mediation.agreement.terms, '经调解，李某于三十日内拆除越界围墙');
  assert.deepEqual(shapeOf(reloaded).mediation[1].agreement[1].terms, ['text', '经调解，李某于三十日内拆除越界围墙']);
});
