// 督查统计 for supervisors: the rates of LAW.md §4, townships, trends, and overdue and due-soon
// deadlines for a unit and period, from /v1/stats (core/stats.js). Without that endpoint, or
// without network, the page says so plainly.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fetchAnnualReport } from '../../core/api.js';
import { RATE_KINDS, RULE_LABELS, fetchStats, formatRate, percentBasisPoints } from '../../core/stats.js';
import { chinaDate, formatDate } from '../../core/schema/time.js';
import { label } from '../../core/schema/vocab.js';
import { Empty, Section } from '../components/common.js';
import { useApp } from '../hooks.js';

export function DashboardScreen() {
  const app = useApp();
  const today = chinaDate();
  const [query, setQuery] = useState({ unit: app.user.unit, from: `${today.slice(0, 4)}-01-01`, to: today });
  const [result, setResult] = useState(null);
  const load = () => {
    setResult(null);
    fetchStats({ auth: app.auth, query }).then(setResult);
  };
  useEffect(load, [app.auth]);
  const set = (key) => (e) => setQuery({ ...query, [key]: e.currentTarget.value });
  // The supervisor's unit and the units below it, by name (the directory remembered offline).
  const below = (id) => id === app.user.unit || app.units.some((u) => u.id === id && u.parent && below(u.parent));
  const known = app.units.filter((u) => below(u.id));
  const scope = known.length ? known : [{ id: app.user.unit, name: app.unitName(app.user.unit) }];
  return html`<div class="page">
    <header class="page-head"><h1>督查统计</h1></header>
    <form class="toolbar" onSubmit=${(e) => (e.preventDefault(), load())}>
      <div class="form-grid" style="flex:1">
        <div class="field"><label for="st-unit">单位</label>
          <select id="st-unit" value=${query.unit} onChange=${set('unit')}>
            ${scope.map((u) => html`<option value=${u.id}>${u.name}</option>`)}
          </select></div>
        <div class="field"><label for="st-from">起始日期</label><input id="st-from" type="date" value=${query.from} onInput=${set('from')} /></div>
        <div class="field"><label for="st-to">截止日期</label><input id="st-to" type="date" value=${query.to} onInput=${set('to')} /></div>
      </div>
      <button class="primary" type="submit">查询</button>
    </form>
    ${!result ? html`<p class="muted">正在读取统计数据…</p>` : null}
    ${result && result.status !== 'ok'
      ? html`<div class=${`banner ${result.status === 'error' ? 'banner-error' : ''}`} role="status" data-stats=${result.status}>${result.message}</div>`
      : null}
    ${result?.status === 'ok' ? html`<${Stats} data=${result.data} unitName=${(id) => app.unitName(id)} />` : null}
    <${AnnualReport} unit=${query.unit} unitName=${app.unitName(query.unit)} />
  </div>`;
}

/** 年度报表: the annual report of the unit (server/src/report.rs) as Markdown or xlsx. */
function AnnualReport({ unit, unitName }) {
  const app = useApp();
  const thisYear = Number(chinaDate().slice(0, 4));
  const [year, setYear] = useState(thisYear - 1);
  const [busy, setBusy] = useState('');
  const download = async (format) => {
    setBusy(format);
    try {
      const { blob, fileName } = await fetchAnnualReport({ auth: app.auth, baseUrl: app.baseUrl }, { year, unit, format });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      app.toast(`年度报表未能下载：${e.message}`, 'warning');
    } finally {
      setBusy('');
    }
  };
  return html`<${Section} title="年度报表">
    <div class="toolbar annual-report">
      <div class="field"><label for="ar-year">年度</label>
        <select id="ar-year" value=${year} onChange=${(e) => setYear(Number(e.currentTarget.value))}>
          ${[0, 1, 2, 3].map((n) => html`<option value=${thisYear - n}>${thisYear - n}年</option>`)}
        </select></div>
      <span class="muted">${unitName}</span>
      <button onClick=${() => download('markdown')} disabled=${busy !== ''}>下载 Markdown</button>
      <button onClick=${() => download('xlsx')} disabled=${busy !== ''}>下载 Excel（xlsx）</button>
    </div>
    <p class="hint">报表按各项比率的统计口径汇总全年数据，需联网下载。</p>
  <//>`;
}

function Stats({ data, unitName }) {
  const types = Object.entries(data.byDisputeType).filter(([, n]) => n > 0);
  return html`<div>
    <p class="hint">${unitName(data.unit)} · ${formatDate(data.from)} 至 ${formatDate(data.to)}${data.today ? `（逾期按 ${formatDate(data.today)} 计算）` : ''}</p>
    <div class="rate-cards">${RATE_KINDS.map(([code, name]) => html`<div class="rate-card">
      <div class="rate-name">${name}</div>
      <div class="rate-value">${formatRate(data.rates[code])}</div>
      <div class="muted">${data.rates[code].numerator}/${data.rates[code].denominator}</div>
    </div>`)}</div>
    <${Section} title="各乡镇（街道）"><${Chart} option=${townshipChart(data)} empty=${data.townships.length === 0} />
      ${data.townships.length
        ? html`<table class="table"><thead><tr><th>乡镇（街道）</th><th>登记</th><th>办结</th><th>调解成功率</th><th>按期办结率</th></tr></thead><tbody>
          ${data.townships.map((t) => html`<tr><td>${t.name}</td><td>${t.registered}</td><td>${t.concluded}</td>
            <td>${formatRate(t.mediationSuccess)}（${t.mediationSuccess.numerator}/${t.mediationSuccess.denominator}）</td>
            <td>${formatRate(t.onTime)}（${t.onTime.numerator}/${t.onTime.denominator}）</td></tr>`)}
          </tbody></table>`
        : null}
    <//>
    <${Section} title="逐月趋势"><${Chart} option=${trendChart(data)} empty=${data.trend.length === 0} /><//>
    <${Section} title="纠纷类型"><${Chart} option=${typeChart(types)} empty=${types.length === 0} /><//>
    <${Section} title=${`已逾期（${data.overdueTotal}）`}><${Deadlines} items=${data.overdue} total=${data.overdueTotal} /><//>
    <${Section} title=${`即将到期（${data.dueSoonTotal}）`}><${Deadlines} items=${data.dueSoon} total=${data.dueSoonTotal} /><//>
  </div>`;
}

function Deadlines({ items, total }) {
  if (items.length === 0) return html`<${Empty}>没有。<//>`;
  return html`${total > items.length ? html`<p class="muted">共 ${total} 项，以下为最紧急的 ${items.length} 项。</p>` : null}<table class="table"><thead><tr><th>案件编号</th><th>办理渠道</th><th>期限</th><th>届满日</th></tr></thead><tbody>
    ${items.map((d) => html`<tr><td>${d.caseNumber || '（未登记）'}</td><td>${label('track', d.track) || d.track}</td><td>${RULE_LABELS[d.rule] ?? d.rule}</td><td>${formatDate(d.dueOn) || d.dueOn}</td></tr>`)}
  </tbody></table>`;
}

const percent = (r) => {
  const bp = percentBasisPoints(r);
  return bp === null ? null : bp / 100;
};

function townshipChart(data) {
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null ? '—' : `${v.toFixed(2)}%`) },
    legend: { data: ['调解成功率', '按期办结率'] },
    grid: { left: 48, right: 16, bottom: 48 },
    xAxis: { type: 'category', data: data.townships.map((t) => t.name) },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      { name: '调解成功率', type: 'bar', data: data.townships.map((t) => percent(t.mediationSuccess)) },
      { name: '按期办结率', type: 'bar', data: data.townships.map((t) => percent(t.onTime)) },
    ],
  };
}

function trendChart(data) {
  const kinds = RATE_KINDS.filter(([code]) => data.trend.some((t) => t.rates[code].denominator > 0));
  return {
    tooltip: { trigger: 'axis', valueFormatter: (v) => (v === null ? '—' : `${v.toFixed(2)}%`) },
    legend: { data: kinds.map(([, n]) => n) },
    grid: { left: 48, right: 16, bottom: 32 },
    xAxis: { type: 'category', data: data.trend.map((t) => t.month) },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: kinds.map(([code, name]) => ({ name, type: 'line', connectNulls: false, data: data.trend.map((t) => percent(t.rates[code])) })),
  };
}

function typeChart(types) {
  return {
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['35%', '65%'], data: types.map(([code, n]) => ({ name: label('dispute_type', code) || '未填写', value: n })) }],
  };
}

/** An ECharts chart; the library is loaded only when a chart is shown. */
function Chart({ option, empty }) {
  const ref = useRef(null);
  useEffect(() => {
    if (empty) return undefined;
    let chart;
    let disposed = false;
    const resize = () => chart?.resize();
    import('echarts').then((echarts) => {
      if (disposed || !ref.current) return;
      chart = echarts.init(ref.current, null, { renderer: 'canvas' });
      chart.setOption(option);
      window.addEventListener('resize', resize);
    });
    return () => {
      disposed = true;
      window.removeEventListener('resize', resize);
      chart?.dispose();
    };
  }, [option, empty]);
  if (empty) return html`<${Empty}>没有数据。<//>`;
  return html`<div class="chart" ref=${ref}></div>`;
}
