// Handoff paths between tracks and the fields a target track needs, mirrored from
// schema/src/handoff.rs (the labels are the same Chinese words, checked by a unit test). The
// tablet shows what is still missing before a request is sent; the server checks again.

/** Every allowed path (LAW.md §3), as in `handoff::PATHS`. */
export const PATHS = [
  {
    from: 'petition',
    to: 'reconsideration',
    when: '对可申请行政复议的行政行为不服（依法分类处理第4类）',
    clock: '申请期限自知道该行政行为之日起计算，不自信访之日起算',
    source: '《信访工作条例》第三十一条；《行政复议法》第二十条',
  },
  {
    from: 'petition',
    to: 'litigation',
    when: '诉访分离：涉法涉诉事项（依法分类处理第1类）',
    clock: '起诉期限六个月',
    source: '《信访工作条例》第二十八条、第三十一条；《行政诉讼法》第四十六条',
  },
  {
    from: 'petition',
    to: 'mediation',
    when: '信访事项可以调解的，交由人民调解',
    clock: '调解期限',
    source: '《信访工作条例》第三十三条',
  },
  {
    from: 'mediation',
    to: 'reconsideration',
    when: '调解不成，当事人选择申请行政复议',
    clock: '申请期限自知道该行政行为之日起计算',
    source: '《人民调解法》第二十六条；《行政复议法》第二十条',
  },
  {
    from: 'mediation',
    to: 'litigation',
    when: '调解不成，当事人选择提起行政诉讼',
    clock: '起诉期限',
    source: '《人民调解法》第二十六条；《行政诉讼法》第四十六条',
  },
  {
    from: 'reconsideration',
    to: 'litigation',
    when: '对复议决定不服、复议机关逾期不作决定，或撤回复议申请后起诉',
    clock: '收到复议决定书之日起十五日（撤回的，原六个月期限）',
    source: '《行政诉讼法》第二十六条、第四十五条；行诉法解释第五十八条',
  },
];

/** The allowed path from one track to another, or null. */
export function path(from, to) {
  return PATHS.find((p) => p.from === from && p.to === to) ?? null;
}

/** The paths out of `from`. */
export function pathsFrom(from) {
  return PATHS.filter((p) => p.from === from);
}

function wantedRouteLabel(route) {
  switch (route) {
    case 'administrative_procedure':
      return '依法分类处理途径（应为：行政程序（行政复议等））';
    case 'litigation_procedure':
      return '依法分类处理途径（应为：涉法涉诉（诉讼程序））';
    default:
      return '依法分类处理途径';
  }
}

/**
 * The fields plain case `c` still lacks for a move `from` → `to`, in the order a form shows them:
 * `[{ section, path, label }]` (`handoff::missing_fields`).
 */
export function missingFields(c, from, to) {
  const missing = [];
  const need = (ok, section, path, label) => {
    if (!ok) missing.push({ section, path, label });
  };
  const hasParty = (role) => c.parties.some((p) => p.role === role && p.name.trim() !== '');
  const textFilled = (t) => t.trim() !== '';

  if (from === 'petition') {
    const wanted = to === 'reconsideration' ? 'administrative_procedure' : to === 'litigation' ? 'litigation_procedure' : null;
    if (wanted) need(c.petition.route === wanted, 'petition', 'route', wantedRouteLabel(wanted));
  } else if (from === 'mediation') {
    if (to === 'reconsideration' || to === 'litigation') {
      need(
        c.mediation.result === 'failed' || c.mediation.result === 'refused',
        'mediation',
        'result',
        '调解结果（调解不成或当事人拒绝调解）',
      );
      need(textFilled(c.mediation.routes_told), 'mediation', 'routes_told', '已告知当事人的其他解决途径');
    }
  } else if (from === 'reconsideration') {
    const r = c.reconsideration;
    const concluded = r.decision.kind !== null || r.intake === 'not_accepted' || r.intake === 'application_dismissed';
    need(concluded, 'reconsideration', 'decision/kind', '复议决定（或不予受理、驳回申请、终止）');
    need(r.decision.kind === null || r.decision.served_on !== null, 'reconsideration', 'decision/served_on', '复议决定书送达日期');
  }

  if (to === 'reconsideration') {
    const r = c.reconsideration;
    need(hasParty('applicant'), 'parties', 'applicant', '申请人');
    need(r.respondent_agency.trim() !== '', 'reconsideration', 'respondent_agency', '被申请人（作出行政行为的机关）');
    need(r.act.name.trim() !== '', 'reconsideration', 'act/name', '被申请复议的行政行为名称');
    need(r.act.known_on !== null, 'reconsideration', 'act/known_on', '申请人知道该行政行为的日期');
    need(textFilled(r.request), 'reconsideration', 'request', '复议请求和理由');
  } else if (to === 'litigation') {
    const l = c.litigation;
    need(hasParty('applicant'), 'parties', 'applicant', '原告（申请人）');
    need(l.act_name.trim() !== '', 'litigation', 'act_name', '被诉行政行为名称');
    need(l.defendants.length > 0, 'litigation', 'defendants', '被告行政机关');
  } else if (to === 'mediation') {
    need(hasParty('applicant'), 'parties', 'applicant', '申请人');
    need(hasParty('respondent'), 'parties', 'respondent', '被申请人');
    need(c.meta.dispute_type !== null, 'meta', 'dispute_type', '纠纷类型');
    need(textFilled(c.claims.claims), 'claims', 'claims', '当事人诉求');
  }
  return missing;
}

/** The sentence the server writes for missing fields (`HandoffProblem::Missing`). */
export function missingMessage(fields) {
  return `移交前还需填写：${fields.map((f) => f.label).join('、')}`;
}

/** Whether `user` may accept or reject `request` (`handoff::can_decide`). */
export function canDecide(user, request) {
  const role = { mediation: 'mediator', petition: 'petition_officer', reconsideration: 'reconsideration_officer', litigation: 'litigation_officer' }[
    request.to_track
  ];
  return Boolean(role) && user.roles.includes(role) && user.unit === request.to_unit;
}
