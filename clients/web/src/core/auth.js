// Identity on the device (DESIGN §10): login with a password, short-lived access tokens and a
// rotating refresh token bound to this device. Tokens expire while a tablet is offline; nothing is
// lost: the device refreshes when back online, then syncs. Only when the refresh token itself is
// refused must the person log in again, and their cases stay on the device meanwhile.
//
// Endpoints (server/src/http.rs, server/src/auth/mod.rs):
//   POST /v1/auth/login   { user_id, password, device_id, device_name } → Session
//   POST /v1/auth/refresh { refresh_token }                             → Session
//   GET  /v1/auth/me      Authorization: Bearer                          → { user, device_id }
// Session: { access_token, token_type, expires_at, refresh_token, refresh_expires_at,
//            user: { id, name, unit, roles }, device_id }; times in Unix seconds.
// Errors: JSON { code, message } with the HTTP status.

/** The server refused (wrong password, expired refresh token, revoked device...). */
export class AuthError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }

  /** The person must log in again (the refresh token is no good). */
  get needsLogin() {
    return this.status === 401 || this.status === 403;
  }
}

/** The server could not be reached. */
export class NetworkError extends Error {
  constructor(message = '无法连接服务器，请检查网络') {
    super(message);
  }
}

async function postJson(fetchImpl, url, body) {
  let response;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new NetworkError();
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status >= 500 && !data?.code) throw new NetworkError(`服务器暂时不可用（${response.status}），请稍后重试`);
    throw new AuthError(data?.code ?? `http_${response.status}`, data?.message ?? `服务器拒绝了请求（${response.status}）`, response.status);
  }
  if (!data || typeof data.access_token !== 'string' || !data.user) throw new NetworkError('服务器的应答无法识别');
  return data;
}

/** Logs in on this device; resolves with the session. */
export function login({ baseUrl = '', fetch: fetchImpl = globalThis.fetch.bind(globalThis), userId, password, deviceId, deviceName }) {
  return postJson(fetchImpl, `${baseUrl}/v1/auth/login`, {
    user_id: userId,
    password,
    device_id: deviceId,
    device_name: deviceName,
  });
}

/** The access token of a session, refreshed when it is about to expire. */
export class Auth {
  /**
   * @param session the stored session
   * @param save `async (session) => void`, persisting a rotated session
   * @param now `() => seconds`
   */
  constructor({ baseUrl = '', fetch: fetchImpl = globalThis.fetch.bind(globalThis), session, save, now = () => Date.now() / 1000 }) {
    this.baseUrl = baseUrl;
    this.fetch = fetchImpl;
    this.session = session;
    this.save = save;
    this.now = now;
    this.refreshing = null;
    this.loginRequired = null;
  }

  get user() {
    return this.session.user;
  }

  /** An access token valid for at least `minValidity` more seconds. */
  async accessToken({ minValidity = 60 } = {}) {
    if (this.loginRequired) throw this.loginRequired;
    if (this.session.expires_at - minValidity > this.now()) return this.session.access_token;
    return (await this.refresh()).access_token;
  }

  /** Forgets the access token (the server said it expired): the next call refreshes. */
  expireAccessToken() {
    this.session = { ...this.session, expires_at: 0 };
  }

  /** Exchanges the refresh token; concurrent callers share one exchange (the token rotates). */
  refresh() {
    if (!this.refreshing) {
      this.refreshing = (async () => {
        try {
          const next = await postJson(this.fetch, `${this.baseUrl}/v1/auth/refresh`, { refresh_token: this.session.refresh_token });
          this.session = next;
          await this.save(next);
          return next;
        } catch (e) {
          if (e instanceof AuthError && e.needsLogin) this.loginRequired = e;
          throw e;
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }
}
