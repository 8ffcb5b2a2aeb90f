// Case ids as automerge-repo writes them, and dates and instants as the document stores them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCaseId, encodeCaseId, isCaseId, newActorId, newCaseId, newItemId } from '../../src/core/schema/ids.js';
import {
  chinaDate,
  formatDate,
  formatInstant,
  instant,
  instantToLocalInput,
  isInstant,
  isLegalDate,
  localInputToInstant,
} from '../../src/core/schema/time.js';

test('case ids are base58check of 16 bytes, like the Rust CaseId', () => {
  // From sync/tests/protocol.rs: CaseId::from_bytes([0; 16]) on the wire.
  assert.equal(encodeCaseId(new Uint8Array(16)), '11111111111111114Ki9Gx');
  // From docs/PROTOCOL.md.
  assert.ok(isCaseId('ujFMvSEi2ULTeL3PGRvCBJw9us5'));
  assert.ok(isCaseId('automerge:ujFMvSEi2ULTeL3PGRvCBJw9us5'));
  assert.ok(!isCaseId('ujFMvSEi2ULTeL3PGRvCBJw9us6'), 'a changed character breaks the checksum');
  assert.ok(!isCaseId(''));
  const id = newCaseId();
  assert.equal(decodeCaseId(id).length, 16);
  assert.notEqual(id, newCaseId());
  assert.match(newActorId(), /^[0-9a-f]{32}$/);
  assert.match(newItemId('party'), /^party-[0-9a-f]{16}$/);
});

test('legal dates and instants', () => {
  assert.ok(isLegalDate('2024-02-29'));
  assert.ok(!isLegalDate('2026-02-29'));
  assert.ok(!isLegalDate('2026-3-1'));
  assert.ok(isInstant('2026-03-01T08:30:00Z'));
  assert.ok(!isInstant('2026-03-01 08:30'));
  assert.equal(instant(new Date(Date.UTC(2026, 2, 1, 8, 30, 0, 123))), '2026-03-01T08:30:00Z');
});

test('dates are taken in China Standard Time', () => {
  // 17:00 UTC is already the next day in China.
  assert.equal(chinaDate('2026-03-01T17:00:00Z'), '2026-03-02');
  assert.equal(formatInstant('2026-03-01T17:00:00Z'), '2026-03-02 01:00');
  assert.equal(formatDate('2026-03-02'), '2026年3月2日');
  assert.equal(instantToLocalInput('2026-03-01T17:00:00Z'), '2026-03-02T01:00');
  assert.equal(localInputToInstant('2026-03-02T01:00'), '2026-03-01T17:00:00Z');
  assert.equal(localInputToInstant(''), null);
});
