// Who may write which section of a case, mirrored from schema/src/policy.rs so that the tablet
// shows as editable exactly what the server will accept. The server decides in the end: a write
// it does not allow is reverted with a review item (DESIGN §5.2), which this app shows.
//
// Cases reach the device only if the user may read them, so reading is taken as given here.
// `user` is `{ id, unit, roles: [code] }` as the login answer gives it; `c` a plain case
// (`readCase`).

import { SCHEMA_VERSION } from './layout.js';
import { path as handoffPath } from './handoff.js';

const ROLE_FOR_TRACK = {
  mediation: 'mediator',
  petition: 'petition_officer',
  reconsideration: 'reconsideration_officer',
  litigation: 'litigation_officer',
};

/** The role that works cases in custody of `track`. */
export function roleForTrack(track) {
  return ROLE_FOR_TRACK[track] ?? null;
}

/** The track a newly opened case of `kind` starts in. */
export function openingTrack(kind) {
  return kind === 'dispute' ? 'mediation' : kind === 'petition' ? 'petition' : null;
}

/**
 * The unit holding custody and its track. A case not yet registered by the server is held by the
 * unit that opened it, in the opening track of its kind.
 */
export function custodian(c) {
  if (c.custody.unit) return { unit: c.custody.unit, track: c.custody.track };
  return { unit: c.meta.opened_by_unit, track: openingTrack(c.meta.kind) };
}

function hasRole(user, role) {
  return user.roles.includes(role);
}

/** The user is of the custodian unit and holds the role of the custody track. */
export function isCustodian(user, c) {
  const { unit, track } = custodian(c);
  return track !== null && user.unit === unit && hasRole(user, roleForTrack(track));
}

function reachedReceiver(status) {
  return ['pending', 'accepted', 'rejected', 'withdrawn'].includes(status);
}

/** The user is of the receiving unit of a handoff that reached its inbox, with the target role. */
export function isHandoffReceiver(user, c) {
  return c.handoffs.some(
    (h) => reachedReceiver(h.status) && h.to_unit === user.unit && h.to_track !== null && hasRole(user, roleForTrack(h.to_track)),
  );
}

function writesTrackSection(user, c, sectionTrack) {
  const { track } = custodian(c);
  return isCustodian(user, c) && track !== null && (track === sectionTrack || handoffPath(track, sectionTrack) !== null);
}

/** Whether `user` may write `section` of `c` (DESIGN §3 table, `policy::can_write`). */
export function canWrite(user, c, section) {
  if (isNewerSchema(c)) return false;
  const { unit, track } = custodian(c);
  switch (section) {
    case 'custody':
    case 'review':
      return false;
    case 'meta':
    case 'parties':
    case 'claims':
    case 'attachments':
      return isCustodian(user, c);
    case 'mediation':
      return (
        hasRole(user, 'mediator') &&
        ((user.unit === unit && (track === 'mediation' || track === 'petition')) ||
          // The recording unit's own earlier mediation stays writable for late entries.
          c.custody.history.some((e) => e.track === 'mediation' && e.unit === user.unit))
      );
    case 'petition':
      return writesTrackSection(user, c, 'petition');
    case 'reconsideration':
      return writesTrackSection(user, c, 'reconsideration');
    case 'litigation':
      return writesTrackSection(user, c, 'litigation');
    case 'handoffs':
      return isCustodian(user, c) || isHandoffReceiver(user, c);
    default:
      return false;
  }
}

/** Every section `user` may write. */
export function writableSections(user, c) {
  return ['meta', 'parties', 'claims', 'mediation', 'petition', 'reconsideration', 'litigation', 'handoffs', 'custody', 'review', 'attachments'].filter(
    (s) => canWrite(user, c, s),
  );
}

/** The case was written by a newer version of the software: keep it read-only (DESIGN §3). */
export function isNewerSchema(c) {
  return c.meta.schema_version > SCHEMA_VERSION;
}

/** The user's unit held custody once and does not any more: the case left their custody. */
export function leftCustodyOf(user, c) {
  const { unit } = custodian(c);
  return unit !== user.unit && c.custody.history.some((e) => e.unit === user.unit);
}

/** Whether `user` may open a case of `kind` (the unit kind is checked by the server). */
export function canOpenCase(user, kind) {
  const track = openingTrack(kind);
  return track !== null && hasRole(user, roleForTrack(track));
}

/**
 * Why the case is (mostly) read-only for `user`, in Chinese, or null when they work it. A case
 * that left the unit's custody is read-only except the unit's own mediation record, which stays
 * open for late entries (follow-up visits, judicial confirmation).
 */
export function readOnlyReason(user, c) {
  if (isNewerSchema(c)) {
    return `此案件由更新版本的软件创建（版本${c.meta.schema_version}，本软件支持到版本${SCHEMA_VERSION}），只能查看，请升级后再编辑`;
  }
  const writable = writableSections(user, c);
  if (leftCustodyOf(user, c)) {
    return writable.includes('mediation')
      ? '本案已移出您单位的管辖，只能查看办理情况和结果；本单位的调解记录仍可补录回访和司法确认'
      : '本案已移出您单位的管辖，只能查看办理情况和结果';
  }
  if (writable.length > 0) return null;
  return '您对本案只有查看权限';
}
