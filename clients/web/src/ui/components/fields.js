// Form fields bound to a path of the open case. Each field takes its control from the Rust type at
// that path (core/schema/layout.js): text boxes for scalar strings, selects for codes, date
// pickers for legal dates, a collaborative text area for Text. Scalar fields write when the person
// leaves the field; Text writes on every keystroke as a minimal splice, so two devices typing in
// the same agreement merge character by character.

import { html } from 'htm/preact';
import { createContext } from 'preact';
import { useContext, useLayoutEffect, useRef, useState } from 'preact/hooks';
import * as A from '../../core/automerge.js';
import { setField, setStringList, setText, valueAt } from '../../core/schema/document.js';
import { describe, typeAtPath } from '../../core/schema/layout.js';
import { instantToLocalInput, localInputToInstant } from '../../core/schema/time.js';
import { label, options } from '../../core/schema/vocab.js';
import { fieldLabel } from '../labels.js';

/** `{ docId, doc, c, user, canWrite(section), edit(message, fn) }` of the open case. */
export const CaseContext = createContext(null);

export function useCaseContext() {
  return useContext(CaseContext);
}

/** The path with list items as indexes, for Automerge's own path functions. */
export function absolutePath(c, path) {
  const out = [];
  let v = c;
  for (const seg of path) {
    if (typeof seg === 'object') {
      const index = v.findIndex((item) => item.id === seg.id);
      out.push(index);
      v = v[index];
    } else {
      out.push(seg);
      v = v?.[seg];
    }
  }
  return out;
}

let fieldIds = 0;

/**
 * A labelled field for `path`. `label` overrides the default label; `hint` explains; `wide`
 * spans the form's full width.
 */
export function Field({ path, label: text, hint, wide, readOnly, required }) {
  const ctx = useCaseContext();
  const [id] = useState(() => `f${++fieldIds}`);
  const type = typeAtPath(path);
  const desc = describe(type);
  const editable = !readOnly && ctx.canWrite(path[0]);
  const value = valueAt(ctx.c, path);
  const write = (v, message = '修改') => ctx.edit(message, (d) => setField(d, path, v));
  const kind = desc.kind === 'option' ? desc.of : desc;
  let control;
  if (desc.kind === 'text') {
    control = html`<${TextArea} id=${id} path=${path} editable=${editable} />`;
  } else if (desc.kind === 'bool') {
    control = html`<label class="check"><input id=${id} type="checkbox" checked=${value} disabled=${!editable}
      onChange=${(e) => write(e.currentTarget.checked)} /> 是</label>`;
  } else if (desc.kind === 'option' && kind.kind === 'bool') {
    control = html`<select id=${id} disabled=${!editable} value=${value === null ? '' : String(value)}
      onChange=${(e) => write(e.currentTarget.value === '' ? null : e.currentTarget.value === 'true')}>
      <option value="">未填写</option><option value="true">是</option><option value="false">否</option></select>`;
  } else if (kind.kind === 'string' && kind.format === 'code') {
    control = html`<select id=${id} disabled=${!editable} value=${value ?? ''} onChange=${(e) => write(e.currentTarget.value || null)}>
      <option value="">请选择</option>
      ${options(kind.vocabulary).map((o) => html`<option value=${o.code}>${o.label}</option>`)}
      ${value && !options(kind.vocabulary).some((o) => o.code === value) ? html`<option value=${value}>${label(kind.vocabulary, value)}</option>` : null}
    </select>`;
  } else if (kind.kind === 'string' && kind.format === 'date') {
    control = html`<input id=${id} type="date" disabled=${!editable} value=${value ?? ''}
      onChange=${(e) => write(e.currentTarget.value || (desc.kind === 'option' ? null : ''))} />`;
  } else if (kind.kind === 'string' && kind.format === 'instant') {
    control = html`<input id=${id} type="datetime-local" disabled=${!editable} value=${instantToLocalInput(value)}
      onChange=${(e) => write(localInputToInstant(e.currentTarget.value))} />`;
  } else if (kind.kind === 'string') {
    control = html`<${CommitInput} id=${id} value=${value ?? ''} editable=${editable} onCommit=${(v) => write(desc.kind === 'option' && v === '' ? null : v)} />`;
  } else if (kind.kind === 'int' && path[path.length - 1] === 'amount_fen') {
    control = html`<${MoneyInput} id=${id} value=${value} editable=${editable} onCommit=${(v) => write(v)} />`;
  } else if (kind.kind === 'int') {
    control = html`<${CommitInput} id=${id} type="number" value=${value ?? ''} editable=${editable}
      onCommit=${(v) => write(v === '' ? (desc.kind === 'option' ? null : 0) : Number.parseInt(v, 10))} />`;
  } else if (desc.kind === 'list' && desc.of.kind === 'string') {
    control = html`<${CommitInput} id=${id} value=${(value ?? []).join('、')} editable=${editable}
      placeholder="多项之间用顿号“、”分隔"
      onCommit=${(v) => ctx.edit('修改', (d) => setStringList(d, path, v.split(/[、,，;；]/).map((s) => s.trim()).filter(Boolean)))} />`;
  } else {
    control = html`<span class="muted">（不支持的字段类型 ${type}）</span>`;
  }
  return html`<div class=${`field${wide || desc.kind === 'text' ? ' wide' : ''}${required ? ' required' : ''}`}>
    <label for=${id}>${text ?? fieldLabel(path)}</label>
    ${control}
    ${hint ? html`<div class="hint">${hint}</div>` : null}
  </div>`;
}

/** A text box that writes when the person leaves it or presses Enter. */
export function CommitInput({ id, value, editable, onCommit, type = 'text', placeholder }) {
  const [draft, setDraft] = useState(null);
  const commit = () => {
    if (draft !== null && draft !== String(value)) onCommit(draft.trim());
    setDraft(null);
  };
  return html`<input id=${id} type=${type} disabled=${!editable} placeholder=${placeholder}
    value=${draft ?? value} onInput=${(e) => setDraft(e.currentTarget.value)} onBlur=${commit}
    onKeyDown=${(e) => e.key === 'Enter' && (e.preventDefault(), commit())} />`;
}

/** An amount in yuan (two decimals) stored exactly in fen. */
function MoneyInput({ id, value, editable, onCommit }) {
  const shown = value === null || value === undefined ? '' : (value / 100).toFixed(2);
  const [error, setError] = useState('');
  return html`<div>
    <${CommitInput} id=${id} value=${shown} editable=${editable} placeholder="例如 1234.50"
      onCommit=${(v) => {
        if (v === '') {
          setError('');
          return onCommit(null);
        }
        if (!/^\d+(\.\d{1,2})?$/.test(v)) return setError('请填写金额，最多两位小数');
        setError('');
        const [yuan, jiao = ''] = v.split('.');
        onCommit(Number.parseInt(yuan, 10) * 100 + Number.parseInt(jiao.padEnd(2, '0'), 10));
      }} />
    ${error ? html`<div class="error-text">${error}</div>` : null}
  </div>`;
}

/**
 * A collaborative text area over an Automerge Text. Remote edits arriving while the person types
 * keep their caret where it was, using Automerge cursors (which follow the characters, not the
 * offsets).
 */
export function TextArea({ id, path, editable, rows = 4, placeholder }) {
  const ctx = useCaseContext();
  const ref = useRef(null);
  const cursor = useRef(null);
  const value = valueAt(ctx.c, path) ?? '';
  const remember = () => {
    const el = ref.current;
    const doc = ctx.latest();
    if (!el || !doc) return;
    try {
      cursor.current = A.getCursor(doc, absolutePath(ctx.c, path), el.selectionStart);
    } catch {
      cursor.current = null;
    }
  };
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el || el.value === value) return;
    const focused = document.activeElement === el;
    let position = null;
    if (focused && cursor.current) {
      try {
        position = A.getCursorPosition(ctx.doc, absolutePath(ctx.c, path), cursor.current);
      } catch {
        position = null;
      }
    }
    el.value = value;
    if (focused && position !== null) el.setSelectionRange(position, position);
  });
  const onInput = (e) => {
    const text = e.currentTarget.value;
    ctx.edit('输入', (d) => setText(d, path, text));
    remember();
  };
  return html`<textarea id=${id} ref=${ref} rows=${rows} disabled=${!editable} placeholder=${placeholder}
    defaultValue=${value} onInput=${onInput} onKeyUp=${remember} onClick=${remember} onSelect=${remember}></textarea>`;
}

/** A read-only value with its label. */
export function Show({ label: text, children }) {
  return html`<div class="field"><span class="label">${text}</span><div class="value">${children || html`<span class="muted">未填写</span>`}</div></div>`;
}
