// 移交待办 for county officers: handoffs the server put in this unit's inbox. Accepting or
// rejecting (with a reason) is written into the case, offline if need be; the first decision to
// reach the server counts, and the server then moves custody.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { missingFields } from '../../core/schema/handoff.js';
import { canDecide } from '../../core/schema/handoff.js';
import { readCase } from '../../core/schema/document.js';
import { decideHandoff } from '../../core/schema/operations.js';
import { formatDate, formatInstant } from '../../core/schema/time.js';
import { RULE_LABELS } from '../../core/stats.js';
import { label } from '../../core/schema/vocab.js';
import { Badge, Empty } from '../components/common.js';
import { useApp, useCaseList } from '../hooks.js';

export function InboxScreen() {
  const app = useApp();
  const cases = useCaseList();
  const user = app.user;
  const items = cases.flatMap((e) =>
    e.summary.pendingHandoffs
      .filter((h) => canDecide(user, { to_track: h.toTrack, to_unit: h.toUnit }))
      .map((h) => ({ caseId: e.id, summary: e.summary, h, unsynced: e.unacked })),
  );
  return html`<div class="page">
    <header class="page-head"><h1>移交待办</h1></header>
    ${items.length === 0
      ? html`<${Empty}>没有待接收的移交申请。服务器审查通过的移交申请会在同步后出现在这里。<//>`
      : items.map((item) => html`<${InboxItem} key=${item.h.id} item=${item} />`)}
    <${DeadlineLists} />
  </div>`;
}

/** 已逾期 and 即将到期: the deadlines of the cases in the unit's custody, with explanations. */
function DeadlineLists() {
  const app = useApp();
  useEffect(() => {
    app.refreshDeadlines();
  }, [app.status?.state === 'synced']);
  const result = app.deadlines;
  const all = result?.deadlines ?? [];
  const titles = new Map(app.replica.list().map((e) => [e.id, e.summary.title]));
  const table = (rows) =>
    rows.length === 0
      ? html`<${Empty}>没有。<//>`
      : html`<table class="table deadlines"><thead><tr><th>案件</th><th>期限</th><th>届满日</th><th>说明</th></tr></thead><tbody>
        ${rows.map((d) => html`<tr key=${`${d.case_id}-${d.rule}`}>
          <td><a href=${`#/case/${encodeURIComponent(d.case_id)}/deadlines`}>${titles.get(d.case_id) || d.case_number || '（未登记）'}</a><div class="muted">${d.case_number}</div></td>
          <td>${RULE_LABELS[d.rule] ?? d.rule}<div class="muted">${label('track', d.track)}</div></td>
          <td>${formatDate(d.due_on) || d.due_on}</td>
          <td class="explanation">${d.explanation}</td></tr>`)}
        </tbody></table>`;
  const overdue = all.filter((d) => d.status === 'overdue');
  const soon = all.filter((d) => d.status !== 'overdue');
  return html`<div class="deadline-lists">
    ${result?.stale ? html`<div class="banner" role="status">当前无法连接服务器，以下为上次联网时的期限${result.fetchedAt ? `（${new Date(result.fetchedAt).toLocaleString('zh-CN')}）` : ''}。</div>` : null}
    <section class="card" data-list="overdue"><header class="card-head"><h2>已逾期（${overdue.length}）</h2></header>${table(overdue)}</section>
    <section class="card" data-list="due-soon"><header class="card-head"><h2>即将到期（${soon.length}）</h2><span class="muted">十四日内届满</span></header>${table(soon)}</section>
  </div>`;
}

function InboxItem({ item }) {
  const app = useApp();
  const { caseId, summary, h } = item;
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [missing, setMissing] = useState(null);
  const decide = async (verdict) => {
    setError('');
    if (verdict === 'reject' && !note.trim()) return setError('拒绝接收时请填写理由');
    await app.replica.doc(caseId);
    const ok = app.edit(caseId, verdict === 'accept' ? '接收移交' : '拒绝移交', (d) => decideHandoff(d, h.id, { user: app.user, verdict, note: note.trim() }));
    if (ok) app.toast(verdict === 'accept' ? '已接收，同步后由服务器办理管辖转移。' : '已拒绝，同步后通知移交单位。');
  };
  const check = async () => {
    const doc = await app.replica.doc(caseId);
    setMissing(missingFields(readCase(doc), h.fromTrack, h.toTrack));
  };
  return html`<section class="card inbox-item" data-handoff=${h.id}>
    <header class="card-head">
      <h2><a href=${`#/case/${encodeURIComponent(caseId)}`}>${summary.title}</a></h2>
      <div class="actions">${summary.caseNumber ? html`<span>${summary.caseNumber}</span>` : null}</div>
    </header>
    <div class="form-grid">
      <div class="field"><span class="label">移交</span><div class="value">${label('track', h.fromTrack)} → ${label('track', h.toTrack)}</div></div>
      <div class="field"><span class="label">移交单位</span><div class="value">${h.fromUnit}</div></div>
      <div class="field"><span class="label">申请人</span><div class="value">${h.requestedBy}，${formatInstant(h.requestedAt)}</div></div>
      <div class="field wide"><span class="label">移交理由</span><div class="value">${h.reason}</div></div>
    </div>
    ${missing
      ? missing.length
        ? html`<div class="banner">材料尚缺：${missing.map((f) => f.label).join('、')}</div>`
        : html`<p class="ok-text">移交所需信息齐全。</p>`
      : html`<button class="link" onClick=${check}>检查移交材料是否齐全</button>`}
    ${h.verdict
      ? html`<p><${Badge} kind=${h.verdict === 'accept' ? 'success' : 'danger'}>已${label('handoff_verdict', h.verdict)}<//> ${item.unsynced ? '（待同步）' : '（等待服务器确认）'}</p>`
      : html`<div class="field wide"><label for=${`note-${h.id}`}>意见（拒绝时必填）</label>
          <textarea id=${`note-${h.id}`} rows="2" value=${note} onInput=${(e) => setNote(e.currentTarget.value)}></textarea></div>
        ${error ? html`<div class="error-text" role="alert">${error}</div>` : null}
        <div class="form-actions">
          <button class="danger" onClick=${() => decide('reject')}>拒绝接收</button>
          <button class="primary" onClick=${() => decide('accept')}>接收</button>
        </div>`}
  </section>`;
}
