// The application shell: the header with the always-visible sync status, the navigation for the
// user's roles, the routed screen, and the toasts.

import { html } from 'htm/preact';
import { render } from 'preact';
import { label } from '../core/schema/vocab.js';
import { StatusIndicator } from './components/common.js';
import { AppContext, navigate, useApp, useRoute } from './hooks.js';
import { CaseScreen } from './screens/case-view.js';
import { CasesScreen } from './screens/cases.js';
import { DashboardScreen } from './screens/dashboard.js';
import { HandoffRequestScreen } from './screens/handoff-request.js';
import { InboxScreen } from './screens/inbox.js';
import { LoginScreen } from './screens/login.js';
import { NewCaseScreen } from './screens/new-case.js';
import { NoticesScreen } from './screens/notices.js';
import { ReviewScreen } from './screens/review.js';
import { StashScreen } from './screens/stash.js';

const COUNTY_ROLES = ['reconsideration_officer', 'litigation_officer', 'petition_officer'];

function navItems(user) {
  const has = (r) => user.roles.includes(r);
  const items = [];
  if (user.roles.some((r) => r !== 'admin')) items.push(['cases', has('supervisor') && user.roles.length === 1 ? '案件' : '我的案件']);
  if (user.roles.some((r) => COUNTY_ROLES.includes(r) || r === 'mediator')) items.push(['inbox', '移交待办']);
  if (user.roles.some((r) => r !== 'admin')) items.push(['review', '待核查']);
  if (has('supervisor')) items.push(['dashboard', '督查统计']);
  items.push(['notices', '同步通知'], ['stash', '被拒绝的修改']);
  return items;
}

function home(user) {
  if (user.roles.includes('supervisor') && user.roles.length === 1) return 'dashboard';
  if (user.roles.some((r) => COUNTY_ROLES.includes(r)) && !user.roles.includes('mediator')) return 'inbox';
  return 'cases';
}

function Screen({ route, user }) {
  const [first, id, sub] = route;
  const allowed = new Set([...navItems(user).map(([path]) => path), 'case']);
  if (!allowed.has(first === 'case' ? 'cases' : first)) {
    queueMicrotask(() => navigate(home(user)));
    return null;
  }
  switch (first) {
    case 'cases':
      return id === 'new' ? html`<${NewCaseScreen} />` : html`<${CasesScreen} />`;
    case 'case':
      if (sub === 'handoff') return html`<${HandoffRequestScreen} key=${id} docId=${id} />`;
      return html`<${CaseScreen} key=${id} docId=${id} tab=${sub} />`;
    case 'inbox':
      return html`<${InboxScreen} />`;
    case 'review':
      return html`<${ReviewScreen} />`;
    case 'notices':
      return html`<${NoticesScreen} />`;
    case 'stash':
      return html`<${StashScreen} />`;
    case 'dashboard':
      return html`<${DashboardScreen} />`;
    default:
      queueMicrotask(() => navigate(home(user)));
      return null;
  }
}

function Shell() {
  const app = useApp();
  const route = useRoute();
  if (app.phase === 'loading') return html`<main class="splash">正在打开…</main>`;
  if (app.phase === 'failed') return html`<main class="splash error-text">${app.bootError}</main>`;
  if (app.phase === 'login') return html`<${LoginScreen} /><${Toasts} />`;
  const user = app.user;
  const current = route[0] === 'case' ? 'cases' : route[0];
  return html`<div class="shell">
    <header class="topbar">
      <div class="brand">枫桥<span>矛盾纠纷多元化解</span></div>
      <${StatusIndicator} status=${app.status} onSync=${() => app.sync.syncNow()} />
      <div class="who">
        <span>${user.name || user.id}</span>
        <span class="muted">${app.unitName(user.unit)} · ${user.roles.map((r) => label('role', r)).join('、')}</span>
        <button class="link" onClick=${() => {
          const pending = app.replica.pendingIds().length;
          if (!pending || confirm(`有 ${pending} 个案件尚未同步。退出后这些修改仍保存在本机，下次登录后继续同步。确定退出？`)) app.logout();
        }}>退出</button>
      </div>
    </header>
    <nav class="sidebar">
      ${navItems(user).map(([path, text]) => html`<a href=${`#/${path}`} class=${current === path ? 'active' : ''}>
        ${text}${path === 'notices' && app.unreadNotices ? html`<span class="count">${app.unreadNotices}</span>` : null}
      </a>`)}
    </nav>
    <main class="content"><${Screen} route=${route} user=${user} /></main>
    <${Toasts} />
  </div>`;
}

function Toasts() {
  const app = useApp();
  return html`<div class="toasts" aria-live="assertive">
    ${app.toasts.map((t) => html`<div class=${`toast toast-${t.kind}`} key=${t.id} onClick=${() => app.dismiss(t.id)}>${t.message}</div>`)}
  </div>`;
}

/** Renders the application into `root`. */
export function startApp(root, controller) {
  render(html`<${AppContext.Provider} value=${controller}><${Shell} /><//>`, root);
  controller.boot();
}
