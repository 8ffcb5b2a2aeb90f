// Small pieces shared by the screens: the sync status indicator, badges, empty states.

import { html } from 'htm/preact';
import { label } from '../../core/schema/vocab.js';

/** Always visible: 离线 / 有未同步的修改 / 已同步 / 同步出错, with the detail on hover and below. */
export function StatusIndicator({ status, onSync }) {
  if (!status) return null;
  return html`<button type="button" class=${`status status-${status.state}${status.syncing ? ' syncing' : ''}`}
      data-state=${status.state} title=${status.detail || status.label} onClick=${onSync} aria-live="polite">
    <span class="dot" aria-hidden="true"></span>
    <span class="status-label">${status.label}</span>
    ${status.detail ? html`<span class="status-detail">${status.detail}</span>` : null}
  </button>`;
}

export function Badge({ kind = 'neutral', children }) {
  return html`<span class=${`badge badge-${kind}`}>${children}</span>`;
}

const STATUS_KIND = { requested: 'warning', pending: 'info', accepted: 'success', rejected: 'danger', withdrawn: 'neutral', invalid: 'danger', superseded: 'neutral' };

export function HandoffStatus({ status }) {
  if (!status) return null;
  return html`<${Badge} kind=${STATUS_KIND[status] ?? 'neutral'}>${label('handoff_status', status)}<//>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

export function Section({ title, actions, children }) {
  return html`<section class="card">
    <header class="card-head"><h2>${title}</h2>${actions ? html`<div class="actions">${actions}</div>` : null}</header>
    ${children}
  </section>`;
}
