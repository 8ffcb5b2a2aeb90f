// The schema mirror: the vocabulary and layout JSON match the Rust source, a new case has exactly
// the skeleton Rust's `new_case_document` makes, and the field writers write what autosurgeon
// writes and reads back what they wrote.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as A from '../../src/core/automerge.js';
import vocabJson from '../../src/core/schema/generated/vocab.json' with { type: 'json' };
import layoutJson from '../../src/core/schema/generated/layout.json' with { type: 'json' };
import { parseDocumentLayout, parseVocabularies, readRust } from '../../scripts/rust-source.mjs';
import {
  ItemGone,
  SECTIONS,
  addItem,
  conflictsAt,
  newCaseDocument,
  readCase,
  removeItem,
  setField,
  setStringList,
  setText,
  spliceText,
  summarize,
} from '../../src/core/schema/document.js';
import { LayoutError, SCHEMA_VERSION, defaultPlain } from '../../src/core/schema/layout.js';
import { label, options } from '../../src/core/schema/vocab.js';
import { pathsOfType, shapeOf } from './shape.js';

const RUST_NEW_CASE = new URL('../../../../schema/tests/fixtures/rust-new-case.automerge', import.meta.url);

const INTAKE = {
  kind: 'dispute',
  unit: 'qingshan.xiahe',
  user: 'wang.fang',
  township: 'qingshan.xiahe',
  title: '邻里纠纷',
  createdAt: '2026-03-01T00:00:00Z',
};

test('the vocabulary JSON is the table of schema/src/vocab.rs (run `npm run vocab` if not)', () => {
  assert.deepEqual(vocabJson, parseVocabularies(readRust('vocab.rs')));
});

test('the layout JSON is the structs of schema/src/document.rs (run `npm run vocab` if not)', () => {
  assert.deepEqual(layoutJson, parseDocumentLayout(readRust('document.rs')));
});

test('vocabulary labels are Chinese and unknown codes are shown, not hidden', () => {
  assert.equal(label('dispute_type', 'housing_homestead'), '房屋宅基地');
  assert.equal(label('reconsideration_decision', 'revoked'), '撤销');
  assert.equal(label('handoff_status', 'superseded'), '已被其他移交取代');
  assert.equal(label('dispute_type', 'future_code'), '未知代码（future_code）');
  assert.equal(label('dispute_type', null), '');
  assert.equal(options('track').length, 4);
});

test('a new case has exactly the skeleton of Rust new_case_document', () => {
  const rust = A.load(readFileSync(RUST_NEW_CASE));
  const web = newCaseDocument(INTAKE);
  assert.deepEqual(shapeOf(web), shapeOf(rust));
  assert.deepEqual(Object.keys(shapeOf(web)).sort(), [...SECTIONS].sort());
});

test('integers are written as integers, never floats, however deep', () => {
  let doc = newCaseDocument(INTAKE, (d) => {
    addItem(d, ['handoffs'], { to_track: 'reconsideration', to_unit: 'x', custody_version: 0 });
    setField(d, ['mediation', 'agreement', 'amount_fen'], 0);
  });
  doc = A.change(doc, (d) => setField(d, ['petition', 'group_size'], 7));
  const shape = shapeOf(doc);
  assert.deepEqual(pathsOfType(shape, 'f64'), []);
  assert.ok(pathsOfType(shape, 'int').includes('handoffs.0.custody_version'));
  assert.ok(pathsOfType(shape, 'int').includes('meta.schema_version'));
});

test('an empty document reads as the default case', () => {
  assert.deepEqual(readCase(A.init()), defaultPlain('Case'));
});

test('fields are validated against the layout before anything is written', () => {
  const doc = newCaseDocument(INTAKE);
  const attempt = (path, value) => () => A.change(doc, (d) => setField(d, path, value));
  assert.throws(attempt(['mediation', 'accepted_on'], '2026-02-30'), LayoutError);
  assert.throws(attempt(['mediation', 'accepted_on'], '2026/03/01'), LayoutError);
  assert.throws(attempt(['meta', 'dispute_type'], '房屋宅基地'), LayoutError, 'labels are never stored');
  assert.throws(attempt(['meta', 'created_at'], '2026-03-01 08:00'), LayoutError);
  assert.throws(attempt(['mediation', 'agreement', 'amount_fen'], 12.5), LayoutError);
  assert.throws(attempt(['claims', 'claims'], 'x'), LayoutError, 'Text is written with setText');
  assert.throws(attempt(['meta', 'no_such_field'], 'x'), LayoutError);
  const ok = A.change(doc, (d) => setField(d, ['mediation', 'accepted_on'], '2024-02-29'));
  assert.equal(readCase(ok).mediation.accepted_on, '2024-02-29');
  const cleared = A.change(ok, (d) => setField(d, ['mediation', 'accepted_on'], ''));
  assert.equal(readCase(cleared).mediation.accepted_on, null);
});

test('setting a field to its current value makes no change', () => {
  const doc = newCaseDocument(INTAKE);
  const same = A.change(doc, (d) => {
    setField(d, ['meta', 'title'], INTAKE.title);
    setText(d, ['claims', 'claims'], '');
    setStringList(d, ['meta', 'handlers'], []);
  });
  assert.deepEqual(A.getHeads(same), A.getHeads(doc));
});

test('list items are addressed by id, so concurrent inserts and deletes merge', () => {
  let base = newCaseDocument(INTAKE, (d) => {
    addItem(d, ['parties'], { id: 'p1', role: 'applicant', name: '张三' });
  });
  let a = A.clone(base, { actor: 'aa'.repeat(16) });
  let b = A.clone(base, { actor: 'bb'.repeat(16) });
  a = A.change(a, (d) => removeItem(d, ['parties'], 'p1'));
  b = A.change(b, (d) => {
    addItem(d, ['parties'], { id: 'new', name: '赵六' }, 'party');
    setField(d, ['parties', { id: 'new' }, 'phone'], '13900000000');
  });
  const merged = readCase(A.merge(A.clone(a), b));
  assert.deepEqual(
    merged.parties.map((p) => [p.id, p.phone]),
    [['new', '13900000000']],
  );
  assert.throws(() => A.change(a, (d) => setField(d, ['parties', { id: 'p1' }, 'name'], 'x')), ItemGone);
});

test('concurrent splices into the same Chinese Text both survive', () => {
  const base = newCaseDocument(INTAKE, (d) => setText(d, ['mediation', 'agreement', 'terms'], '李某于三十日内拆除越界围墙'));
  let a = A.clone(base, { actor: 'aa'.repeat(16) });
  let b = A.clone(base, { actor: 'bb'.repeat(16) });
  a = A.change(a, (d) => spliceText(d, ['mediation', 'agreement', 'terms'], 0, 0, '经调解，'));
  b = A.change(b, (d) => setText(d, ['mediation', 'agreement', 'terms'], '李某于三十日内拆除越界围墙，费用由李某承担。'));
  assert.equal(readCase(A.merge(a, b)).mediation.agreement.terms, '经调解，李某于三十日内拆除越界围墙，费用由李某承担。');
});

test('concurrent values of a legal field are both visible', () => {
  const base = newCaseDocument(INTAKE);
  let a = A.change(A.clone(base, { actor: 'aa'.repeat(16) }), (d) => setField(d, ['mediation', 'result'], 'failed'));
  const b = A.change(A.clone(base, { actor: 'bb'.repeat(16) }), (d) => setField(d, ['mediation', 'result'], 'success'));
  a = A.merge(a, b);
  assert.deepEqual(conflictsAt(a, ['mediation', 'result']).map((c) => c.value).sort(), ['failed', 'success']);
  const chosen = A.change(a, (d) => setField(d, ['mediation', 'result'], 'success'));
  assert.deepEqual(conflictsAt(chosen, ['mediation', 'result']), [], 'writing a value resolves the conflict');
  assert.deepEqual(conflictsAt(a, ['meta', 'title']), []);
});

test('sections missing from a foreign document are created when first written', () => {
  let doc = A.change(A.init(), (d) => {
    d.meta = { schema_version: new A.Int(1), title: new A.ImmutableString('旧文档') };
  });
  doc = A.change(doc, (d) => setText(d, ['mediation', 'agreement', 'terms'], '补录'));
  const c = readCase(doc);
  assert.equal(c.meta.title, '旧文档');
  assert.equal(c.mediation.agreement.terms, '补录');
  assert.deepEqual(pathsOfType(shapeOf(doc), 'f64'), []);
});

test('the summary names the custodian before registration', () => {
  const c = readCase(newCaseDocument(INTAKE, (d) => addItem(d, ['parties'], { name: '张三', role: 'applicant' }, 'party')));
  const s = summarize(c);
  assert.equal(s.track, 'mediation');
  assert.equal(s.custodyUnit, 'qingshan.xiahe');
  assert.deepEqual(s.partyNames, ['张三']);
  assert.equal(s.schemaVersion, SCHEMA_VERSION);
  assert.equal(s.caseNumber, null);
});
