// 被拒绝的修改: copies of cases whose changes the server refused, or that left the user's view
// with unsynced edits. Never synced; kept for the person and an administrator to look at, export
// (as an Automerge file) and, once dealt with, delete.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import * as A from '../../core/automerge.js';
import { readCase } from '../../core/schema/document.js';
import { formatInstant } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Empty } from '../components/common.js';
import { useApp } from '../hooks.js';

export function StashScreen() {
  const app = useApp();
  const [entries, setEntries] = useState(null);
  const [open, setOpen] = useState(null);
  useEffect(() => {
    const load = () => app.replica.stashEntries().then(setEntries);
    load();
    return app.replica.subscribe((e) => e.type === 'stash' && load());
  }, [app.replica]);
  if (!entries) return html`<div class="page"><p class="muted">正在读取…</p></div>`;
  const download = (entry) => {
    const blob = new Blob([entry.document], { type: 'application/octet-stream' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${entry.summary.title || entry.docId}-${entry.stashedAt.replace(/[:]/g, '')}.automerge`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  return html`<div class="page">
    <header class="page-head"><h1>被拒绝的修改</h1></header>
    <p class="hint">服务器拒绝保存的修改不会丢失：案件当时在本机上的副本保存在这里，不会再同步。可导出交系统管理员核查处理。</p>
    ${entries.length === 0
      ? html`<${Empty}>没有被拒绝的修改。<//>`
      : html`<table class="table"><thead><tr><th>案件</th><th>原因</th><th>时间</th><th></th></tr></thead><tbody>
        ${entries.map((e) => html`<tr key=${e.seq}>
          <td>${e.summary.title || e.docId}<div class="muted">${e.summary.caseNumber ?? '未登记'}</div></td>
          <td>${e.message}</td>
          <td>${formatInstant(e.stashedAt)}</td>
          <td class="row-actions">
            <button onClick=${() => setOpen(open === e.seq ? null : e.seq)}>${open === e.seq ? '收起' : '查看'}</button>
            <button onClick=${() => download(e)}>导出</button>
            <button class="danger" onClick=${() => confirm('删除后无法恢复，确定已处理完毕？') && app.replica.deleteStashEntry(e.seq)}>删除</button>
          </td>
        </tr>
        ${open === e.seq ? html`<tr><td colspan="4"><${StashedCase} entry=${e} /></td></tr>` : null}`)}
        </tbody></table>`}
  </div>`;
}

function StashedCase({ entry }) {
  let c;
  try {
    c = readCase(A.load(entry.document));
  } catch (e) {
    return html`<p class="error-text">副本无法读取：${e.message}</p>`;
  }
  return html`<div class="stashed">
    <p><strong>${c.meta.title}</strong>（${label('dispute_type', c.meta.dispute_type) || '未填纠纷类型'}）</p>
    <p>当事人：${c.parties.map((p) => `${p.name}（${label('party_role', p.role)}）`).join('、') || '无'}</p>
    ${c.claims.claims ? html`<p>诉求：${c.claims.claims}</p>` : null}
    ${c.mediation.sessions.map((s, i) => html`<p>第${i + 1}次调解（${formatInstant(s.held_at)}）：${s.notes}</p>`)}
    ${c.mediation.agreement.terms ? html`<p>协议内容：${c.mediation.agreement.terms}</p>` : null}
  </div>`;
}
