// 同步通知: every refusal, reverted change, departed case and handoff outcome the sync brought.
// Kept on the device until the person has seen them; never silently dropped (PROTOCOL §8).

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { formatInstant } from '../../core/schema/time.js';
import { Badge, Empty } from '../components/common.js';
import { useApp } from '../hooks.js';

const KIND = {
  rejected: ['danger', '未保存'],
  compensated: ['warning', '已撤销'],
  gone: ['neutral', '已移除'],
  custody_left: ['info', '已移交'],
  handoff: ['info', '移交'],
  inbox: ['info', '待办'],
};

export function NoticesScreen() {
  const app = useApp();
  const [notices, setNotices] = useState(null);
  useEffect(() => {
    const load = () => app.replica.notices().then(setNotices);
    load();
    const unsubscribe = app.replica.subscribe((e) => e.type === 'notices' && load());
    return unsubscribe;
  }, [app.replica]);
  useEffect(() => {
    if (notices && notices.some((n) => !n.read)) app.replica.markNoticesRead();
  }, [notices]);
  if (!notices) return html`<div class="page"><p class="muted">正在读取…</p></div>`;
  return html`<div class="page">
    <header class="page-head"><h1>同步通知</h1></header>
    ${notices.length === 0
      ? html`<${Empty}>没有通知。服务器拒绝或撤销的修改、移交结果等都会在这里列出。<//>`
      : html`<ul class="notice-list">${notices.map((n) => {
          const [kind, text] = KIND[n.kind] ?? ['neutral', '通知'];
          return html`<li class=${n.read ? 'notice' : 'notice unread'}>
            <${Badge} kind=${kind}>${text}<//>
            <div class="notice-body">
              <div>${n.message}</div>
              <div class="case-meta"><span>${formatInstant(n.at)}</span>
                ${n.docId && app.replica.has(n.docId) ? html`<a href=${`#/case/${encodeURIComponent(n.docId)}${n.kind === 'compensated' ? '/review' : ''}`}>查看案件</a>` : null}
                ${n.kind === 'rejected' || n.kind === 'gone' ? html`<a href="#/stash">查看被拒绝的修改</a>` : null}
              </div>
            </div>
          </li>`;
        })}</ul>`}
  </div>`;
}
