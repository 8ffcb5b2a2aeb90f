-- Who may read each case, kept beside the documents so that a sync session can list the cases a
-- user reads without loading them (DESIGN §4, §8). Derived from the document by
-- `store::access::CaseReaders` in the same transaction as every commit that changes it.
--
-- scope `subtree`: users of `unit_id` or above it read the case (custody, former custody, the
-- receiving unit of a handoff that reached its inbox); `unit`: users of exactly `unit_id` (the
-- custodian of a restricted case); `county_supervisors`: supervisors of the county above
-- `unit_id` (a restricted case).
CREATE TABLE case_access (
    case_id BYTEA NOT NULL,
    scope   TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    PRIMARY KEY (case_id, scope, unit_id)
);
CREATE INDEX case_access_unit ON case_access (unit_id, scope);

-- Every change of a case's readers, with the feed sequence number of the commit that made it and
-- the readers from then on (`CaseReaders::encode`): what a session needs to tell a device which
-- cases it could read at its cursor and no longer can (`gone`).
CREATE TABLE case_access_log (
    case_id BYTEA NOT NULL,
    seq     BIGINT NOT NULL,
    readers TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_access_log_seq ON case_access_log (seq);
