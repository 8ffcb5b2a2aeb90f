// 案件: one case, by tabs. What the user may write follows the same policy as the server
// (core/schema/policy.js); a case that left the user's custody opens read-only with its outcome.

import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { conflictsAt, removeItem, setField } from '../../core/schema/document.js';
import { addCourtHearing, addParty, addSession, addSuspension, withdrawHandoff } from '../../core/schema/operations.js';
import { canWrite, custodian, leftCustodyOf, readOnlyReason } from '../../core/schema/policy.js';
import { formatDate, formatInstant, instant } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Badge, Empty, HandoffStatus, Section } from '../components/common.js';
import { CaseContext, Field, Show, useCaseContext as useCase_ } from '../components/fields.js';
import { navigate, useApp, useCase } from '../hooks.js';
import { LEGAL_FIELDS } from '../labels.js';
import { DeadlinesTab, TrackDeadlines } from './case-deadlines.js';
import { ReviewPanel } from './review.js';

const TABS = [
  ['overview', '概况'],
  ['parties', '当事人'],
  ['claims', '诉求与事实'],
  ['mediation', '调解'],
  ['petition', '信访'],
  ['reconsideration', '行政复议'],
  ['litigation', '行政应诉'],
  ['deadlines', '期限'],
  ['handoffs', '移交'],
  ['review', '待核查'],
  ['attachments', '附件'],
];

function visibleTabs(user, c) {
  const { track } = custodian(c);
  const history = c.custody.history.map((e) => e.track);
  const involved = (t) => track === t || history.includes(t) || canWrite(user, c, t);
  return TABS.filter(([tab]) => {
    if (tab === 'mediation') return involved('mediation') || c.meta.kind === 'dispute';
    if (tab === 'petition') return involved('petition') || c.meta.kind === 'petition';
    if (tab === 'reconsideration') return involved('reconsideration');
    if (tab === 'litigation') return involved('litigation');
    return true;
  });
}

export function CaseScreen({ docId, tab = 'overview' }) {
  const app = useApp();
  const { current, missing } = useCase(docId);
  const user = app.user;
  const ctx = useMemo(
    () =>
      current && {
        docId,
        doc: current.doc,
        c: current.c,
        user,
        latest: () => app.replica.peek(docId),
        canWrite: (section) => canWrite(user, current.c, section),
        edit: (message, fn) => app.edit(docId, message, fn),
      },
    [current, user, docId],
  );
  if (missing) return html`<div class="page"><${Empty}>本机没有这个案件。它可能已被移出您的查看范围。<//></div>`;
  if (!current) return html`<div class="page"><p class="muted">正在打开案件…</p></div>`;
  const { c } = current;
  const tabs = visibleTabs(user, c);
  const active = tabs.some(([t]) => t === tab) ? tab : 'overview';
  const readOnly = readOnlyReason(user, c);
  const entry = app.replica.index.get(docId);
  const conflicts = LEGAL_FIELDS.filter((p) => conflictsAt(current.doc, p).length > 1).length;
  const openReviews = c.review.filter((r) => !r.done).length + conflicts;
  return html`<${CaseContext.Provider} value=${ctx}>
    <div class="page case-page">
      <header class="page-head">
        <div>
          <h1>${c.meta.title || '（未命名案件）'}</h1>
          <div class="case-meta">
            ${c.meta.case_number ? html`<span>${c.meta.case_number}</span>` : html`<${Badge} kind="warning">未登记：上传到服务器后获得正式编号<//>`}
            <span class="custody">${label('track', custodian(c).track)} · ${app.unitName(custodian(c).unit)}</span>
            ${entry?.unacked ? html`<${Badge} kind="warning">有未同步的修改<//>` : html`<${Badge} kind="success">已同步<//>`}
          </div>
        </div>
        ${canWrite(user, c, 'handoffs') && custodian(c).unit === user.unit
          ? html`<button onClick=${() => navigate(`case/${encodeURIComponent(docId)}/handoff`)}>申请移交</button>`
          : null}
      </header>
      ${readOnly ? html`<div class="banner banner-readonly" role="status">${readOnly}${leftCustodyOf(user, c) ? html`<${Outcome} c=${c} unitName=${(id) => app.unitName(id)} />` : null}</div>` : null}
      <nav class="tabs case-tabs" role="tablist">
        ${tabs.map(([t, text]) => html`<a role="tab" aria-selected=${t === active} class=${t === active ? 'tab active' : 'tab'}
          href=${`#/case/${encodeURIComponent(docId)}/${t}`}>${text}${t === 'review' && openReviews ? html` <span class="count">${openReviews}</span>` : null}</a>`)}
      </nav>
      ${active === 'overview' ? html`<${Overview} />` : null}
      ${active === 'parties' ? html`<${Parties} />` : null}
      ${active === 'claims' ? html`<${Claims} />` : null}
      ${active === 'mediation' ? html`<${MediationTab} />` : null}
      ${active === 'petition' ? html`<${PetitionTab} />` : null}
      ${active === 'reconsideration' ? html`<${ReconsiderationTab} />` : null}
      ${active === 'litigation' ? html`<${LitigationTab} />` : null}
      ${active === 'deadlines' ? html`<${DeadlinesTab} docId=${docId} />` : null}
      ${active === 'handoffs' ? html`<${Handoffs} />` : null}
      ${active === 'review' ? html`<${ReviewPanel} />` : null}
      ${active === 'attachments' ? html`<${Attachments} />` : null}
    </div>
  <//>`;
}

/** What became of a case after it left the user's custody. */
function Outcome({ c, unitName }) {
  const now = custodian(c);
  const r = c.reconsideration;
  const l = c.litigation;
  const parts = [`现由${unitName(now.unit)}按${label('track', now.track)}办理`];
  if (now.track === 'reconsideration') {
    if (r.decision.kind) parts.push(`复议决定：${label('reconsideration_decision', r.decision.kind)}${r.decision.decided_on ? `（${formatDate(r.decision.decided_on)}）` : ''}`);
    else if (r.intake) parts.push(`受理审查：${label('reconsideration_intake', r.intake)}`);
    else parts.push('尚未作出受理决定');
  }
  if (now.track === 'litigation' && l.judgment.outcome) parts.push(`裁判结果：${label('litigation_outcome', l.judgment.outcome)}`);
  if (now.track === 'petition' && c.petition.reply.result) parts.push(`处理结果：${label('petition_result', c.petition.reply.result)}`);
  return html`<div class="outcome">${parts.join('；')}。</div>`;
}

function Overview() {
  const { c } = useCase_();
  const app = useApp();
  return html`<div>
    <${Section} title="基本信息">
      <div class="form-grid">
        <${Field} path=${['meta', 'title']} />
        <${Field} path=${['meta', 'dispute_type']} />
        <${Field} path=${['meta', 'township']} label="乡镇（街道）单位编码" />
        <${Field} path=${['meta', 'village']} />
        <${Show} label="案件类别">${label('case_kind', c.meta.kind)}<//>
        <${Show} label="案件编号">${c.meta.case_number}<//>
        <${Show} label="本机登记时间">${formatInstant(c.meta.created_at)}<//>
        <${Show} label="服务器登记时间">${formatInstant(c.meta.registered_at)}<//>
        <${Show} label="登记单位">${app.unitName(c.meta.opened_by_unit)}<//>
        <${Show} label="登记人">${c.meta.opened_by_user}<//>
      </div>
    <//>
    <${Section} title="管辖">
      <div class="form-grid">
        <${Show} label="办理渠道">${label('track', custodian(c).track)}<//>
        <${Show} label="管辖单位">${app.unitName(custodian(c).unit)}<//>
        <${Show} label="承办人">${c.custody.assignee}<//>
        <${Show} label="管辖开始时间">${formatInstant(c.custody.since)}<//>
      </div>
      ${c.custody.history.length
        ? html`<table class="table"><thead><tr><th>此前管辖</th><th>办理渠道</th><th>起止</th></tr></thead><tbody>
          ${c.custody.history.map((e) => html`<tr><td>${app.unitName(e.unit)}</td><td>${label('track', e.track)}</td><td>${formatInstant(e.since)} — ${formatInstant(e.until)}</td></tr>`)}
          </tbody></table>`
        : null}
    <//>
  </div>`;
}

function Parties() {
  const ctx = useCase_();
  const { c } = ctx;
  const editable = ctx.canWrite('parties');
  return html`<${Section} title="当事人" actions=${editable
    ? html`<button onClick=${() => ctx.edit('添加当事人', (d) => addParty(d, { role: 'third_party', kind: 'person' }))}>添加当事人</button>`
    : null}>
    ${c.parties.length === 0 ? html`<${Empty}>尚未登记当事人。<//>` : null}
    ${c.parties.map((p) => {
      const base = ['parties', { id: p.id }];
      return html`<div class="item" key=${p.id}>
        <div class="form-grid">
          <${Field} path=${[...base, 'role']} label="身份" />
          <${Field} path=${[...base, 'kind']} label="类型" />
          <${Field} path=${[...base, 'name']} label="姓名或名称" />
          <${Field} path=${[...base, 'phone']} label="联系电话" />
          <${Field} path=${[...base, 'id_number']} label="身份证号或统一社会信用代码" />
          <${Field} path=${[...base, 'address']} label="住址" />
          ${p.role === 'agent'
            ? html`<div class="field"><label>代理的当事人</label>
              <select disabled=${!editable} value=${p.represents ?? ''} onChange=${(e) => ctx.edit('修改', (d) => setField(d, [...base, 'represents'], e.currentTarget.value || null))}>
                <option value="">请选择</option>
                ${c.parties.filter((x) => x.id !== p.id).map((x) => html`<option value=${x.id}>${x.name || '（未填姓名）'}</option>`)}
              </select></div>`
            : null}
        </div>
        ${editable
          ? html`<button class="link danger" onClick=${() => confirm(`删除当事人「${p.name || '未填姓名'}」？`) && ctx.edit('删除当事人', (d) => removeItem(d, ['parties'], p.id))}>删除</button>`
          : null}
      </div>`;
    })}
  <//>`;
}

function Claims() {
  return html`<${Section} title="诉求与事实">
    <div class="form-grid">
      <${Field} path=${['claims', 'claims']} />
      <${Field} path=${['claims', 'facts']} />
    </div>
  <//>`;
}

function MediationTab() {
  const ctx = useCase_();
  const { c } = ctx;
  const editable = ctx.canWrite('mediation');
  const m = c.mediation;
  const newSession = () =>
    ctx.edit('添加调解记录', (d) => addSession(d, { held_at: instant(), mediators: [ctx.user.id] }));
  return html`<div>
    <${TrackDeadlines} docId=${ctx.docId} track="mediation" />
    <${Section} title="受理">
      <div class="form-grid">
        <${Field} path=${['mediation', 'committee']} />
        <${Field} path=${['mediation', 'source']} />
        <${Field} path=${['mediation', 'accepted_on']} hint="调解期限自受理之日起计算" />
        <${Field} path=${['mediation', 'mediators']} />
        <${Field} path=${['mediation', 'labour_dispute']} hint="劳动争议自申请之日起十五日内未达成协议的，可申请劳动仲裁" />
        <${Field} path=${['mediation', 'issues']} />
      </div>
    <//>
    <${Section} title="调解记录" actions=${editable ? html`<button onClick=${newSession}>添加调解记录</button>` : null}>
      ${m.sessions.length === 0 ? html`<${Empty}>还没有调解记录。<//>` : null}
      ${m.sessions.map((s, i) => {
        const base = ['mediation', 'sessions', { id: s.id }];
        return html`<div class="item session" key=${s.id} data-session=${s.id}>
          <h3>第${i + 1}次调解</h3>
          <div class="form-grid">
            <${Field} path=${[...base, 'held_at']} label="调解时间" />
            <${Field} path=${[...base, 'place']} label="地点" />
            <${Field} path=${[...base, 'mediators']} label="参加调解员" />
            <${Field} path=${[...base, 'notes']} label="调解记录" />
          </div>
          ${editable ? html`<button class="link danger" onClick=${() => confirm('删除这次调解记录？') && ctx.edit('删除调解记录', (d) => removeItem(d, ['mediation', 'sessions'], s.id))}>删除</button>` : null}
        </div>`;
      })}
    <//>
    <${Section} title="调解结果">
      <div class="form-grid">
        <${Field} path=${['mediation', 'result']} />
        <${Field} path=${['mediation', 'result_on']} />
        <${Field} path=${['mediation', 'routes_told']} hint="调解不成的，应告知当事人可依法通过仲裁、行政、司法等途径维护权利" />
      </div>
    <//>
    <${Section} title="调解协议">
      <div class="form-grid">
        <${Field} path=${['mediation', 'agreement', 'terms']} hint="多人可同时编辑，修改会自动合并" />
        <${Field} path=${['mediation', 'agreement', 'signed_on']} />
        <${Field} path=${['mediation', 'agreement', 'effective_on']} hint="申请司法确认的期限自协议生效之日起三十日" />
        <${Field} path=${['mediation', 'agreement', 'oral']} />
        <${Field} path=${['mediation', 'agreement', 'amount_fen']} />
      </div>
    <//>
    <${Section} title="回访">
      <div class="form-grid">
        <${Field} path=${['mediation', 'follow_up', 'visited_on']} />
        <${Field} path=${['mediation', 'follow_up', 'performance']} />
        <${Field} path=${['mediation', 'follow_up', 'notes']} />
      </div>
    <//>
    <${Section} title="司法确认">
      <div class="form-grid">
        <${Field} path=${['mediation', 'judicial_confirmation', 'applied_on']} />
        <${Field} path=${['mediation', 'judicial_confirmation', 'court']} />
        <${Field} path=${['mediation', 'judicial_confirmation', 'result']} />
        <${Field} path=${['mediation', 'judicial_confirmation', 'decided_on']} />
      </div>
    <//>
  </div>`;
}

function PetitionTab() {
  const ctx = useCase_();
  const { c } = ctx;
  const p = c.petition;
  const editable = ctx.canWrite('petition');
  return html`<div>
    <${TrackDeadlines} docId=${ctx.docId} track="petition" />
    <${Section} title="登记与受理">
      <div class="form-grid">
        <${Field} path=${['petition', 'channel']} />
        <${Field} path=${['petition', 'group_size']} />
        <${Field} path=${['petition', 'representatives']} />
        <${Field} path=${['petition', 'category']} />
        <${Field} path=${['petition', 'route']} hint="依法分类处理：属于诉讼、仲裁、行政复议等法定途径的，告知或引导当事人向有关机关提出" />
        <${Field} path=${['petition', 'received_on']} hint="应自收到信访事项之日起十五日内书面告知信访人是否受理（《信访工作条例》第二十四条）" />
        <${Field} path=${['petition', 'registered_on']} />
        <${Field} path=${['petition', 'transferred_on']} />
        <${Field} path=${['petition', 'intake']} />
        <${Field} path=${['petition', 'intake_notified_on']} />
        <${Field} path=${['petition', 'accepted_on']} hint="信访事项应自受理之日起六十日内办结；情况复杂的，经批准可延长不超过三十日（第三十五条）" />
      </div>
    <//>
    <${Section} title="延期">
      <div class="form-grid">
        <${Field} path=${['petition', 'extension', 'days']} hint="延长期限不得超过三十日，并告知信访人延期理由" />
        <${Field} path=${['petition', 'extension', 'approved_on']} />
        <${Field} path=${['petition', 'extension', 'reason']} />
        <${Field} path=${['petition', 'extension', 'notified_on']} />
      </div>
    <//>
    <${Section} title="处理意见书">
      <div class="form-grid">
        <${Field} path=${['petition', 'reply', 'request']} />
        <${Field} path=${['petition', 'reply', 'facts_and_reasons']} />
        <${Field} path=${['petition', 'reply', 'decision']} />
        <${Field} path=${['petition', 'reply', 'legal_basis']} />
        <${Field} path=${['petition', 'reply', 'result']} />
        <${Field} path=${['petition', 'reply', 'issued_on']} />
        <${Field} path=${['petition', 'reply', 'received_on']} hint="信访人不服的，可自收到处理意见书之日起三十日内请求复查（第三十五条）" />
      </div>
    <//>
    <${Section} title="复查">
      <div class="form-grid">
        <${Field} path=${['petition', 'review', 'requested_on']} hint="复查机关应自收到复查请求之日起三十日内提出复查意见" />
        <${Field} path=${['petition', 'review', 'organ']} />
        <${Field} path=${['petition', 'review', 'result']} />
        <${Field} path=${['petition', 'review', 'decided_on']} />
        <${Field} path=${['petition', 'review', 'received_on']} hint="对复查意见不服的，可自收到之日起三十日内请求复核" />
      </div>
    <//>
    <${Section} title="复核">
      <div class="form-grid">
        <${Field} path=${['petition', 're_review', 'requested_on']} hint="复核机关应自收到复核请求之日起三十日内提出复核意见" />
        <${Field} path=${['petition', 're_review', 'organ']} />
        <${Field} path=${['petition', 're_review', 'result']} />
        <${Field} path=${['petition', 're_review', 'decided_on']} />
        <${Field} path=${['petition', 're_review', 'received_on']} />
      </div>
    <//>
    <${Section} title="回访">
      <div class="form-grid"><${Field} path=${['petition', 'satisfaction']} /></div>
      ${editable ? null : html`<p class="hint">信访事项由承办单位的信访干部填写。</p>`}
    <//>
  </div>`;
}

function ReconsiderationTab() {
  const ctx = useCase_();
  const { c } = ctx;
  const r = c.reconsideration;
  const editable = ctx.canWrite('reconsideration');
  const { track } = custodian(c);
  const preparing = track !== 'reconsideration';
  return html`<div>
    ${preparing ? html`<div class="banner">移交行政复议前，请填写申请人、被申请人、行政行为和复议请求，复议机关据此审查受理。</div>` : null}
    <${Section} title="申请">
      <div class="form-grid">
        <div class="field"><label for="rc-applicant">申请人</label>
          <select id="rc-applicant" disabled=${!editable} value=${r.applicant} onChange=${(e) => ctx.edit('修改', (d) => setField(d, ['reconsideration', 'applicant'], e.currentTarget.value))}>
            <option value="">请选择</option>
            ${c.parties.map((p) => html`<option value=${p.id}>${p.name || '（未填姓名）'}（${label('party_role', p.role) || '未定身份'}）</option>`)}
          </select></div>
        <${Field} path=${['reconsideration', 'respondent_agency']} />
        <${Field} path=${['reconsideration', 'subject']} />
        <${Field} path=${['reconsideration', 'act', 'name']} />
        <${Field} path=${['reconsideration', 'act', 'number']} />
        <${Field} path=${['reconsideration', 'act', 'made_on']} />
        <${Field} path=${['reconsideration', 'act', 'known_on']} hint="申请期限为知道该行政行为之日起六十日" />
        <${Field} path=${['reconsideration', 'act', 'right_notified']} />
        ${r.act.right_notified === false ? html`<${Field} path=${['reconsideration', 'act', 'right_learned_on']} />` : null}
        <${Field} path=${['reconsideration', 'act', 'real_property']} />
        <${Field} path=${['reconsideration', 'request']} />
      </div>
    <//>
    ${preparing
      ? null
      : html`
    <${TrackDeadlines} docId=${ctx.docId} track="reconsideration" />
    <${Section} title="受理">
      <div class="form-grid">
        <${Field} path=${['reconsideration', 'received_on']} hint="收到申请之日起五日内审查" />
        <${Field} path=${['reconsideration', 'correction', 'notified_on']} />
        <${Field} path=${['reconsideration', 'correction', 'received_on']} />
        <${Field} path=${['reconsideration', 'correction', 'supplied_on']} />
        <${Field} path=${['reconsideration', 'intake']} />
        <${Field} path=${['reconsideration', 'intake_decided_on']} />
        <${Field} path=${['reconsideration', 'accepted_on']} />
      </div>
    <//>
    <${Section} title="审理">
      <div class="form-grid">
        <${Field} path=${['reconsideration', 'procedure']} />
        <${Field} path=${['reconsideration', 'sent_to_respondent_on']} />
        <${Field} path=${['reconsideration', 'answer_received_on']} />
        <${Field} path=${['reconsideration', 'hearing', 'held_on']} />
        <${Field} path=${['reconsideration', 'hearing', 'place']} />
        <${Field} path=${['reconsideration', 'hearing', 'notes']} />
      </div>
      <h3>中止</h3>
      ${r.suspensions.map((s) => html`<div class="item" key=${s.id}><div class="form-grid">
        <${Field} path=${['reconsideration', 'suspensions', { id: s.id }, 'from']} label="中止日期" />
        <${Field} path=${['reconsideration', 'suspensions', { id: s.id }, 'to']} label="恢复日期" />
        <${Field} path=${['reconsideration', 'suspensions', { id: s.id }, 'reason']} label="中止原因" />
      </div></div>`)}
      ${editable ? html`<button onClick=${() => ctx.edit('添加中止', (d) => addSuspension(d, {}))}>添加中止记录</button>` : null}
      <h3>延期</h3>
      <div class="form-grid">
        <${Field} path=${['reconsideration', 'extension', 'days']} />
        <${Field} path=${['reconsideration', 'extension', 'approved_on']} />
        <${Field} path=${['reconsideration', 'extension', 'reason']} />
        <${Field} path=${['reconsideration', 'extension', 'notified_on']} />
      </div>
    <//>
    <${Section} title="决定">
      <div class="form-grid">
        <${Field} path=${['reconsideration', 'decision', 'kind']} />
        <${Field} path=${['reconsideration', 'decision', 'number']} />
        <${Field} path=${['reconsideration', 'decision', 'decided_on']} />
        <${Field} path=${['reconsideration', 'decision', 'served_on']} />
      </div>
    <//>`}
  </div>`;
}

function LitigationTab() {
  const ctx = useCase_();
  const { c } = ctx;
  const l = c.litigation;
  const editable = ctx.canWrite('litigation');
  const { track } = custodian(c);
  if (track !== 'litigation') {
    return html`<${Section} title="行政应诉（移交前需填写）">
      <div class="form-grid">
        <${Field} path=${['litigation', 'act_name']} />
        <${Field} path=${['litigation', 'defendants']} />
        <${Field} path=${['litigation', 'court']} />
      </div>
    <//>`;
  }
  return html`<div>
    <${TrackDeadlines} docId=${ctx.docId} track="litigation" />
    <${Section} title="立案">
      <div class="form-grid">
        <${Field} path=${['litigation', 'court']} />
        <${Field} path=${['litigation', 'court_case_number']} />
        <${Field} path=${['litigation', 'instance']} />
        <${Field} path=${['litigation', 'procedure']} hint="第一审普通程序审限六个月，简易程序四十五日（《行政诉讼法》第八十一条、第八十三条）" />
        <${Field} path=${['litigation', 'plaintiff']} />
        <${Field} path=${['litigation', 'defendants']} />
        <${Field} path=${['litigation', 'act_name']} />
        <${Field} path=${['litigation', 'reconsideration_upheld']} />
        <${Field} path=${['litigation', 'claims']} />
        <${Field} path=${['litigation', 'registered_on']} />
        <${Field} path=${['litigation', 'complaint_received_on']} hint="被告应自收到起诉状副本之日起十五日内提交答辩状和作出行政行为的证据、依据（第六十七条）" />
        <${Field} path=${['litigation', 'defence_filed_on']} />
      </div>
    <//>
    <${Section} title="开庭与负责人出庭" actions=${editable
      ? html`<button onClick=${() => ctx.edit('添加开庭记录', (d) => addCourtHearing(d, {}))}>添加开庭记录</button>`
      : null}>
      ${l.hearings.length === 0 ? html`<${Empty}>还没有开庭记录。<//>` : null}
      ${l.hearings.map((h, i) => {
        const base = ['litigation', 'hearings', { id: h.id }];
        return html`<div class="item" key=${h.id}>
          <h3>第${i + 1}次开庭</h3>
          <div class="form-grid">
            <${Field} path=${[...base, 'held_on']} label="开庭日期" />
            <${Field} path=${[...base, 'head_appeared']} label="行政机关负责人出庭" hint="计入负责人出庭应诉率" />
            <${Field} path=${[...base, 'head_name']} label="出庭负责人" />
            <${Field} path=${[...base, 'head_title']} label="职务" />
            <${Field} path=${[...base, 'head_rank']} label="负责人级别" />
            <${Field} path=${[...base, 'head_spoke']} label="负责人当庭发言" />
            <${Field} path=${[...base, 'delegated_staff']} label="委托的工作人员" />
            <${Field} path=${[...base, 'lawyer_only']} label="仅委托律师出庭" />
          </div>
        </div>`;
      })}
    <//>
    <${Section} title="裁判">
      <div class="form-grid">
        <${Field} path=${['litigation', 'judgment', 'outcome']} />
        <${Field} path=${['litigation', 'judgment', 'judged_on']} />
        <${Field} path=${['litigation', 'judgment', 'served_on']} hint="不服第一审判决的，可自判决书送达之日起十五日内上诉（裁定十日）" />
        <${Field} path=${['litigation', 'appeal', 'filed_on']} />
        <${Field} path=${['litigation', 'appeal', 'by']} />
        <${Field} path=${['litigation', 'performance']} />
        <${Field} path=${['litigation', 'recommendations']} />
      </div>
    <//>
  </div>`;
}

function Handoffs() {
  const ctx = useCase_();
  const app = useApp();
  const { c, user } = ctx;
  if (c.handoffs.length === 0) return html`<${Section} title="移交"><${Empty}>本案没有移交记录。<//><//>`;
  return html`<${Section} title="移交">
    ${[...c.handoffs].reverse().map((h) => {
      const mayWithdraw = h.status === 'pending' && h.requested_by === user.id && !h.withdrawal.by && ctx.canWrite('handoffs');
      return html`<div class="item handoff" key=${h.id}>
        <div class="handoff-head">
          <strong>${label('track', h.from_track)} → ${label('track', h.to_track)}</strong>
          <span>接收单位：${app.unitName(h.to_unit)}</span>
          <${HandoffStatus} status=${h.status} />
        </div>
        <div class="form-grid">
          <${Show} label="移交理由">${h.reason}<//>
          <${Show} label="申请人">${h.requested_by}<//>
          <${Show} label="申请时间">${formatInstant(h.requested_at)}<//>
          <${Show} label="状态时间">${formatInstant(h.status_at)}<//>
          ${h.status_reason ? html`<${Show} label="说明">${h.status_reason}<//>` : null}
          ${h.decision.verdict ? html`<${Show} label="接收单位意见">${label('handoff_verdict', h.decision.verdict)}${h.decision.note ? `：${h.decision.note}` : ''}（${h.decision.by}，${formatInstant(h.decision.at)}）<//>` : null}
          ${h.withdrawal.by ? html`<${Show} label="撤回">${h.withdrawal.by}，${formatInstant(h.withdrawal.at)}<//>` : null}
        </div>
        ${h.status === 'requested' ? html`<p class="hint">移交申请已保存在本机，上传到服务器后由服务器审查并送达接收单位。</p>` : null}
        ${mayWithdraw ? html`<button onClick=${() => confirm('撤回这份移交申请？') && ctx.edit('撤回移交', (d) => withdrawHandoff(d, h.id, { user }))}>撤回申请</button>` : null}
      </div>`;
    })}
  <//>`;
}

function Attachments() {
  const { c } = useCase_();
  return html`<${Section} title="附件">
    ${c.attachments.length === 0
      ? html`<${Empty}>没有附件。<//>`
      : html`<table class="table"><thead><tr><th>名称</th><th>文书类型</th><th>文号</th><th>出具日期</th><th>大小</th></tr></thead><tbody>
        ${c.attachments.map((a) => html`<tr><td>${a.name}</td><td>${a.document_type}</td><td>${a.number}</td><td>${formatDate(a.issued_on)}</td><td>${(a.size / 1024).toFixed(1)} KB</td></tr>`)}
        </tbody></table>`}
    <p class="hint">附件文件按内容摘要保存在服务器上；上传与下载将在服务器提供附件接口后开放。</p>
  <//>`;
}

