// 申请移交: choose where the case goes (the paths the law allows from its track), see what the
// target still needs before sending, and record the request in the case. The server checks it
// again when it arrives and puts it in the receiving unit's inbox.

import { html } from 'htm/preact';
import { receiversOf } from '../../core/api.js';
import { useState } from 'preact/hooks';
import { missingFields, missingMessage, pathsFrom } from '../../core/schema/handoff.js';
import { requestHandoff } from '../../core/schema/operations.js';
import { canWrite, custodian } from '../../core/schema/policy.js';
import { label } from '../../core/schema/vocab.js';
import { Empty, Section } from '../components/common.js';
import { navigate, useApp, useCase } from '../hooks.js';

const TAB_OF_SECTION = { meta: 'overview', parties: 'parties', claims: 'claims' };

export function HandoffRequestScreen({ docId }) {
  const app = useApp();
  const { current } = useCase(docId);
  const [to, setTo] = useState('');
  const [toUnit, setToUnit] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState('');
  if (!current) return html`<div class="page"><p class="muted">正在打开案件…</p></div>`;
  const { c } = current;
  const user = app.user;
  const from = custodian(c);
  const paths = pathsFrom(from.track);
  const chosen = paths.find((p) => p.to === to) ?? null;
  const missing = chosen ? missingFields(c, from.track, chosen.to) : [];
  const open = c.handoffs.find((h) => h.status === 'requested' || h.status === 'pending');
  const allowed = canWrite(user, c, 'handoffs') && from.unit === user.unit;
  // The units of the county that take cases of the chosen track (GET /v1/units, remembered
  // offline); a single one is chosen for the user.
  const receivers = chosen ? receiversOf(app.units, chosen.to) : [];
  const receiver = receivers.length === 1 ? receivers[0].id : toUnit;
  const submit = (e) => {
    e.preventDefault();
    setError('');
    if (!chosen) return setError('请选择移交去向');
    if (!receiver) return setError('请选择接收单位');
    if (!reason.trim()) return setError('请填写移交理由');
    if (missing.length) return setError(missingMessage(missing));
    const ok = app.edit(docId, '申请移交', (d) => requestHandoff(d, c, { user, toTrack: chosen.to, toUnit: receiver, reason: reason.trim() }));
    if (ok) {
      app.toast('移交申请已保存，联网后由服务器审查并送达接收单位。');
      navigate(`case/${encodeURIComponent(docId)}/handoffs`);
    }
  };
  return html`<form class="page" onSubmit=${submit}>
    <header class="page-head"><h1>申请移交：${c.meta.title}</h1></header>
    ${!allowed ? html`<${Empty}>只有本案管辖单位的${label('role', { mediation: 'mediator', petition: 'petition_officer', reconsideration: 'reconsideration_officer', litigation: 'litigation_officer' }[from.track])}可以申请移交。<//>` : null}
    ${open ? html`<div class="banner">本案已有一份${label('handoff_status', open.status)}的移交申请（移交至${open.to_unit}）。同一管辖版本的多份申请，只有先到达服务器的一份有效。</div>` : null}
    ${allowed && paths.length === 0 ? html`<${Empty}>${label('track', from.track)}的案件没有可移交的去向。<//>` : null}
    ${allowed && paths.length
      ? html`<${Section} title="移交去向">
          <div class="choices">${paths.map((p) => html`<label class=${`choice selectable${to === p.to ? ' current' : ''}`}>
            <input type="radio" name="to" value=${p.to} checked=${to === p.to} onChange=${() => setTo(p.to)} />
            <div class="choice-value">${label('track', p.from)} → ${label('track', p.to)}</div>
            <div class="hint">${p.when}</div>
            <div class="hint">时限：${p.clock}</div>
            <div class="hint">依据：${p.source}</div>
          </label>`)}</div>
        <//>
        ${chosen
          ? html`<${Section} title=${missing.length ? `移交前还需填写（${missing.length} 项）` : '必填信息已齐全'}>
              ${missing.length
                ? html`<ul class="missing">${missing.map((f) => html`<li><a href=${`#/case/${encodeURIComponent(docId)}/${TAB_OF_SECTION[f.section] ?? f.section}`}>${f.label}</a></li>`)}</ul>`
                : html`<p class="ok-text">${label('track', chosen.to)}需要的信息都已填写。</p>`}
            <//>
            <${Section} title="移交申请">
              <div class="form-grid">
                <div class="field"><label for="ho-unit">接收单位</label>
                  <select id="ho-unit" value=${receiver} onChange=${(e) => setToUnit(e.currentTarget.value)} disabled=${receivers.length === 0}>
                    ${receivers.length === 1 ? null : html`<option value="">请选择</option>`}
                    ${receivers.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
                  </select>
                  <div class="hint">${receivers.length
                    ? `承办${label('track', chosen.to)}的单位。`
                    : '本机还没有单位名录：请联网后重新打开本页。'}</div></div>
                <div class="field wide"><label for="ho-reason">移交理由</label>
                  <textarea id="ho-reason" rows="3" value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea></div>
              </div>
            <//>`
          : null}
        ${error ? html`<div class="error-text" role="alert">${error}</div>` : null}
        <div class="form-actions">
          <button type="button" onClick=${() => history.back()}>取消</button>
          <button class="primary" type="submit" disabled=${!chosen || missing.length > 0}>提交移交申请</button>
        </div>`
      : null}
  </form>`;
}
