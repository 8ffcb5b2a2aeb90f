-- What the supervisor dashboard needs to answer over a large county (measured by `make bench`,
-- server/benches/dashboard.rs, against 200 ms per query at 1,000,000 cases).
--
-- The statistics (`stats.rs`) are grouped counts over one date column each; these covering
-- indexes let each count read only the period's index entries, never the table.
CREATE INDEX case_projection_registered_on
    ON case_projection (registered_on, township, custody_unit, track, dispute_type, source);
CREATE INDEX case_projection_concluded_on
    ON case_projection (concluded_on, township, custody_unit, status, outcome, satisfaction);
CREATE INDEX case_projection_mediation_on
    ON case_projection (mediation_result_on, township, custody_unit, mediation_result, source, dispute_type);
CREATE INDEX case_projection_reconsideration_on
    ON case_projection (reconsideration_decided_on, township, custody_unit, reconsideration_decision);
CREATE INDEX case_projection_litigation
    ON case_projection (litigation_instance, litigation_heard_on, litigation_judged_on, litigation_attendance,
                        litigation_outcome, township, custody_unit);

-- A deadline carries its case's township and custody unit (written with the case's row in the
-- same transaction), so that the on-time and acceptance rates need no join per deadline.
ALTER TABLE deadline_projection ADD COLUMN township TEXT NOT NULL DEFAULT '';
ALTER TABLE deadline_projection ADD COLUMN custody_unit TEXT NOT NULL DEFAULT '';
UPDATE deadline_projection SET
    township = COALESCE((SELECT c.township FROM case_projection c WHERE c.case_id = deadline_projection.case_id), ''),
    custody_unit = COALESCE((SELECT c.custody_unit FROM case_projection c WHERE c.case_id = deadline_projection.case_id), '');
CREATE INDEX deadline_projection_open
    ON deadline_projection (met_on, due_on, rule, suspended, township, custody_unit);
CREATE INDEX deadline_projection_started
    ON deadline_projection (rule, start_on, suspended, met_on, due_on, township, custody_unit);

-- The case list pages newest first by the expression it orders by.
CREATE INDEX case_projection_listed ON case_projection (COALESCE(registered_at, 0), case_id);
