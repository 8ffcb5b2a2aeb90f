// The Fengqiao sync protocol, version 2 (docs/PROTOCOL.md), on the wire: CBOR messages
// `[version, kind, body]`, the limits checked while decoding, and the codes with their default
// Chinese messages. Mirrors sync/src/protocol.rs; the tests read the same examples.

import { decode, encode } from 'cborg';
import { decodeCaseId, encodeCaseId } from '../schema/ids.js';

export const PROTOCOL_VERSION = 2;

/** The defaults of PROTOCOL §9; the client keeps to the smaller of these and the server's. */
export const DEFAULT_LIMITS = Object.freeze({
  max_message_bytes: 8 * 1024 * 1024,
  max_entries: 256,
  max_doc_message_bytes: 1024 * 1024,
});

/** Bytes of every batch kept for the envelope (array header, version, kind, round, cursor). */
export const FRAME_RESERVE = 256;

const MAX_CURSOR_BYTES = 64;
const HASH = /^[0-9a-f]{64}$/;

/** Why the server refused one case's message (PROTOCOL §8.1), with the default text. */
export const REJECT_MESSAGES = Object.freeze({
  malformed: '该案件的同步数据已损坏，服务器未保存本次修改。',
  too_large: '该案件本次提交的数据过大，服务器未保存本次修改。',
  too_many_ops: '该案件中有一次修改的内容过多，服务器未保存本次修改。',
  not_found: '案件不存在，或您无权查看该案件。',
  no_write_access: '您没有修改该案件的权限，本次修改未保存。',
  may_not_open: '您无权在该单位登记此类案件，该案件未保存。',
  actor_bound_to_other: '本设备的修改标识已属于其他用户或设备，本次修改未保存，请联系管理员。',
  replaces_section: '本次修改删除或整体替换了案件的某个部分，服务器拒绝保存。',
  unknown_section: '本次修改写入了案件文档中不存在的部分，服务器拒绝保存。',
  newer_schema: '该案件由更新版本的软件创建，服务器暂不能保存本次修改。',
  not_a_case: '这不是一份有效的案件文档，服务器未保存。',
  cannot_apply: '修改无法合并到案件中，服务器未保存本次修改。',
  doc_too_large: '该案件文档过大，无法同步到本设备，请联系管理员。',
});

/** Why a whole session stopped (PROTOCOL §8.4): default text and whether to try again. */
export const ERROR_CODES = Object.freeze({
  unsupported_version: { retry: false, message: '同步协议版本不受支持，请升级应用。' },
  malformed: { retry: false, message: '同步消息格式错误，本次同步已中止。' },
  too_large: { retry: false, message: '同步消息过大，本次同步已中止。' },
  too_many_entries: { retry: false, message: '一批中的案件过多，本次同步已中止。' },
  unexpected_message: { retry: true, message: '同步步骤顺序错误，请重新同步。' },
  unauthorized: { retry: true, message: '登录已过期，请重新登录后再同步。' },
  device_revoked: { retry: false, message: '本设备已被停用，无法同步，请联系管理员。' },
  unavailable: { retry: true, message: '服务器暂时不可用，请稍后重试。' },
  internal: { retry: true, message: '服务器内部错误，请稍后重试。' },
});

const UNKNOWN_CODE_MESSAGE = '服务器返回了本应用无法识别的原因，请升级应用后重试。';

/** A session failure `{ code, message, retry }` with the code's default text. */
export function failure(code, overrides = {}) {
  const known = ERROR_CODES[code];
  return { code, message: known?.message ?? UNKNOWN_CODE_MESSAGE, retry: known?.retry ?? false, ...overrides };
}

/** A rejection `{ code, message }` with the code's default text. */
export function rejection(code, message) {
  return { code, message: message || REJECT_MESSAGES[code] || UNKNOWN_CODE_MESSAGE };
}

/** Bytes that are not a message this client can read. */
export class DecodeError extends Error {
  /** `code` is the session error code it ends the session with; `detail` is English, for logs. */
  constructor(code, detail, { retry } = {}) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
    this.retry = retry;
  }

  toFailure() {
    return failure(this.code, this.retry === undefined ? {} : { retry: this.retry });
  }
}

// Insertion order, not sorted: the bytes then match what the Rust side writes for the same message.
const ENCODE_OPTIONS = { mapSorter: null };

/** `[2, "hello", {cursor, agent}]`; `cursor` is null on a fresh device. */
export function encodeHello({ cursor, agent }) {
  return encode([PROTOCOL_VERSION, 'hello', { cursor: cursor ?? null, agent }], ENCODE_OPTIONS);
}

/** The 16 bytes a case id is written as on the wire. */
function wireId(doc) {
  const bytes = decodeCaseId(doc);
  if (!bytes) throw new Error(`not a case id: ${doc}`);
  return bytes;
}

/** `[2, "batch", {round, cursor, entries: [[doc, sync]]}]`, each `doc` as its 16 bytes. */
export function encodeBatch({ round, cursor, entries }) {
  return encode(
    [PROTOCOL_VERSION, 'batch', { round, cursor, entries: entries.map(({ doc, sync }) => [wireId(doc), sync]) }],
    ENCODE_OPTIONS,
  );
}

/** The encoded size of one batch entry, to pack batches within the limits. */
export function encodedEntryLength(entry) {
  return encode([wireId(entry.doc), entry.sync], ENCODE_OPTIONS).length;
}

/** The smaller of each limit: what both peers accept. */
export function minLimits(a, b) {
  return {
    max_message_bytes: Math.min(a.max_message_bytes, b.max_message_bytes),
    max_entries: Math.max(1, Math.min(a.max_entries, b.max_entries)),
    max_doc_message_bytes: Math.min(a.max_doc_message_bytes, b.max_doc_message_bytes),
  };
}

function malformed(detail) {
  return new DecodeError('malformed', detail);
}

function field(body, key, check, what) {
  if (!Object.hasOwn(body, key)) throw malformed(`missing field ${key}`);
  const value = body[key];
  if (!check(value)) throw malformed(`field ${key} is not ${what}`);
  return value;
}

const isBytes = (v) => v instanceof Uint8Array;
const isText = (v) => typeof v === 'string';
const isBool = (v) => typeof v === 'boolean';
const isUint = (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
const isCursor = (v) => isBytes(v) && v.length <= MAX_CURSOR_BYTES;
const isDoc = (v) => isBytes(v) && v.length === 16;
const isHash = (v) => isText(v) && HASH.test(v);
const arrayOf = (check) => (v) => Array.isArray(v) && v.every(check);
const toNumber = (v) => (typeof v === 'bigint' ? Number(v) : v);

/** The `compensated` item of an entry, if present (left out when empty). */
function compensations(list) {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw malformed('compensated is not an array');
  return list.map((c) => {
    if (!isMap(c)) throw malformed('a compensation is not a map');
    return {
      section: field(c, 'section', isText, 'text'),
      reverted: field(c, 'reverted', arrayOf(isHash), 'an array of hashes'),
      reason: field(c, 'reason', isText, 'text'),
      reviewItem: field(c, 'review_item', isText, 'text'),
    };
  });
}

/** The `index`th item of an entry array, which must be there and pass `check`. */
function item(entry, index, check, what) {
  if (entry.length <= index) throw malformed(`an entry has no item ${index}`);
  const value = entry[index];
  if (!check(value)) throw malformed(`item ${index} of an entry is not ${what}`);
  return value;
}

/** A case id from its 16 bytes on the wire. */
const caseId = (bytes) => encodeCaseId(bytes);

/** One entry of a server batch: `[kind, doc, ...]` (PROTOCOL §5.4); items after the known ones are ignored. */
function docReply(entry) {
  if (!Array.isArray(entry)) throw malformed('an entry is not an array');
  const type = item(entry, 0, isText, 'text');
  const doc = caseId(item(entry, 1, isDoc, 'a case id of 16 bytes'));
  switch (type) {
    case 'sync':
      return { type, doc, sync: item(entry, 2, isBytes, 'bytes'), compensated: compensations(entry[3]) };
    case 'saved':
      return {
        type,
        doc,
        heads: item(entry, 2, arrayOf(isHash), 'an array of hashes'),
        document: item(entry, 3, isBytes, 'bytes'),
      };
    case 'rejected': {
      const code = item(entry, 2, isText, 'text');
      return { type, doc, ...rejection(code, item(entry, 3, isText, 'text')) };
    }
    case 'deferred':
      return { type, doc, compensated: compensations(entry[2]) };
    default:
      throw malformed(`unknown entry type ${type}`);
  }
}

/**
 * Decodes one server message within `limits`: `{ kind: 'welcome' | 'batch' | 'done' | 'error' |
 * 'notify', ... }`. Throws `DecodeError` for bytes that are not one.
 */
export function decodeServerMessage(bytes, limits = DEFAULT_LIMITS) {
  if (bytes.length > limits.max_message_bytes) {
    throw new DecodeError('too_large', `message of ${bytes.length} bytes exceeds ${limits.max_message_bytes}`);
  }
  let value;
  try {
    value = decode(bytes, { rejectDuplicateMapKeys: true, allowUndefined: false });
  } catch (e) {
    const truncated = /unexpected end|not enough data|out of data|premature/i.test(String(e.message));
    throw new DecodeError('malformed', truncated ? 'message ends early' : `not CBOR: ${e.message}`, truncated ? { retry: true } : {});
  }
  if (!Array.isArray(value) || value.length === 0) throw malformed('not an array');
  if (!isUint(value[0])) throw malformed('the version is not an unsigned integer');
  if (toNumber(value[0]) !== PROTOCOL_VERSION) {
    throw new DecodeError('unsupported_version', `protocol version ${value[0]}`);
  }
  if (value.length !== 3) throw malformed(`an array of ${value.length} items`);
  const [, kind, body] = value;
  if (!isText(kind)) throw malformed('the kind is not text');
  if (!isMap(body)) throw malformed('the body is not a map');
  switch (kind) {
    case 'welcome': {
      const limitsBody = field(body, 'limits', isMap, 'a map');
      return {
        kind,
        cursor: field(body, 'cursor', isCursor, 'a cursor'),
        fresh: field(body, 'fresh', isBool, 'a boolean'),
        changed: field(body, 'changed', arrayOf(isDoc), 'an array of case ids').map(caseId),
        gone: field(body, 'gone', arrayOf(isDoc), 'an array of case ids').map(caseId),
        limits: {
          max_message_bytes: toNumber(field(limitsBody, 'max_message_bytes', isUint, 'an integer')),
          max_entries: toNumber(field(limitsBody, 'max_entries', isUint, 'an integer')),
          max_doc_message_bytes: toNumber(field(limitsBody, 'max_doc_message_bytes', isUint, 'an integer')),
        },
      };
    }
    case 'batch': {
      const entries = field(body, 'entries', Array.isArray, 'an array').map(docReply);
      const seen = new Set();
      for (const e of entries) {
        if (seen.has(e.doc)) throw malformed(`case ${e.doc} appears twice`);
        seen.add(e.doc);
      }
      return { kind, round: toNumber(field(body, 'round', isUint, 'an integer')), entries };
    }
    case 'done':
      return { kind, cursor: field(body, 'cursor', isCursor, 'a cursor') };
    case 'error': {
      const code = field(body, 'code', isText, 'text');
      return {
        kind,
        code,
        message: field(body, 'message', isText, 'text'),
        retry: field(body, 'retry', isBool, 'a boolean'),
      };
    }
    case 'notify':
      return { kind };
    default:
      throw malformed(`unknown message kind ${kind}`);
  }
}
