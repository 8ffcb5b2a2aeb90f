// 新建案件 at intake: what the case is (kind, title, place, dispute type), the parties and the
// claims. Saved on the device at once; it reaches the server (which registers it and gives it its
// official number) at the next sync.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { setField, setText } from '../../core/schema/document.js';
import { addParty } from '../../core/schema/operations.js';
import { canOpenCase } from '../../core/schema/policy.js';
import { instant } from '../../core/schema/time.js';
import { options } from '../../core/schema/vocab.js';
import { navigate, useApp } from '../hooks.js';

const emptyParty = (role) => ({ role, kind: 'person', name: '', id_number: '', phone: '', address: '' });

export function NewCaseScreen() {
  const app = useApp();
  const user = app.user;
  const kinds = options('case_kind').filter((k) => canOpenCase(user, k.code));
  const [form, setForm] = useState({
    kind: kinds[0]?.code ?? 'dispute',
    title: '',
    township: user.unit,
    village: '',
    disputeType: '',
    claims: '',
    facts: '',
  });
  const [parties, setParties] = useState([emptyParty('applicant'), emptyParty('respondent')]);
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  if (kinds.length === 0) {
    return html`<div class="page"><h1>新建案件</h1><p>您的角色不能在本单位登记案件。</p></div>`;
  }
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.value });
  const setParty = (i, key) => (e) => setParties(parties.map((p, j) => (j === i ? { ...p, [key]: e.currentTarget.value } : p)));
  const named = parties.filter((p) => p.name.trim());
  const suggestedTitle = () => {
    const a = named.find((p) => p.role === 'applicant');
    const r = named.find((p) => p.role === 'respondent');
    const type = options('dispute_type').find((o) => o.code === form.disputeType)?.label;
    if (!a) return '';
    return `${a.name.trim()}${r ? `与${r.name.trim()}` : ''}${type ?? ''}纠纷`;
  };
  const save = async (e) => {
    e.preventDefault();
    setError('');
    const title = form.title.trim() || suggestedTitle();
    if (!title) return setError('请填写案件名称，或至少填写一名申请人');
    if (named.length === 0) return setError('请至少填写一名当事人');
    setSaving(true);
    try {
      const id = await app.replica.create(
        { kind: form.kind, unit: user.unit, user: user.id, township: form.township.trim() || user.unit, title, createdAt: instant() },
        (d) => {
          if (form.village.trim()) setField(d, ['meta', 'village'], form.village.trim());
          if (form.disputeType) setField(d, ['meta', 'dispute_type'], form.disputeType);
          for (const p of named) {
            addParty(d, {
              role: p.role,
              kind: p.kind,
              name: p.name.trim(),
              id_number: p.id_number.trim(),
              phone: p.phone.trim(),
              address: p.address.trim(),
            });
          }
          if (form.claims.trim()) setText(d, ['claims', 'claims'], form.claims.trim());
          if (form.facts.trim()) setText(d, ['claims', 'facts'], form.facts.trim());
        },
      );
      app.toast('案件已保存在本机，联网后自动上传登记。');
      navigate(`case/${encodeURIComponent(id)}`);
    } catch (err) {
      console.error(err);
      setError(`保存失败：${err.message}`);
      setSaving(false);
    }
  };
  return html`<form class="page" onSubmit=${save}>
    <header class="page-head"><h1>新建案件</h1></header>
    <section class="card">
      <h2>基本信息</h2>
      <div class="form-grid">
        <div class="field"><label for="nc-kind">案件类别</label>
          <select id="nc-kind" value=${form.kind} onChange=${set('kind')}>${kinds.map((k) => html`<option value=${k.code}>${k.label}</option>`)}</select></div>
        <div class="field"><label for="nc-type">纠纷类型</label>
          <select id="nc-type" value=${form.disputeType} onChange=${set('disputeType')}>
            <option value="">请选择</option>${options('dispute_type').map((o) => html`<option value=${o.code}>${o.label}</option>`)}
          </select></div>
        <div class="field wide"><label for="nc-title">案件名称</label>
          <input id="nc-title" value=${form.title} placeholder=${suggestedTitle() || '例如：张某与李某宅基地纠纷'} onInput=${set('title')} />
          <div class="hint">不填写时按当事人和纠纷类型自动生成。</div></div>
        <div class="field"><label for="nc-township">乡镇（街道）单位编码</label>
          <input id="nc-township" value=${form.township} onInput=${set('township')} /></div>
        <div class="field"><label for="nc-village">村（社区）</label>
          <input id="nc-village" value=${form.village} onInput=${set('village')} /></div>
      </div>
    </section>
    <section class="card">
      <header class="card-head"><h2>当事人</h2>
        <div class="actions"><button type="button" onClick=${() => setParties([...parties, emptyParty('third_party')])}>添加当事人</button></div></header>
      ${parties.map((p, i) => html`<div class="party-form" data-party=${i}>
        <div class="form-grid">
          <div class="field"><label for=${`p${i}-role`}>身份</label>
            <select id=${`p${i}-role`} value=${p.role} onChange=${setParty(i, 'role')}>${options('party_role').map((o) => html`<option value=${o.code}>${o.label}</option>`)}</select></div>
          <div class="field"><label for=${`p${i}-kind`}>类型</label>
            <select id=${`p${i}-kind`} value=${p.kind} onChange=${setParty(i, 'kind')}>${options('party_kind').map((o) => html`<option value=${o.code}>${o.label}</option>`)}</select></div>
          <div class="field"><label for=${`p${i}-name`}>姓名或名称</label><input id=${`p${i}-name`} value=${p.name} onInput=${setParty(i, 'name')} /></div>
          <div class="field"><label for=${`p${i}-phone`}>联系电话</label><input id=${`p${i}-phone`} type="tel" value=${p.phone} onInput=${setParty(i, 'phone')} /></div>
          <div class="field"><label for=${`p${i}-idn`}>身份证号或统一社会信用代码</label><input id=${`p${i}-idn`} value=${p.id_number} onInput=${setParty(i, 'id_number')} /></div>
          <div class="field"><label for=${`p${i}-addr`}>住址</label><input id=${`p${i}-addr`} value=${p.address} onInput=${setParty(i, 'address')} /></div>
        </div>
        ${parties.length > 1 ? html`<button type="button" class="link danger" onClick=${() => setParties(parties.filter((_, j) => j !== i))}>删除此当事人</button>` : null}
      </div>`)}
    </section>
    <section class="card">
      <h2>诉求与事实</h2>
      <div class="form-grid">
        <div class="field wide"><label for="nc-claims">当事人诉求</label><textarea id="nc-claims" rows="3" value=${form.claims} onInput=${set('claims')}></textarea></div>
        <div class="field wide"><label for="nc-facts">事实和理由</label><textarea id="nc-facts" rows="4" value=${form.facts} onInput=${set('facts')}></textarea></div>
      </div>
    </section>
    ${error ? html`<div class="error-text" role="alert">${error}</div>` : null}
    <div class="form-actions">
      <button type="button" onClick=${() => history.back()}>取消</button>
      <button class="primary" type="submit" disabled=${saving}>${saving ? '正在保存…' : '保存案件'}</button>
    </div>
  </form>`;
}
