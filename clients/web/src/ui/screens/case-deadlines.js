// 期限: every deadline of one case, as the server's clocks compute them from the stored case
// (GET /v1/cases/{id}/deadlines): met and open, in every track, with the article, the period and
// how it is counted, extension and suspension, the due date, the status and the explanation.
// Fetched when the case screen opens and again once the server holds what this device holds;
// kept in the replica, so that offline the last answer shows, marked with when it was fetched.

import { html } from 'htm/preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import * as A from '../../core/automerge.js';
import { loadCaseDeadlines, rememberedCaseDeadlines } from '../../core/api.js';
import { formatDate } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Badge, Empty, Section } from '../components/common.js';
import { AppContext, useApp } from '../hooks.js';

/** Deadlines running and due within this many days are flagged 即将到期, as in the inbox. */
const DUE_SOON_DAYS = 14;

const STATUS_BADGE = { running: 'info', met: 'success', late: 'warning', overdue: 'danger', suspended: 'neutral' };
const COUNTING = { calendar_days: '自然日', working_days: '工作日' };
const DAY_MS = 86400000;

/** Days from one legal date to another (both YYYY-MM-DD). */
function daysBetween(from, to) {
  const at = (s) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
  return Math.round((at(to) - at(from)) / DAY_MS);
}

/** `30日（自然日）`, `5个工作日`, `6个月`, `1年`. */
export function periodText(d) {
  const n = d.period_length;
  switch (d.period_unit) {
    case 'calendar_days':
      return `${n}日（${COUNTING.calendar_days}）`;
    case 'working_days':
      return `${n}个${COUNTING.working_days}`;
    case 'months':
      return `${n}个月`;
    case 'years':
      return `${n}年`;
    default:
      return String(n ?? '');
  }
}

/** The day unit of a deadline's extension and suspension: working days count as working days. */
const dayUnit = (d) => (d.counting === 'working_days' ? '个工作日' : '日');

/** A running deadline due within `DUE_SOON_DAYS` of `today`. */
function dueSoon(d, today) {
  if (d.status !== 'running' || !today || !d.due_on) return false;
  return daysBetween(today, d.due_on) <= DUE_SOON_DAYS;
}

/**
 * The deadlines of a case: `{ result, loading, error, refresh }`, `result` being the last answer
 * (`{ today, deadlines, fetchedAt, stale }`) or null. Only a case the server registered (it has a
 * case number) is asked for; after that, whenever a sync leaves this device with nothing the
 * server lacks and the document changed since the last answer, and when the network returns.
 */
export function useCaseDeadlines(docId) {
  const app = useContext(AppContext);
  const replica = app.replica;
  const [state, setState] = useState({ result: null, loading: false, error: '' });
  const refreshRef = useRef(() => {});
  useEffect(() => {
    let live = true;
    let timer = null;
    let busy = false;
    let fetchedHeads = null;
    const entry = () => replica.index.get(docId);
    const heads = () => {
      const doc = replica.peek(docId);
      return doc ? A.getHeads(doc).join(',') : '';
    };
    const fetchNow = async () => {
      if (!live || busy || !entry()?.summary?.caseNumber) return;
      busy = true;
      const at = heads();
      setState((s) => ({ ...s, loading: true }));
      try {
        const result = await loadCaseDeadlines({ auth: app.auth, replica, baseUrl: app.baseUrl }, docId);
        if (!result.stale) fetchedHeads = at;
        if (live) setState({ result, loading: false, error: result.error ?? '' });
      } catch (e) {
        if (live) setState((s) => ({ ...s, loading: false, error: e.message }));
      } finally {
        busy = false;
      }
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(fetchNow, 500);
    };
    refreshRef.current = fetchNow;
    rememberedCaseDeadlines(replica, docId).then((last) => {
      if (live && last) setState((s) => (s.result ? s : { ...s, result: last }));
    });
    fetchNow();
    const unsubscribe = replica.subscribe((e) => {
      if (e.type !== 'case' || e.docId !== docId || e.origin !== 'sync') return;
      // Until the server acknowledges this device's changes, its deadlines would not reflect them.
      if (entry()?.unacked) return;
      if (heads() !== fetchedHeads) schedule();
    });
    const online = () => schedule();
    const offline = () => setState((s) => (s.result ? { ...s, result: { ...s.result, stale: true } } : s));
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    return () => {
      live = false;
      clearTimeout(timer);
      unsubscribe();
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
    };
  }, [docId, replica]);
  return { ...state, refresh: () => refreshRef.current() };
}

function StatusBadges({ d, today }) {
  return html`<${Badge} kind=${STATUS_BADGE[d.status] ?? 'neutral'}>${d.status_label || d.status}<//>${dueSoon(d, today)
    ? html` <${Badge} kind="warning">即将到期<//>`
    : null}`;
}

/** One deadline with everything the server said about it. */
function DeadlineItem({ d, today }) {
  const extra = [
    d.extension_days > 0 ? `延长${d.extension_days}${dayUnit(d)}` : '',
    d.suspended_days > 0 ? `中止${d.suspended_days}${dayUnit(d)}不计入` : '',
  ].filter(Boolean);
  return html`<div class=${`item deadline deadline-${d.status}`} data-rule=${d.rule} data-status=${d.status} data-due=${d.due_on}>
    <div class="deadline-head">
      <strong class="deadline-label">${d.label || d.rule}</strong>
      <${StatusBadges} d=${d} today=${today} />
      <span class="muted">${label('track', d.track)} · ${d.kind === 'window' ? '当事人可在期限内行使' : '机关应在期限内办理'}</span>
    </div>
    <dl class="deadline-facts">
      <div><dt>依据</dt><dd>${d.article}</dd></div>
      <div><dt>起算</dt><dd>${d.start_event}（${formatDate(d.start_on) || d.start_on}）</dd></div>
      <div><dt>期间</dt><dd>${periodText(d)}${extra.length ? `，${extra.join('，')}` : ''}</dd></div>
      <div><dt>届满日</dt><dd class="deadline-due">${formatDate(d.due_on) || d.due_on}${d.shifted_from
        ? html`<span class="muted">（${formatDate(d.shifted_from)}为休息日，顺延）</span>`
        : null}</dd></div>
      ${d.met_on ? html`<div><dt>完成日</dt><dd>${formatDate(d.met_on) || d.met_on}</dd></div>` : null}
    </dl>
    <p class="deadline-explanation">${d.explanation}</p>
  </div>`;
}

/** When the list is from: the server today, or an earlier answer kept on the device. */
function AsOf({ result, loading, error }) {
  const when = result.fetchedAt ? new Date(result.fetchedAt).toLocaleString('zh-CN', { hour12: false }) : '';
  if (!result.stale) return html`<p class="hint deadlines-asof" data-stale="false">截至${formatDate(result.today)}，由服务器按本案已同步的记录计算。</p>`;
  const why = !navigator.onLine ? '当前离线' : loading ? '正在更新' : error ? `暂时无法更新（${error}）` : '正在更新';
  return html`<div class="banner deadlines-asof" role="status" data-stale="true">${why}：以下为${when}从服务器获取的期限，状态截至${formatDate(result.today)}。</div>`;
}

/** The 期限 tab: every deadline of the case. */
export function DeadlinesTab({ docId }) {
  const app = useApp();
  const entry = app.replica.index.get(docId);
  const { result, loading, error, refresh } = useCaseDeadlines(docId);
  const registered = Boolean(entry?.summary?.caseNumber);
  const actions = registered ? html`<button onClick=${refresh} disabled=${loading || !navigator.onLine}>刷新</button>` : null;
  let body;
  if (!registered) body = html`<${Empty}>案件上传到服务器并登记后，由服务器计算并显示本案的期限。<//>`;
  else if (!result) body = loading ? html`<p class="muted">正在获取本案期限…</p>` : html`<${Empty}>尚未从服务器获取本案期限${error ? `（${error}）` : ''}，联网后显示。<//>`;
  else
    body = html`<${AsOf} result=${result} loading=${loading} error=${error} />
      ${entry?.unacked ? html`<p class="hint">本机有尚未同步的修改，期限在同步后更新。</p>` : null}
      ${result.deadlines.length === 0
        ? html`<${Empty}>本案记录的事实尚未产生法定期限。<//>`
        : html`<div class="deadline-list">${result.deadlines.map((d) => html`<${DeadlineItem} key=${`${d.rule}-${d.start_on}`} d=${d} today=${result.today} />`)}</div>`}`;
  return html`<${Section} title="本案期限" actions=${actions}>${body}<//>`;
}

/** On a track's tab: that track's deadlines not yet met, short, with a link to the 期限 tab. */
export function TrackDeadlines({ docId, track }) {
  const { result } = useCaseDeadlines(docId);
  const open = (result?.deadlines ?? []).filter((d) => d.track === track && d.status !== 'met' && d.status !== 'late');
  if (open.length === 0) return null;
  return html`<${Section} title="期限提醒" actions=${html`<a href=${`#/case/${encodeURIComponent(docId)}/deadlines`}>本案全部期限</a>`}>
    ${result.stale ? html`<p class="hint">截至${new Date(result.fetchedAt).toLocaleString('zh-CN', { hour12: false })}从服务器获取。</p>` : null}
    ${open.map((d) => html`<div class=${`item deadline deadline-${d.status}`} key=${`${d.rule}-${d.start_on}`} data-rule=${d.rule}>
      <strong>${d.label || d.rule}</strong> · 届满日 ${formatDate(d.due_on) || d.due_on} <${StatusBadges} d=${d} today=${result.today} />
      <p class="hint">${d.explanation}</p>
    </div>`)}
  <//>`;
}
