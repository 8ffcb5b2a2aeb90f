// The vocabulary table: stable lower-case codes stored in documents, with their zh-CN labels for
// people. Generated from schema/src/vocab.rs (`npm run vocab`); a unit test fails when the two
// differ. Documents never hold a label.

import table from './generated/vocab.json' with { type: 'json' };

/** Every vocabulary by its name (`dispute_type`), each `{ type, values: [[code, label]] }`. */
export const VOCABULARIES = table;

const byType = new Map(Object.entries(table).map(([name, v]) => [v.type, name]));
const labels = new Map(
  Object.entries(table).map(([name, v]) => [name, new Map(v.values.map(([code, label]) => [code, label]))]),
);

/** The vocabulary name of a Rust enum type (`DisputeType` → `dispute_type`), or undefined. */
export function vocabularyOfType(rustType) {
  return byType.get(rustType);
}

/** The zh-CN label of `code` in `vocabulary`; an unknown code is shown as it is, marked. */
export function label(vocabulary, code) {
  if (code === null || code === undefined || code === '') return '';
  const found = labels.get(vocabulary)?.get(code);
  return found ?? `未知代码（${code}）`;
}

/** Whether `code` belongs to `vocabulary`. */
export function isCode(vocabulary, code) {
  return labels.get(vocabulary)?.has(code) ?? false;
}

/** `[{ code, label }]` in the order of the vocabulary table, for selects. */
export function options(vocabulary) {
  const v = table[vocabulary];
  if (!v) throw new Error(`unknown vocabulary ${vocabulary}`);
  return v.values.map(([code, l]) => ({ code, label: l }));
}
