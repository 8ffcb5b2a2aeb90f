// 我的案件: every case on this device, with what matters at a glance: registered or not, track
// and custodian, unsynced edits, open review items, and whether it left the user's custody.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { canOpenCase } from '../../core/schema/policy.js';
import { formatInstant } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Badge, Empty, HandoffStatus } from '../components/common.js';
import { navigate, useApp, useCaseList } from '../hooks.js';

const FILTERS = [
  ['active', '本单位办理中'],
  ['left', '已移出'],
  ['all', '全部'],
];

function inMyCustody(user, s) {
  return s.custodyUnit === user.unit;
}

export function CasesScreen() {
  const app = useApp();
  const cases = useCaseList();
  const [filter, setFilter] = useState('active');
  const [query, setQuery] = useState('');
  const user = app.user;
  const q = query.trim();
  const shown = cases.filter((e) => {
    const s = e.summary;
    const mine = inMyCustody(user, s);
    if (filter === 'active' && !mine) return false;
    if (filter === 'left' && mine) return false;
    if (!q) return true;
    return [s.title, s.caseNumber, s.village, ...s.partyNames].some((v) => v && v.includes(q));
  });
  const canOpen = canOpenCase(user, 'dispute') || canOpenCase(user, 'petition');
  return html`<div class="page">
    <header class="page-head">
      <h1>我的案件</h1>
      ${canOpen ? html`<button class="primary" onClick=${() => navigate('cases/new')}>新建案件</button>` : null}
    </header>
    <div class="toolbar">
      <div class="tabs" role="tablist">
        ${FILTERS.map(([code, text]) => html`<button role="tab" aria-selected=${filter === code} class=${filter === code ? 'tab active' : 'tab'}
          onClick=${() => setFilter(code)}>${text}</button>`)}
      </div>
      <input class="search" type="search" placeholder="按案件名称、编号、当事人搜索" value=${query} onInput=${(e) => setQuery(e.currentTarget.value)} />
    </div>
    ${shown.length === 0
      ? html`<${Empty}>${cases.length === 0 ? '本机还没有案件。新建的案件会保存在本机，联网后自动上传。' : '没有符合条件的案件。'}<//>`
      : html`<ul class="case-list">
          ${shown.map((e) => html`<${CaseRow} entry=${e} user=${user} />`)}
        </ul>`}
  </div>`;
}

function CaseRow({ entry, user }) {
  const s = entry.summary;
  const mine = inMyCustody(user, s);
  return html`<li>
    <a class="case-row" href=${`#/case/${encodeURIComponent(entry.id)}`} data-case=${entry.id}>
      <div class="case-main">
        <div class="case-title">${s.title || '（未命名案件）'}</div>
        <div class="case-meta">
          ${s.caseNumber ? html`<span>${s.caseNumber}</span>` : html`<${Badge} kind="warning">未登记（待上传）<//>`}
          ${s.disputeType ? html`<span>${label('dispute_type', s.disputeType)}</span>` : null}
          ${s.partyNames.length ? html`<span>当事人：${s.partyNames.join('、')}</span>` : null}
          ${s.createdAt ? html`<span>${formatInstant(s.createdAt)}</span>` : null}
        </div>
      </div>
      <div class="case-badges">
        ${s.track ? html`<${Badge}>${label('track', s.track)}<//>` : null}
        ${!mine ? html`<${Badge} kind="neutral">已移交 · 只读<//>` : null}
        ${s.handoff && mine ? html`<${HandoffStatus} status=${s.handoff.status} />` : null}
        ${s.openReviews ? html`<${Badge} kind="danger">待核查 ${s.openReviews}<//>` : null}
        ${entry.unacked ? html`<${Badge} kind="warning">未同步<//>` : null}
      </div>
    </a>
  </li>`;
}
