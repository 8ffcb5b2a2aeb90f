// The policy mirror: what the tablet shows as writable is what schema/src/policy.rs allows.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPlain } from '../../src/core/schema/layout.js';
import { canWrite, custodian, leftCustodyOf, readOnlyReason, writableSections } from '../../src/core/schema/policy.js';

const mediator = { id: 'wang', unit: 'qingshan.dongxi', roles: ['mediator'] };
const officer = { id: 'zhao', unit: 'qingshan.justice', roles: ['reconsideration_officer'] };
const supervisor = { id: 'li', unit: 'qingshan', roles: ['supervisor'] };

function openedByMediator() {
  const c = defaultPlain('Case');
  c.meta.kind = 'dispute';
  c.meta.opened_by_unit = 'qingshan.dongxi';
  c.meta.schema_version = 1;
  return c;
}

function handedToReconsideration() {
  const c = openedByMediator();
  c.custody = {
    ...c.custody,
    track: 'reconsideration',
    unit: 'qingshan.justice',
    version: 1,
    history: [{ track: 'mediation', unit: 'qingshan.dongxi', since: null, until: null, handoff_id: 'h1' }],
  };
  c.handoffs.push({ ...defaultPlain('HandoffRequest'), id: 'h1', to_track: 'reconsideration', to_unit: 'qingshan.justice', status: 'accepted' });
  return c;
}

test('an unregistered case is held by the unit that opened it', () => {
  assert.deepEqual(custodian(openedByMediator()), { unit: 'qingshan.dongxi', track: 'mediation' });
  assert.deepEqual(writableSections(mediator, openedByMediator()), [
    'meta',
    'parties',
    'claims',
    'mediation',
    'reconsideration',
    'litigation',
    'handoffs',
    'attachments',
  ]);
  assert.equal(readOnlyReason(mediator, openedByMediator()), null);
});

test('after the handoff the mediator keeps only the late entries of its own mediation', () => {
  const c = handedToReconsideration();
  assert.deepEqual(writableSections(mediator, c), ['mediation']);
  assert.ok(leftCustodyOf(mediator, c));
  assert.ok(!canWrite(mediator, c, 'parties'));
  assert.equal(readOnlyReason(mediator, c), '本案已移出您单位的管辖，只能查看办理情况和结果；本单位的调解记录仍可补录回访和司法确认');
  assert.equal(readOnlyReason(officer, c), null);
  assert.deepEqual(writableSections(officer, c), ['meta', 'parties', 'claims', 'reconsideration', 'litigation', 'handoffs', 'attachments']);
  assert.ok(!leftCustodyOf(officer, c));
});

test('supervisors and everyone else only read; nobody writes custody or review', () => {
  const c = handedToReconsideration();
  assert.deepEqual(writableSections(supervisor, c), []);
  assert.equal(readOnlyReason(supervisor, c), '您对本案只有查看权限');
  assert.ok(!canWrite(officer, c, 'custody'));
  assert.ok(!canWrite(officer, c, 'review'));
});

test('the receiving unit writes the handoff decision while the request is in its inbox', () => {
  const c = openedByMediator();
  c.handoffs.push({ ...defaultPlain('HandoffRequest'), id: 'h1', to_track: 'reconsideration', to_unit: 'qingshan.justice', status: 'requested' });
  assert.ok(!canWrite(officer, c, 'handoffs'), 'not before the server made it pending');
  c.handoffs[0].status = 'pending';
  assert.deepEqual(writableSections(officer, c), ['handoffs']);
});

test('a case from a newer version is read-only for everyone', () => {
  const c = openedByMediator();
  c.meta.schema_version = 99;
  assert.deepEqual(writableSections(mediator, c), []);
  assert.match(readOnlyReason(mediator, c), /版本99/);
});
