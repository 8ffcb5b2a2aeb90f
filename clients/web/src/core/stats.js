// The supervisor dashboard's data: `GET /v1/stats?unit=&from=&to=` (server/src/stats.rs, being
// finished on the server side). Kept apart from the page so that the page only renders what this
// returns, and so the shape it expects is written down in one place:
//
//   { unit, from, to, today,
//     rates: [RateRow],                              RateRow = { code, label, numerator,
//     by_track, by_dispute_type, by_source,                       denominator, percent_2dp, percent }
//     by_outcome: { <code>: count },
//     overdue_total, due_soon_total: count,
//     overdue, due_soon: [{ case_number, track, rule, due_on }]   (the 100 most urgent of each),
//     trend: [{ month: "2026-01", rates: [RateRow] }],
//     townships: [{ township, name, registered, concluded, mediation_success: Rate, on_time: Rate }] }
//
// Anything missing reads as empty; a server without the endpoint (404) is reported as such.

import { AuthError, NetworkError } from './auth.js';

/** The rates of LAW.md §4 in report order, with the labels of schema/src/rates.rs. */
export const RATE_KINDS = [
  ['mediation_success', '调解成功率'],
  ['comprehensive_correction', '行政复议综合纠错率'],
  ['direct_correction', '行政复议直接纠错率'],
  ['head_appearance', '行政机关负责人出庭应诉率'],
  ['lawsuit_loss', '行政诉讼败诉率'],
  ['on_time', '按期办结率'],
  ['timely_acceptance', '及时受理率'],
  ['satisfaction', '群众满意率'],
];

/**
 * A rate as the reports write it: `98.87%`, `100.00%`, or `—` when nothing was counted; rounded
 * half up in integer arithmetic, exactly as `Rate::percent_2dp` does.
 */
export function formatRate(rate) {
  const bp = percentBasisPoints(rate);
  if (bp === null) return '—';
  return `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`;
}

/** Hundredths of a percent, or null for 0/0. */
export function percentBasisPoints(rate) {
  if (!rate || !rate.denominator) return null;
  const n = BigInt(rate.numerator);
  const d = BigInt(rate.denominator);
  return Number((2n * n * 10000n + d) / (2n * d));
}

/** Labels of the deadline rules (schema/src/clocks.rs `Rule::label`). */
export const RULE_LABELS = {
  'petition.acceptance_notice': '书面告知是否受理',
  'petition.jurisdiction_objection': '对转送、交办事项提出异议',
  'petition.handling': '信访事项办理期限',
  'petition.review_request': '请求复查',
  'petition.review': '提出复查意见',
  'petition.re_review_request': '请求复核',
  'petition.re_review': '提出复核意见',
  'mediation.period': '调解期限',
  'mediation.labour_arbitration': '劳动争议调解期限',
  'mediation.judicial_confirmation': '申请司法确认',
  'reconsideration.application': '申请行政复议',
  'reconsideration.acceptance_review': '审查是否受理行政复议申请',
  'reconsideration.correction_notice': '通知补正申请材料',
  'reconsideration.correction_supply': '提交补正材料',
  'reconsideration.decision': '作出行政复议决定',
  'reconsideration.lawsuit': '对行政复议提起诉讼',
  'litigation.defence': '提交答辩状及证据',
  'litigation.first_instance': '第一审审理期限',
};

const int = (v) => (Number.isSafeInteger(v) && v >= 0 ? v : 0);
const str = (v) => (typeof v === 'string' ? v : '');
const list = (v) => (Array.isArray(v) ? v : []);
function rate(v) {
  if (!v || typeof v !== 'object') return { numerator: 0, denominator: 0 };
  const numerator = int(v.numerator);
  const denominator = int(v.denominator);
  return numerator <= denominator ? { numerator, denominator } : { numerator: 0, denominator: 0 };
}
/** `[RateRow]` (or a map by code) → `{ <code>: rate }` for every rate of the report. */
function rates(v) {
  const byCode = Array.isArray(v) ? Object.fromEntries(v.filter((r) => r && typeof r.code === 'string').map((r) => [r.code, r])) : v ?? {};
  return Object.fromEntries(RATE_KINDS.map(([code]) => [code, rate(byCode[code])]));
}
function counts(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).map(([k, n]) => [k, int(n)]));
}
function deadlines(v) {
  return list(v).map((d) => ({ caseNumber: str(d.case_number), track: str(d.track), rule: str(d.rule), dueOn: str(d.due_on) }));
}

/** Checks and fills in a `/v1/stats` answer, so the page never meets a missing field. */
export function normalizeStats(json) {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('统计数据格式不正确');
  return {
    unit: str(json.unit),
    from: str(json.from),
    to: str(json.to),
    today: str(json.today),
    rates: rates(json.rates),
    byTrack: counts(json.by_track),
    byDisputeType: counts(json.by_dispute_type),
    bySource: counts(json.by_source),
    byOutcome: counts(json.by_outcome),
    overdue: deadlines(json.overdue),
    dueSoon: deadlines(json.due_soon),
    // The lists hold the most urgent only; the totals count them all (an older server sent every
    // item and no total).
    overdueTotal: Math.max(int(json.overdue_total), list(json.overdue).length),
    dueSoonTotal: Math.max(int(json.due_soon_total), list(json.due_soon).length),
    trend: list(json.trend)
      .filter((t) => /^\d{4}-\d{2}$/.test(t?.month))
      .map((t) => ({ month: t.month, rates: rates(t.rates) })),
    townships: list(json.townships).map((t) => ({
      township: str(t.township),
      name: str(t.name) || str(t.township),
      registered: int(t.registered),
      concluded: int(t.concluded),
      mediationSuccess: rate(t.mediation_success),
      onTime: rate(t.on_time),
    })),
  };
}

/**
 * Fetches the statistics of `query` = `{ unit, from, to }` (dates YYYY-MM-DD). Resolves with one of:
 *   { status: 'ok', data }                  the figures (normalised)
 *   { status: 'unavailable', message }      the server does not offer /v1/stats (yet)
 *   { status: 'offline', message }          the server cannot be reached
 *   { status: 'error', message }            anything else, in Chinese
 */
export async function fetchStats({ auth, baseUrl = '', fetch: fetchImpl = globalThis.fetch.bind(globalThis), query = {} }) {
  let token;
  try {
    token = await auth.accessToken();
  } catch (e) {
    if (e instanceof NetworkError) return { status: 'offline', message: e.message };
    return { status: 'error', message: e instanceof AuthError ? e.message : '无法获取登录凭据' };
  }
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v));
  let response;
  try {
    response = await fetchImpl(`${baseUrl}/v1/stats${params.size ? `?${params}` : ''}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    return { status: 'offline', message: '无法连接服务器，统计数据需要联网查看' };
  }
  if ([404, 405, 501].includes(response.status)) {
    return { status: 'unavailable', message: '服务器尚未提供统计接口（/v1/stats），督查统计将在服务器提供该接口后显示。' };
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) return { status: 'error', message: body?.message ?? `服务器返回错误（${response.status}）` };
  try {
    return { status: 'ok', data: normalizeStats(body) };
  } catch (e) {
    return { status: 'error', message: e.message };
  }
}
