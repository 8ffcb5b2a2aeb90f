-- Rollups for the supervisor statistics (`stats.rs`), so that a dashboard query over a large
-- county reads a few rows per month, township and code instead of every case of the period
-- (`make bench` times it over 1,000,000 cases against 200 ms).
--
-- `stats_rollup` counts the projection rows of each family of facts by the month of the date the
-- family is keyed by, the township, the custody unit and up to four codes (`''` for none). It is
-- kept by triggers on the projection tables: a row inserted adds one, a row deleted takes one
-- away, in the same transaction as the commit that rewrites the case's projection. Rows may
-- reach zero and stay; the statistics skip them. Families and their codes:
--   registered       registered_on               track, dispute type, source, kind
--   concluded        concluded_on (concluded)    outcome
--   rated            concluded_on (rated)        satisfaction
--   mediation        mediation_result_on         result, source, dispute type
--   reconsideration  reconsideration_decided_on  decision
--   handled_met      met_on (handling deadlines met, not suspended)   'y' met by the due day, else 'n'
--   acceptance       start_on (petition acceptance notices, not suspended)   'open', 'on_time', 'late'
-- What depends on the day asked (a deadline met after today, an open one) is corrected at query
-- time from the deadline rows themselves.

CREATE TABLE stats_rollup (
    family TEXT NOT NULL,
    month TEXT NOT NULL,
    township TEXT NOT NULL,
    custody_unit TEXT NOT NULL,
    k1 TEXT NOT NULL,
    k2 TEXT NOT NULL,
    k3 TEXT NOT NULL,
    k4 TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (family, month, township, custody_unit, k1, k2, k3, k4)
);

CREATE FUNCTION case_projection_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'registered', substr(NEW.registered_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.track, ''), COALESCE(NEW.dispute_type, ''), COALESCE(NEW.source, ''), COALESCE(NEW.kind, ''), 1
            WHERE NEW.registered_on IS NOT NULL
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'concluded', substr(NEW.concluded_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.outcome, ''), '', '', '', 1
            WHERE NEW.concluded_on IS NOT NULL AND NEW.status = 'concluded'
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'rated', substr(NEW.concluded_on, 1, 7), NEW.township, NEW.custody_unit, NEW.satisfaction, '', '', '', 1
            WHERE NEW.concluded_on IS NOT NULL AND NEW.satisfaction IS NOT NULL
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'mediation', substr(NEW.mediation_result_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.mediation_result, ''), COALESCE(NEW.source, ''), COALESCE(NEW.dispute_type, ''), '', 1
            WHERE NEW.mediation_result_on IS NOT NULL
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'reconsideration', substr(NEW.reconsideration_decided_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.reconsideration_decision, ''), '', '', '', 1
            WHERE NEW.reconsideration_decided_on IS NOT NULL
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        RETURN NEW;
    END IF;
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.registered_on IS NOT NULL
        AND family = 'registered' AND month = substr(OLD.registered_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.track, '') AND k2 = COALESCE(OLD.dispute_type, '') AND k3 = COALESCE(OLD.source, '') AND k4 = COALESCE(OLD.kind, '');
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.concluded_on IS NOT NULL AND OLD.status = 'concluded'
        AND family = 'concluded' AND month = substr(OLD.concluded_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.outcome, '') AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.concluded_on IS NOT NULL AND OLD.satisfaction IS NOT NULL
        AND family = 'rated' AND month = substr(OLD.concluded_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = OLD.satisfaction AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.mediation_result_on IS NOT NULL
        AND family = 'mediation' AND month = substr(OLD.mediation_result_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.mediation_result, '') AND k2 = COALESCE(OLD.source, '') AND k3 = COALESCE(OLD.dispute_type, '') AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.reconsideration_decided_on IS NOT NULL
        AND family = 'reconsideration' AND month = substr(OLD.reconsideration_decided_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.reconsideration_decision, '') AND k2 = '' AND k3 = '' AND k4 = '';
    RETURN OLD;
END
$$;

CREATE TRIGGER case_projection_rollup AFTER INSERT OR DELETE ON case_projection
    FOR EACH ROW EXECUTE FUNCTION case_projection_rollup();

INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'registered', substr(p.registered_on, 1, 7), p.township, p.custody_unit, COALESCE(p.track, ''), COALESCE(p.dispute_type, ''), COALESCE(p.source, ''), COALESCE(p.kind, ''), COUNT(*) FROM case_projection p
WHERE p.registered_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'concluded', substr(p.concluded_on, 1, 7), p.township, p.custody_unit, COALESCE(p.outcome, ''), '', '', '', COUNT(*) FROM case_projection p
WHERE p.concluded_on IS NOT NULL AND p.status = 'concluded'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'rated', substr(p.concluded_on, 1, 7), p.township, p.custody_unit, p.satisfaction, '', '', '', COUNT(*) FROM case_projection p
WHERE p.concluded_on IS NOT NULL AND p.satisfaction IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'mediation', substr(p.mediation_result_on, 1, 7), p.township, p.custody_unit, COALESCE(p.mediation_result, ''), COALESCE(p.source, ''), COALESCE(p.dispute_type, ''), '', COUNT(*) FROM case_projection p
WHERE p.mediation_result_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'reconsideration', substr(p.reconsideration_decided_on, 1, 7), p.township, p.custody_unit, COALESCE(p.reconsideration_decision, ''), '', '', '', COUNT(*) FROM case_projection p
WHERE p.reconsideration_decided_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

CREATE FUNCTION deadline_projection_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'handled_met', substr(NEW.met_on, 1, 7), NEW.township, NEW.custody_unit, CASE WHEN NEW.met_on <= NEW.due_on THEN 'y' ELSE 'n' END, '', '', '', 1
            WHERE NEW.met_on IS NOT NULL AND NEW.rule IN ('mediation.period', 'petition.handling', 'reconsideration.decision') AND NOT NEW.suspended
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
            SELECT 'acceptance', substr(NEW.start_on, 1, 7), NEW.township, NEW.custody_unit, CASE WHEN NEW.met_on IS NULL THEN 'open' WHEN NEW.met_on <= NEW.due_on THEN 'on_time' ELSE 'late' END, '', '', '', 1
            WHERE NEW.rule = 'petition.acceptance_notice' AND NOT NEW.suspended
            ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = stats_rollup.n + 1;
        RETURN NEW;
    END IF;
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.met_on IS NOT NULL AND OLD.rule IN ('mediation.period', 'petition.handling', 'reconsideration.decision') AND NOT OLD.suspended
        AND family = 'handled_met' AND month = substr(OLD.met_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = CASE WHEN OLD.met_on <= OLD.due_on THEN 'y' ELSE 'n' END AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.rule = 'petition.acceptance_notice' AND NOT OLD.suspended
        AND family = 'acceptance' AND month = substr(OLD.start_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = CASE WHEN OLD.met_on IS NULL THEN 'open' WHEN OLD.met_on <= OLD.due_on THEN 'on_time' ELSE 'late' END AND k2 = '' AND k3 = '' AND k4 = '';
    RETURN OLD;
END
$$;

CREATE TRIGGER deadline_projection_rollup AFTER INSERT OR DELETE ON deadline_projection
    FOR EACH ROW EXECUTE FUNCTION deadline_projection_rollup();

INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'handled_met', substr(p.met_on, 1, 7), p.township, p.custody_unit, CASE WHEN p.met_on <= p.due_on THEN 'y' ELSE 'n' END, '', '', '', COUNT(*) FROM deadline_projection p
WHERE p.met_on IS NOT NULL AND p.rule IN ('mediation.period', 'petition.handling', 'reconsideration.decision') AND NOT p.suspended
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'acceptance', substr(p.start_on, 1, 7), p.township, p.custody_unit, CASE WHEN p.met_on IS NULL THEN 'open' WHEN p.met_on <= p.due_on THEN 'on_time' ELSE 'late' END, '', '', '', COUNT(*) FROM deadline_projection p
WHERE p.rule = 'petition.acceptance_notice' AND NOT p.suspended
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The acceptance notices not met (or met after the day asked), found by the rule and the day met.
CREATE INDEX deadline_projection_acceptance_open
    ON deadline_projection (rule, met_on, start_on, suspended, due_on, township, custody_unit);


-- The overdue and due-soon lists of the statistics count the open duty deadlines of the case's
-- current track, not suspended, of cases not restricted: `listed` says so of each deadline row,
-- set from its case's row when the row is written (the case's row is written first, and a change
-- to the case rewrites both), so that counting them needs no join per deadline.
ALTER TABLE deadline_projection ADD COLUMN listed BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE deadline_projection SET listed = TRUE
    WHERE duty AND NOT suspended AND EXISTS (SELECT 1 FROM case_projection c
        WHERE c.case_id = deadline_projection.case_id AND NOT c.restricted AND c.track = deadline_projection.track);
CREATE INDEX deadline_projection_listed
    ON deadline_projection (listed, met_on, due_on, township, custody_unit, rule, track, case_id);
CREATE FUNCTION deadline_projection_listed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.listed := NEW.duty AND NOT NEW.suspended AND EXISTS (SELECT 1 FROM case_projection c
        WHERE c.case_id = NEW.case_id AND NOT c.restricted AND c.track = NEW.track);
    RETURN NEW;
END
$$;
CREATE TRIGGER deadline_projection_listed BEFORE INSERT ON deadline_projection
    FOR EACH ROW EXECUTE FUNCTION deadline_projection_listed();
