// The JSON API beside sync (server/src/api.rs, report.rs): the unit directory, the inbox's
// deadlines, every deadline of one case, marking a review item done, the annual report's address.
// What the tablet needs offline (the unit directory, the last deadline lists, each opened case's
// deadlines) is kept in the replica's meta store and read from there when the network is away.

import { AuthError, NetworkError } from './auth.js';

/** An API call failed: `message` is Chinese, `offline` says the server could not be reached. */
export class ApiError extends Error {
  constructor(message, { offline = false, status = 0, code = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.offline = offline;
    this.status = status;
    this.code = code;
  }
}

/** Calls `path` with the user's access token; resolves with the JSON body. */
export async function apiJson({ auth, baseUrl = '', fetch: fetchImpl = globalThis.fetch.bind(globalThis) }, path, init = {}) {
  // Without network, do not even try (a failed request is also an error in the browser's console).
  if (globalThis.navigator?.onLine === false) throw new ApiError('无法连接服务器', { offline: true });
  let token;
  try {
    token = await auth.accessToken();
  } catch (e) {
    if (e instanceof NetworkError) throw new ApiError('无法连接服务器', { offline: true });
    throw new ApiError(e instanceof AuthError ? e.message : '无法获取登录凭据');
  }
  let response;
  try {
    response = await fetchImpl(`${baseUrl}${path}`, {
      ...init,
      cache: 'no-store',
      headers: { Accept: 'application/json', Authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
    });
  } catch {
    throw new ApiError('无法连接服务器', { offline: true });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(body?.message ?? `服务器返回错误（${response.status}）`, { status: response.status, code: body?.code ?? '' });
  return body;
}

/**
 * The units of the user's county: `[{ id, name, kind, parent, tracks }]`, from the server when it
 * answers (and remembered), else as last remembered; `[]` if never fetched.
 */
export async function loadUnits({ auth, replica, baseUrl = '', fetch }) {
  try {
    const body = await apiJson({ auth, baseUrl, fetch }, '/v1/units');
    const units = Array.isArray(body?.units) ? body.units : [];
    await replica.setMeta('units', units);
    return units;
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return (await replica.getMeta('units')) ?? [];
  }
}

/** The units that may receive a case of `track`, by name. */
export function receiversOf(units, track) {
  return units.filter((u) => Array.isArray(u.tracks) && u.tracks.includes(track)).sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
}

/**
 * The inbox's deadlines (overdue, and due within `days`) of the cases in the user's unit's
 * custody, each with the explanation the server's clocks wrote. Resolves with `{ today,
 * deadlines, fetchedAt, stale }`; offline, the last answer with `stale: true`.
 */
export async function loadDeadlines({ auth, replica, baseUrl = '', fetch, days = 14 }) {
  try {
    const body = await apiJson({ auth, baseUrl, fetch }, `/v1/inbox?days=${days}`);
    const result = { today: body.today ?? '', deadlines: Array.isArray(body.deadlines) ? body.deadlines : [], fetchedAt: Date.now() };
    await replica.setMeta('deadlines', result);
    return { ...result, stale: false };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const last = await replica.getMeta('deadlines');
    if (last) return { ...last, stale: true, error: e.message };
    throw e;
  }
}

/** The replica meta key under which a case's deadlines are remembered. */
export const caseDeadlinesKey = (caseId) => `case-deadlines:${caseId}`;

/**
 * Every deadline of one case (GET /v1/cases/{id}/deadlines: met and open, every track, with
 * article, period, status and the explanation the server's clocks wrote). Resolves with
 * `{ caseId, today, deadlines, fetchedAt, stale }`: from the server when it answers (and
 * remembered in the replica), else the last answer with `stale: true` and the reason in `error`.
 * Rejects with an ApiError when the server cannot be asked and nothing is remembered.
 */
export async function loadCaseDeadlines({ auth, replica, baseUrl = '', fetch }, caseId) {
  const key = caseDeadlinesKey(caseId);
  try {
    const body = await apiJson({ auth, baseUrl, fetch }, `/v1/cases/${encodeURIComponent(caseId)}/deadlines`);
    const result = { caseId, today: body?.today ?? '', deadlines: Array.isArray(body?.deadlines) ? body.deadlines : [], fetchedAt: Date.now() };
    await replica.setMeta(key, result);
    return { ...result, stale: false };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const last = await replica.getMeta(key);
    if (last) return { ...last, stale: true, error: e.message };
    throw e;
  }
}

/** The deadlines of a case as last fetched (`stale: true`), or null if never fetched here. */
export async function rememberedCaseDeadlines(replica, caseId) {
  const last = await replica.getMeta(caseDeadlinesKey(caseId));
  return last ? { ...last, stale: true } : null;
}

/** Asks the server to mark a review item done; it writes the item and the device gets it by sync. */
export function markReviewDone({ auth, baseUrl = '', fetch }, caseId, itemId) {
  return apiJson({ auth, baseUrl, fetch }, `/v1/cases/${encodeURIComponent(caseId)}/review/${encodeURIComponent(itemId)}/done`, { method: 'POST' });
}

/** The address of the annual report (server/src/report.rs) of `unit` for `year`. */
export function annualReportUrl({ year, unit, format }, baseUrl = '') {
  const params = new URLSearchParams({ year: String(year), unit, format });
  return `${baseUrl}/v1/reports/annual?${params}`;
}

/**
 * Fetches the annual report (it needs the access token, so it cannot be a plain link) and
 * resolves with `{ blob, fileName }`; the file name is the server's (Content-Disposition).
 */
export async function fetchAnnualReport({ auth, baseUrl = '', fetch: fetchImpl = globalThis.fetch.bind(globalThis) }, query) {
  if (globalThis.navigator?.onLine === false) throw new ApiError('无法连接服务器，年度报表需要联网下载', { offline: true });
  let token;
  try {
    token = await auth.accessToken();
  } catch (e) {
    throw new ApiError(e instanceof NetworkError ? '无法连接服务器，年度报表需要联网下载' : e.message, { offline: e instanceof NetworkError });
  }
  let response;
  try {
    response = await fetchImpl(annualReportUrl(query, baseUrl), { cache: 'no-store', headers: { Authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiError('无法连接服务器，年度报表需要联网下载', { offline: true });
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new ApiError(body?.message ?? `服务器返回错误（${response.status}）`, { status: response.status, code: body?.code ?? '' });
  }
  const disposition = response.headers.get('Content-Disposition') ?? '';
  const utf8 = disposition.match(/filename\*=UTF-8''([^;]+)/i);
  const plain = disposition.match(/filename="?([^";]+)"?/i);
  const fallback = `annual-report-${query.unit}-${query.year}.${query.format === 'xlsx' ? 'xlsx' : 'md'}`;
  const fileName = utf8 ? decodeURIComponent(utf8[1]) : plain ? plain[1] : fallback;
  return { blob: await response.blob(), fileName };
}
