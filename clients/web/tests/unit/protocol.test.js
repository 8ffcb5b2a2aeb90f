// The wire format of docs/PROTOCOL.md: the same bytes as the Rust implementation for the same
// messages, every code documented, and every malformed message refused with the right code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { encode } from 'cborg';
import {
  DEFAULT_LIMITS,
  DecodeError,
  ERROR_CODES,
  REJECT_MESSAGES,
  decodeServerMessage,
  encodeBatch,
  encodeHello,
} from '../../src/core/sync/protocol.js';

const hex = (b) => Buffer.from(b).toString('hex');
const bytes = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const cursor = bytes('01000000000000002a');
const A_DOC = 'ujFMvSEi2ULTeL3PGRvCBJw9us5'; // case('A') of sync/tests/protocol.rs: 16 bytes of 0x41
const id = (letter) => new Uint8Array(16).fill(letter.charCodeAt(0));

function decodeError(value, limits) {
  const b = value instanceof Uint8Array ? value : encode(value);
  try {
    decodeServerMessage(b, limits);
  } catch (e) {
    assert.ok(e instanceof DecodeError, String(e));
    return { code: e.code, retry: e.toFailure().retry };
  }
  assert.fail('decoded');
}

test('client messages are the bytes of the PROTOCOL.md examples', () => {
  // [2, "hello", {"cursor": h'01000000000000002a', "agent": "web/1"}]
  assert.equal(hex(encodeHello({ cursor, agent: 'web/1' })), '83026568656c6c6fa266637572736f724901000000000000002a656167656e74657765622f31');
  assert.equal(hex(encodeHello({ cursor: null, agent: 'web/1' })), '83026568656c6c6fa266637572736f72f6656167656e74657765622f31');
  // [2, "batch", {"round": 2, "cursor": h'01000000000000002a', "entries": []}]
  assert.equal(
    hex(encodeBatch({ round: 2, cursor, entries: [] })),
    '8302656261746368a365726f756e640266637572736f724901000000000000002a67656e747269657380',
  );
  // [2, "batch", {"round": 1, "cursor": h'01000000000000002a', "entries": [[h'4141…41', h'420000010000']]}]
  assert.equal(
    hex(encodeBatch({ round: 1, cursor, entries: [{ doc: A_DOC, sync: bytes('420000010000') }] })),
    '8302656261746368a365726f756e640166637572736f724901000000000000002a67656e74726965738182504141414141414141414141414141414146420000010000',
  );
});

test('server messages from the Rust encoder decode (sync/tests/protocol.rs)', () => {
  assert.deepEqual(decodeServerMessage(bytes('8302666e6f74696679a0')), { kind: 'notify' });
  assert.deepEqual(decodeServerMessage(bytes('830264646f6e65a166637572736f7249010000000000000001')), {
    kind: 'done',
    cursor: bytes('010000000000000001'),
  });
  const batch = decodeServerMessage(
    bytes('8302656261746368a265726f756e640367656e747269657381826864656665727265645000000000000000000000000000000000'),
  );
  assert.deepEqual(batch, { kind: 'batch', round: 3, entries: [{ type: 'deferred', doc: '11111111111111114Ki9Gx', compensated: [] }] });
});

test('every entry type of the PROTOCOL.md batch example decodes', () => {
  const message = encode([
    2,
    'batch',
    {
      round: 1,
      entries: [
        ['sync', id('A'), bytes('4201')],
        [
          'sync',
          id('B'),
          bytes('4202'),
          [{ section: 'mediation', reverted: ['ab'.repeat(32)], reason: '案件已移交，移交后提交的修改已被撤销。', review_item: 'review-7' }],
        ],
        ['saved', id('C'), ['cd'.repeat(32)], bytes('856f')],
        ['rejected', id('D'), 'no_write_access', '您没有修改该案件的权限，本次修改未保存。'],
        ['deferred', id('E'), [], 'a later version may add items'],
      ],
    },
  ]);
  const { entries } = decodeServerMessage(message);
  assert.deepEqual(
    entries.map((e) => e.type),
    ['sync', 'sync', 'saved', 'rejected', 'deferred'],
  );
  assert.deepEqual(
    entries.map((e) => e.doc),
    [A_DOC, 'vYJFzpw5BRBqUCJbD6fqpw9KVzs', 'wMMA5DdSLN3DJ4Zo9mRVUczQabU', 'xAQ49cKoVJtb7vq16SB98EG7epC', 'xySxE12AeFjxwo6D36vnmqtnjxz'],
  );
  assert.equal(entries[1].compensated[0].reviewItem, 'review-7');
  assert.equal(entries[3].message, '您没有修改该案件的权限，本次修改未保存。');
});

test('welcome, error and unknown codes', () => {
  const welcome = decodeServerMessage(
    encode([2, 'welcome', { cursor, fresh: true, changed: [id('A')], gone: [], limits: DEFAULT_LIMITS, later: 'ignored' }]),
  );
  assert.deepEqual(welcome.changed, [A_DOC]);
  assert.equal(welcome.limits.max_entries, 256);
  const error = decodeServerMessage(encode([2, 'error', { code: 'unavailable', message: '服务器暂时不可用，请稍后重试。', retry: true }]));
  assert.deepEqual(error, { kind: 'error', code: 'unavailable', message: '服务器暂时不可用，请稍后重试。', retry: true });
  const rejected = decodeServerMessage(
    encode([2, 'batch', { round: 1, entries: [['rejected', id('A'), 'from_the_future', '']] }]),
  );
  assert.equal(rejected.entries[0].message, '服务器返回了本应用无法识别的原因，请升级应用后重试。');
});

test('malformed messages are refused with the code of PROTOCOL §10', () => {
  const small = { ...DEFAULT_LIMITS, max_message_bytes: 16 };
  assert.deepEqual(decodeError([2, 'welcome', { cursor, fresh: true, changed: [], gone: [], limits: DEFAULT_LIMITS }], small), {
    code: 'too_large',
    retry: false,
  });
  assert.deepEqual(decodeError([1, 'notify', {}]), { code: 'unsupported_version', retry: false }, 'a version 1 server');
  assert.deepEqual(decodeError([3, 'notify', {}]), { code: 'unsupported_version', retry: false });
  assert.deepEqual(decodeError(bytes('830264646f6e65a166637572736f72490100')), { code: 'malformed', retry: true });
  assert.deepEqual(decodeError(bytes('ff')), { code: 'malformed', retry: false });
  assert.deepEqual(decodeError(bytes('8302666e6f74696679a000')), { code: 'malformed', retry: false }, 'trailing bytes');
  assert.equal(decodeError([2, 'goodbye', {}]).code, 'malformed');
  assert.equal(decodeError([2, 'hello', { cursor: null, agent: 'x' }]).code, 'malformed', 'a client kind');
  assert.equal(decodeError({ kind: 'notify' }).code, 'malformed');
  assert.equal(decodeError([2, 'notify', {}, 4]).code, 'malformed');
  assert.equal(decodeError([2, 'done', { cursor: new Uint8Array(65) }]).code, 'malformed');
  assert.equal(decodeError([2, 'done', {}]).code, 'malformed');
  const entry = (doc) => ['deferred', doc];
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [entry(new Uint8Array(3))] }]).code, 'malformed', 'a case id is 16 bytes');
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [entry(A_DOC)] }]).code, 'malformed', 'a case id is bytes, not text');
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [entry(id('A')), entry(id('A'))] }]).code, 'malformed');
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [{ type: 'deferred', doc: id('A') }] }]).code, 'malformed', 'entries are arrays');
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [['sync', id('A')]] }]).code, 'malformed', 'a sync entry without its message');
  assert.equal(
    decodeError([2, 'batch', { round: 1, entries: [['saved', id('A'), ['AB'.repeat(32)], new Uint8Array(1)]] }]).code,
    'malformed',
    'hashes are lower-case hex',
  );
  assert.equal(decodeError([2, 'batch', { round: 1, entries: [['sync', id('A'), [66, 1]]] }]).code, 'malformed', 'bytes, never arrays');
});

test('every code and default message is the one in docs/PROTOCOL.md', () => {
  const doc = readFileSync(new URL('../../../../docs/PROTOCOL.md', import.meta.url), 'utf8');
  for (const [code, message] of Object.entries(REJECT_MESSAGES)) {
    assert.ok(doc.includes(`| \`${code}\` |`) && doc.includes(`| ${message} |`), `rejection ${code}`);
  }
  for (const [code, { retry, message }] of Object.entries(ERROR_CODES)) {
    assert.ok(new RegExp(`\\| \`${code}\` \\| ${retry ? 'yes' : 'no'} \\|.*\\| ${message} \\|`).test(doc), `error ${code}`);
  }
});
