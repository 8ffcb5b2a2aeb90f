// The application's state outside any screen: who is logged in on this device, their replica,
// their session with the server and the sync manager, and the notices to show. Screens read it
// through `useApp()` and act through its methods.

import { loadDeadlines, loadUnits } from '../core/api.js';
import { Auth, AuthError, NetworkError, login as loginRequest } from '../core/auth.js';
import { DeviceRegistry } from '../core/device.js';
import { Replica } from '../core/replica/replica.js';
import { ItemGone } from '../core/schema/document.js';
import { SyncManager } from '../core/sync/manager.js';
import { httpTransport, syncUrls, webSocketTransport } from '../core/sync/transport.js';

export const AGENT = 'fengqiao-web/0.1.0';

function deviceName() {
  const ua = navigator.userAgent;
  const kind = /Android|iPad|Tablet/i.test(ua) ? '平板' : /Mobile/i.test(ua) ? '手机' : '电脑';
  return `网页端（${kind}）`;
}

export class AppController {
  constructor({ baseUrl = '', location = window.location } = {}) {
    this.baseUrl = baseUrl;
    this.location = location;
    this.phase = 'loading';
    this.device = null;
    this.user = null;
    this.replica = null;
    this.auth = null;
    this.sync = null;
    this.status = null;
    this.unreadNotices = 0;
    this.toasts = [];
    /** The units of the user's county (GET /v1/units), remembered for offline use. */
    this.units = [];
    /** Overdue and due-soon deadlines of the unit's cases (GET /v1/inbox), the last answer. */
    this.deadlines = null;
    this.listeners = new Set();
    /** Counts emitted changes (ui/hooks.js compares it to catch one made before it subscribed). */
    this.version = 0;
    this.bootError = null;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit() {
    this.version += 1;
    for (const l of this.listeners) l();
  }

  /** Opens the device registry and, if someone was logged in here, their replica. */
  async boot() {
    try {
      this.device = await DeviceRegistry.open();
      const last = await this.device.lastUser();
      if (last) {
        const replica = await Replica.open(last);
        const session = await replica.getMeta('session');
        if (session) {
          await this.enter(replica, session);
          return;
        }
        replica.close();
      }
      this.phase = 'login';
    } catch (e) {
      console.error(e);
      this.bootError = `本机存储无法打开：${e.message}`;
      this.phase = 'failed';
    }
    this.emit();
  }

  /**
   * Logs in: online against the server; without network, with the verifier kept from an earlier
   * online login on this device (the cases stay usable; sync waits for the network).
   */
  async login(userId, password) {
    const deviceId = await this.device.deviceIdFor(userId);
    let session;
    try {
      session = await loginRequest({ baseUrl: this.baseUrl, userId, password, deviceId, deviceName: deviceName() });
    } catch (e) {
      if (e instanceof NetworkError) {
        if (!(await this.device.verifyOffline(userId, password))) {
          throw new Error('无法连接服务器，且本机没有该账号的登录记录。首次登录需要联网。');
        }
        const replica = await Replica.open(userId);
        const stored = await replica.getMeta('session');
        if (!stored) {
          replica.close();
          throw new Error('无法连接服务器，本机没有该账号的登录信息。请联网后登录。');
        }
        await this.device.setLastUser(userId);
        await this.enter(replica, stored);
        this.goHome();
        this.toast('当前离线：已使用本机保存的登录信息，联网后自动同步。');
        return;
      }
      throw e;
    }
    const replica = await Replica.open(session.user.id);
    await replica.setMeta('session', session);
    await this.device.rememberUser(session.user, password);
    await this.device.setLastUser(session.user.id);
    await this.enter(replica, session);
    this.goHome();
  }

  /** After a login, start from the user's home screen, not the previous user's page. */
  goHome() {
    if (this.location.hash && this.location.hash !== '#/') this.location.hash = '#/';
  }

  async enter(replica, session) {
    this.replica = replica;
    this.user = session.user;
    this.auth = new Auth({ baseUrl: this.baseUrl, session, save: (s) => replica.setMeta('session', s) });
    const urls = syncUrls(this.location);
    this.sync = new SyncManager({
      replica,
      auth: this.auth,
      transports: { websocket: webSocketTransport({ url: urls.ws }), http: httpTransport({ url: urls.http }) },
      agent: AGENT,
      isOnline: () => navigator.onLine,
    });
    this.status = this.sync.status();
    this.sync.subscribe((status) => {
      this.status = status;
      this.emit();
    });
    replica.subscribe((event) => {
      if (event.type === 'notices') this.refreshNotices(true);
      if (event.type === 'storage-error') this.toast(`本机保存失败：${event.error.message}`, 'error');
      if (event.type === 'case' || event.type === 'stash') this.emit();
    });
    this.onlineListener = () => {
      this.sync.networkChanged();
      if (navigator.onLine && this.units.length === 0) this.refreshUnits();
    };
    window.addEventListener('online', this.onlineListener);
    window.addEventListener('offline', this.onlineListener);
    this.phase = 'ready';
    this.units = (await replica.getMeta('units')) ?? [];
    this.deadlines = (await replica.getMeta('deadlines')) ?? null;
    await this.refreshNotices(false);
    this.sync.start();
    this.emit();
    this.refreshUnits();
    this.refreshDeadlines();
  }

  /** Fetches the unit directory when the server answers; keeps the remembered one otherwise. */
  async refreshUnits() {
    const replica = this.replica;
    try {
      const units = await loadUnits({ auth: this.auth, replica, baseUrl: this.baseUrl });
      if (this.replica === replica) {
        this.units = units;
        this.emit();
      }
    } catch (e) {
      console.warn('unit directory not loaded', e);
    }
  }

  /** Fetches the deadline lists (offline: keeps the last ones, marked stale). */
  async refreshDeadlines() {
    const replica = this.replica;
    try {
      const deadlines = await loadDeadlines({ auth: this.auth, replica, baseUrl: this.baseUrl });
      if (this.replica === replica) {
        this.deadlines = deadlines;
        this.emit();
      }
      return deadlines;
    } catch (e) {
      if (this.replica === replica) {
        this.deadlines = { today: '', deadlines: [], stale: true, error: e.message };
        this.emit();
      }
      return this.deadlines;
    }
  }

  /** A unit's Chinese name (its code if the directory does not know it). */
  unitName(id) {
    if (!id) return '';
    return this.units.find((u) => u.id === id)?.name ?? id;
  }

  async refreshNotices(announce) {
    const notices = await this.replica.notices();
    const unread = notices.filter((n) => !n.read);
    if (announce && unread.length > this.unreadNotices) {
      for (const n of unread.slice(0, unread.length - this.unreadNotices).reverse()) {
        this.toast(n.message, n.kind === 'rejected' || n.kind === 'compensated' ? 'warning' : 'info');
      }
    }
    this.unreadNotices = unread.length;
    this.emit();
  }

  /** Logs out; the cases stay on this device for the next login. */
  async logout() {
    this.sync?.stop();
    window.removeEventListener('online', this.onlineListener);
    window.removeEventListener('offline', this.onlineListener);
    await this.replica?.flush();
    this.replica?.close();
    await this.device.setLastUser(null);
    Object.assign(this, { replica: null, user: null, auth: null, sync: null, status: null, phase: 'login', unreadNotices: 0, toasts: [], units: [], deadlines: null });
    this.emit();
  }

  /** A message at the bottom of the screen: 'info' | 'warning' | 'error'. */
  toast(message, kind = 'info') {
    const toast = { id: Math.random(), message, kind };
    this.toasts = [...this.toasts, toast].slice(-4);
    this.emit();
    setTimeout(() => this.dismiss(toast.id), kind === 'info' ? 6000 : 12000);
  }

  dismiss(id) {
    this.toasts = this.toasts.filter((t) => t.id !== id);
    this.emit();
  }

  /**
   * Edits an open case in one change. Returns true if it applied; an edit of an item deleted on
   * another device meanwhile is reported, not thrown.
   */
  edit(docId, message, fn) {
    try {
      this.replica.changeLoaded(docId, message, fn);
      return true;
    } catch (e) {
      if (e instanceof ItemGone) {
        this.toast('该条目已在其他设备上被删除，本次修改未保存。', 'warning');
        return false;
      }
      console.error(e);
      this.toast(`修改未保存：${e.message}`, 'error');
      return false;
    }
  }
}

export { AuthError };
