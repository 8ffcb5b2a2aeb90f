// Identifiers. A case id is 16 random bytes written the way automerge-repo writes document ids
// (base58check), so that a case can also be addressed as an `automerge:` URL. Items of lists
// (parties, sessions, handoffs) get random ids so that devices adding items offline never collide.

import bs58check from 'bs58check';

function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The base58check text of a 16-byte case id. */
export function encodeCaseId(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 16) throw new Error('a case id has 16 bytes');
  return bs58check.encode(bytes);
}

/** The 16 bytes of a case id (with or without `automerge:`), or null if it is not one. */
export function decodeCaseId(s) {
  if (typeof s !== 'string') return null;
  const bare = s.startsWith('automerge:') ? s.slice('automerge:'.length) : s;
  try {
    const bytes = bs58check.decode(bare);
    return bytes.length === 16 ? bytes : null;
  } catch {
    return null;
  }
}

export function isCaseId(s) {
  return decodeCaseId(s) !== null;
}

/** A fresh case id. */
export function newCaseId() {
  return encodeCaseId(randomBytes(16));
}

/** A fresh id for a list item, e.g. `party-3f9a0c1d2e4b5a69`. */
export function newItemId(prefix) {
  return `${prefix}-${toHex(randomBytes(8))}`;
}

/** A fresh Automerge actor id (16 random bytes, hex) for one user on one device. */
export function newActorId() {
  return toHex(randomBytes(16));
}

/** A fresh device id for one user on this browser. */
export function newDeviceId() {
  return `web-${toHex(randomBytes(12))}`;
}
