// What this browser remembers across users: a device id per user (the server binds a device to
// the first user who logs in on it, so two people sharing a tablet each get their own), the last
// user, and for offline unlocking a salted PBKDF2 verifier of each user's password: a mediator
// whose tablet restarts in a village without network can still open their cases.

import { newDeviceId, toHex } from './schema/ids.js';
import { openDatabase, request, transaction } from './replica/idb.js';

const DB_NAME = 'fengqiao-device';
const ITERATIONS = 210000;

async function pbkdf2(password, salt) {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: ITERATIONS }, key, 256);
  return toHex(new Uint8Array(bits));
}

export class DeviceRegistry {
  static async open(name = DB_NAME) {
    const db = await openDatabase(name, 1, (d) => d.createObjectStore('kv', { keyPath: 'key' }));
    return new DeviceRegistry(db);
  }

  constructor(db) {
    this.db = db;
  }

  async get(key) {
    return (await transaction(this.db, ['kv'], 'readonly', (s) => request(s.kv.get(key))))?.value;
  }

  async put(key, value) {
    await transaction(this.db, ['kv'], 'readwrite', (s) => void s.kv.put({ key, value }));
  }

  /** This browser's device id for `userId`, made on first use. */
  async deviceIdFor(userId) {
    const ids = (await this.get('deviceIds')) ?? {};
    if (!ids[userId]) {
      ids[userId] = newDeviceId();
      await this.put('deviceIds', ids);
    }
    return ids[userId];
  }

  async lastUser() {
    return (await this.get('lastUser')) ?? null;
  }

  async setLastUser(userId) {
    await this.put('lastUser', userId);
  }

  /** Users who have logged in here: `[{ id, name, unit }]`. */
  async knownUsers() {
    const users = (await this.get('users')) ?? {};
    return Object.values(users).map((u) => u.user);
  }

  /** Remembers a user after an online login, with a verifier of the password for offline use. */
  async rememberUser(user, password) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const users = (await this.get('users')) ?? {};
    users[user.id] = { user: { id: user.id, name: user.name, unit: user.unit }, salt: toHex(salt), verifier: await pbkdf2(password, salt) };
    await this.put('users', users);
  }

  /** Checks a password without the server; true only for a user who logged in here before. */
  async verifyOffline(userId, password) {
    const record = ((await this.get('users')) ?? {})[userId];
    if (!record) return false;
    const salt = Uint8Array.from(record.salt.match(/../g).map((h) => parseInt(h, 16)));
    return (await pbkdf2(password, salt)) === record.verifier;
  }

  async forgetUser(userId) {
    const users = (await this.get('users')) ?? {};
    delete users[userId];
    await this.put('users', users);
  }
}
