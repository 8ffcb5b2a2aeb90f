// 待核查: what the server asked people to look at (reverted late edits, concurrent values of legal
// fields, superseded handoffs), and concurrent values this device sees itself. Concurrent values
// are shown side by side; choosing one writes it, which settles the field on every device.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { markReviewDone } from '../../core/api.js';
import { custodian } from '../../core/schema/policy.js';
import { conflictsAt, readCase, valueAt } from '../../core/schema/document.js';
import { describe, typeAtPath } from '../../core/schema/layout.js';
import { setField } from '../../core/schema/document.js';
import { canWrite } from '../../core/schema/policy.js';
import { formatDate, formatInstant } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Badge, Empty, Section } from '../components/common.js';
import { useCaseContext } from '../components/fields.js';
import { useApp, useCaseList } from '../hooks.js';
import { LEGAL_FIELDS, fieldLabel } from '../labels.js';

/** A value of a field as people read it: labels for codes, dates written out, yuan for fen. */
export function displayValue(path, value) {
  if (value === null || value === undefined || value === '') return '（空）';
  let desc;
  try {
    desc = describe(typeAtPath(path));
  } catch {
    return String(value);
  }
  const d = desc.kind === 'option' ? desc.of : desc;
  if (d.format === 'code') return label(d.vocabulary, value);
  if (d.format === 'date') return formatDate(value) || String(value);
  if (d.format === 'instant') return formatInstant(value) || String(value);
  if (path[path.length - 1] === 'amount_fen' && typeof value === 'number') return `${(value / 100).toFixed(2)} 元`;
  if (typeof value === 'boolean') return value ? '是' : '否';
  return String(value);
}

/** The path of a review item's field (`section` + `decision/kind`), if it names one. */
function reviewPath(item) {
  if (!item.section || !item.path || item.path === item.section) return null;
  const path = [item.section, ...item.path.split('/')];
  try {
    const d = describe(typeAtPath(path));
    return d.kind === 'struct' || d.kind === 'list' || d.kind === 'text' ? null : path;
  } catch {
    return null;
  }
}

/** A value written as text in a review item, converted back to the field's type. */
function parseValue(path, text) {
  const d0 = describe(typeAtPath(path));
  const d = d0.kind === 'option' ? d0.of : d0;
  if (text === '' || text === 'null') return d0.kind === 'option' ? null : text;
  if (d.kind === 'int') return Number.parseInt(text, 10);
  if (d.kind === 'bool') return text === 'true';
  return text.replace(/^"(.*)"$/, '$1');
}

function Choices({ path, values, editable, onChoose, current }) {
  return html`<div class="choices">
    ${values.map((v, i) => html`<div class=${`choice${v === current ? ' current' : ''}`}>
      <div class="choice-label">值 ${i + 1}${v === current ? '（当前显示）' : ''}</div>
      <div class="choice-value">${displayValue(path, v)}</div>
      ${editable ? html`<button onClick=${() => onChoose(v)}>采用此值</button>` : null}
    </div>`)}
  </div>`;
}

/** The review tab of one case. */
export function ReviewPanel() {
  const ctx = useCaseContext();
  const { c, doc } = ctx;
  const conflicts = LEGAL_FIELDS.map((path) => ({ path, values: conflictsAt(doc, path).map((x) => x.value) })).filter((x) => x.values.length > 1);
  const items = [...c.review].reverse();
  const choose = (path, value) => ctx.edit('核查：选定取值', (d) => setField(d, path, value));
  return html`<div>
    <${Section} title="同时填写的不同值">
      ${conflicts.length === 0
        ? html`<${Empty}>没有同时填写的不同值。<//>`
        : conflicts.map(({ path, values }) => html`<div class="item conflict">
            <h3>${label('section', path[0])} · ${fieldLabel(path)}</h3>
            <p class="hint">两台设备同时填写了不同的值。请核实后选定其中一个，选定后各设备都将显示该值。</p>
            <${Choices} path=${path} values=${values} editable=${ctx.canWrite(path[0])} current=${valueAt(c, path)} onChoose=${(v) => choose(path, v)} />
          </div>`)}
    <//>
    <${Section} title="服务器提出的核查事项">
      ${items.length === 0 ? html`<${Empty}>没有待核查事项。<//>` : null}
      ${items.map((item) => {
        const path = reviewPath(item);
        return html`<div class="item review-item" key=${item.id}>
          <div class="handoff-head">
            <strong>${label('review_kind', item.kind) || '核查事项'}</strong>
            ${item.section ? html`<span>${label('section', item.section)}${path ? ` · ${fieldLabel(path)}` : ''}</span>` : null}
            ${item.done ? html`<${Badge} kind="success">已处理<//>` : html`<${Badge} kind="danger">待处理<//>`}
          </div>
          <p>${item.summary}</p>
          <div class="case-meta">
            ${item.author ? html`<span>修改人：${item.author}</span>` : null}
            ${item.device ? html`<span>设备：${item.device}</span>` : null}
            <span>${formatInstant(item.created_at)}</span>
            ${item.change_hashes.length ? html`<span title=${item.change_hashes.join('\n')}>涉及修改 ${item.change_hashes.length} 项</span>` : null}
          </div>
          ${item.values.length > 1 && path
            ? html`<${Choices} path=${path} values=${item.values.map((v) => parseValue(path, v))} current=${valueAt(c, path)}
                editable=${!item.done && ctx.canWrite(path[0])} onChoose=${(v) => choose(path, v)} />`
            : null}
          ${item.done
            ? html`<p class="hint">由 ${item.done_by} 于 ${formatInstant(item.done_at)} 处理。</p>`
            : html`<${MarkDone} item=${item} mine=${(item.units ?? []).includes(ctx.user.unit) || custodian(c).unit === ctx.user.unit} />`}
        </div>`;
      })}
    <//>
  </div>`;
}

/** Marks a review item done on the server (it writes the item); the next sync brings it here. */
function MarkDone({ item, mine }) {
  const app = useApp();
  const ctx = useCaseContext();
  const [state, setState] = useState('idle');
  if (!mine) return html`<p class="hint">由相关单位核查处理。</p>`;
  const done = async () => {
    setState('sending');
    try {
      await markReviewDone({ auth: app.auth, baseUrl: app.baseUrl }, ctx.docId, item.id);
      setState('sent');
      app.sync.syncNow();
    } catch (e) {
      setState('idle');
      app.toast(e.offline ? '标记已处理需要联网，请联网后再试。' : `未能标记：${e.message}`, 'warning');
    }
  };
  if (state === 'sent') return html`<p class="hint">已提交，同步后显示处理人和时间。</p>`;
  return html`<div class="form-actions"><button onClick=${done} disabled=${state === 'sending'}>标记为已处理</button></div>`;
}

/** 待核查 across every case on the device. */
export function ReviewScreen() {
  const app = useApp();
  const cases = useCaseList();
  const rows = [];
  for (const e of cases) {
    const doc = app.replica.peek(e.id);
    const open = e.summary.openReviews;
    let conflicts = 0;
    if (doc) conflicts = LEGAL_FIELDS.filter((p) => conflictsAt(doc, p).length > 1).length;
    if (open || conflicts) rows.push({ e, open, conflicts, writable: doc ? canWrite(app.user, readCase(doc), 'meta') : null });
  }
  return html`<div class="page">
    <header class="page-head"><h1>待核查</h1></header>
    ${rows.length === 0
      ? html`<${Empty}>没有待核查的案件。<//>`
      : html`<ul class="case-list">${rows.map(({ e, open, conflicts }) => html`<li><a class="case-row" href=${`#/case/${encodeURIComponent(e.id)}/review`}>
          <div class="case-main"><div class="case-title">${e.summary.title}</div><div class="case-meta">${e.summary.caseNumber ?? '未登记'}</div></div>
          <div class="case-badges">${open ? html`<${Badge} kind="danger">核查事项 ${open}<//>` : null}${conflicts ? html`<${Badge} kind="warning">不同取值 ${conflicts}<//>` : null}</div>
        </a></li>`)}</ul>`}
    <p class="hint">同时填写的不同值在打开案件后才能检查；服务器提出的核查事项随同步到达。</p>
  </div>`;
}
