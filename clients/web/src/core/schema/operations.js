// The domain's edits on a case, each to be run inside one `Automerge.change`: what a mediator or
// county officer does, in the words of the design (request a handoff, decide it, withdraw it).
// They take the change proxy `d` and the plain case `c` as it was read before the change.

import { addItem, setField } from './document.js';
import { custodian } from './policy.js';
import { instant } from './time.js';

/**
 * Appends a handoff request (status `requested`) naming the custody version the requester saw
 * (DESIGN §6.1). Returns the new request's id.
 */
export function requestHandoff(d, c, { user, toTrack, toUnit, reason, now = instant(), id }) {
  const from = custodian(c);
  return addItem(
    d,
    ['handoffs'],
    {
      ...(id ? { id } : {}),
      from_track: from.track,
      from_unit: from.unit,
      to_track: toTrack,
      to_unit: toUnit,
      reason,
      custody_version: c.custody.version,
      requested_by: user.id,
      requested_at: now,
      status: 'requested',
    },
    'handoff',
  );
}

/** The receiving unit's decision on a handoff: `accept` or `reject`, with a note (the reason). */
export function decideHandoff(d, handoffId, { user, verdict, note, now = instant() }) {
  const base = ['handoffs', { id: handoffId }, 'decision'];
  setField(d, [...base, 'verdict'], verdict);
  setField(d, [...base, 'by'], user.id);
  setField(d, [...base, 'at'], now);
  setField(d, [...base, 'note'], note);
}

/** The requester withdraws a pending handoff. */
export function withdrawHandoff(d, handoffId, { user, now = instant() }) {
  const base = ['handoffs', { id: handoffId }, 'withdrawal'];
  setField(d, [...base, 'by'], user.id);
  setField(d, [...base, 'at'], now);
}

/** Adds a party; returns its id. */
export function addParty(d, fields) {
  return addItem(d, ['parties'], fields, 'party');
}

/** Adds a mediation session; returns its id. */
export function addSession(d, fields) {
  return addItem(d, ['mediation', 'sessions'], fields, 'session');
}

/** Adds a court hearing; returns its id. */
export function addCourtHearing(d, fields) {
  return addItem(d, ['litigation', 'hearings'], fields, 'hearing');
}

/** Adds a suspension of a reconsideration; returns its id. */
export function addSuspension(d, fields) {
  return addItem(d, ['reconsideration', 'suspensions'], fields, 'suspension');
}
