// Dates and instants as the case document stores them: ISO 8601 scalar strings. A legal date is
// `2026-03-01`; an instant is RFC 3339 in UTC (`2026-03-01T08:30:00Z`), written with whole seconds
// the way the Rust side writes them. The law counts days in China Standard Time, so dates shown to
// people and "today" are taken in UTC+8 whatever the tablet's own time zone.

const LEGAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const CHINA_OFFSET_MS = 8 * 3600 * 1000;

/** A real calendar date written YYYY-MM-DD. */
export function isLegalDate(s) {
  const m = typeof s === 'string' ? LEGAL_DATE.exec(s) : null;
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** An RFC 3339 instant. */
export function isInstant(s) {
  return typeof s === 'string' && INSTANT.test(s) && !Number.isNaN(Date.parse(s));
}

/** The instant of a `Date` (default: now), in UTC with whole seconds: `2026-03-01T08:30:00Z`. */
export function instant(date = new Date()) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The date of an instant or `Date` in China Standard Time: the date the law counts in. */
export function chinaDate(value = new Date()) {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** An instant shown to people, in China Standard Time: `2026-03-01 16:30`. */
export function formatInstant(s) {
  if (!isInstant(s)) return '';
  const china = new Date(Date.parse(s) + CHINA_OFFSET_MS).toISOString();
  return `${china.slice(0, 10)} ${china.slice(11, 16)}`;
}

/** A legal date shown to people: `2026年3月1日`. */
export function formatDate(s) {
  if (!isLegalDate(s)) return '';
  const [y, m, d] = s.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** The value of an `<input type="datetime-local">` (China time) for an instant, and back. */
export function instantToLocalInput(s) {
  if (!isInstant(s)) return '';
  return new Date(Date.parse(s) + CHINA_OFFSET_MS).toISOString().slice(0, 16);
}

export function localInputToInstant(v) {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) return null;
  return instant(new Date(Date.parse(`${v}:00Z`) - CHINA_OFFSET_MS));
}
