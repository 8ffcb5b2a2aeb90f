-- Narrower rollups for the supervisor statistics (`stats.rs`; migration 0006 describes
-- `stats_rollup`), so that a county over two years reads some thirty thousand rollup rows, not a
-- hundred thousand (`make bench` times it over 1,000,000 cases against 200 ms).
--
-- 0006 kept the cases registered by track, dispute type, source and kind together, and the
-- mediations by result, source and dispute type together: one row for each combination of codes
-- that occurs, when each breakdown is summed on its own. A family for each breakdown, of one
-- code (or two read together), has far fewer rows. The lawsuits, counted from the projection
-- rows until now, are rolled up too, by the month heard and the month judged: the
-- head-appearance rate reads only the attendance of a lawsuit heard in the period, and the loss
-- rate only the outcome of one judged in it, so a lawsuit heard and judged counts the same as
-- one fact of each.
--
-- The families of case rows from here on (those of deadline rows stay as 0006 has them):
--   registered_track   registered_on               track, kind
--   registered_type    registered_on               dispute type
--   registered_source  registered_on               source
--   concluded          concluded_on (concluded)    outcome
--   rated              concluded_on (rated)        satisfaction
--   mediation_source   mediation_result_on         result, source
--   mediation_type     mediation_result_on         result, dispute type
--   reconsideration    reconsideration_decided_on  decision
--   heard              litigation_heard_on (a lawsuit)    instance, attendance
--   judged             litigation_judged_on (a lawsuit)   instance, outcome
-- This replaces the triggers of 0006 on `case_projection`, keeping the families 'concluded',
-- 'rated' and 'reconsideration' as they are, removes the families 'registered' and 'mediation'
-- of 0006, and backfills the new families from the projection rows.

DROP TRIGGER case_projection_rollup_insert;
DROP TRIGGER case_projection_rollup_delete;

CREATE TRIGGER case_projection_rollup_insert AFTER INSERT ON case_projection BEGIN
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'registered_track', substr(NEW.registered_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.track, ''), COALESCE(NEW.kind, ''), '', '', 1
        WHERE NEW.registered_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'registered_type', substr(NEW.registered_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.dispute_type, ''), '', '', '', 1
        WHERE NEW.registered_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'registered_source', substr(NEW.registered_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.source, ''), '', '', '', 1
        WHERE NEW.registered_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'concluded', substr(NEW.concluded_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.outcome, ''), '', '', '', 1
        WHERE NEW.concluded_on IS NOT NULL AND NEW.status = 'concluded'
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'rated', substr(NEW.concluded_on, 1, 7), NEW.township, NEW.custody_unit, NEW.satisfaction, '', '', '', 1
        WHERE NEW.concluded_on IS NOT NULL AND NEW.satisfaction IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'mediation_source', substr(NEW.mediation_result_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.mediation_result, ''), COALESCE(NEW.source, ''), '', '', 1
        WHERE NEW.mediation_result_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'mediation_type', substr(NEW.mediation_result_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.mediation_result, ''), COALESCE(NEW.dispute_type, ''), '', '', 1
        WHERE NEW.mediation_result_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'reconsideration', substr(NEW.reconsideration_decided_on, 1, 7), NEW.township, NEW.custody_unit, COALESCE(NEW.reconsideration_decision, ''), '', '', '', 1
        WHERE NEW.reconsideration_decided_on IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'heard', substr(NEW.litigation_heard_on, 1, 7), NEW.township, NEW.custody_unit, NEW.litigation_instance, COALESCE(NEW.litigation_attendance, ''), '', '', 1
        WHERE NEW.litigation_heard_on IS NOT NULL AND NEW.litigation_instance IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
    INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
        SELECT 'judged', substr(NEW.litigation_judged_on, 1, 7), NEW.township, NEW.custody_unit, NEW.litigation_instance, COALESCE(NEW.litigation_outcome, ''), '', '', 1
        WHERE NEW.litigation_judged_on IS NOT NULL AND NEW.litigation_instance IS NOT NULL
        ON CONFLICT (family, month, township, custody_unit, k1, k2, k3, k4) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER case_projection_rollup_delete AFTER DELETE ON case_projection BEGIN
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.registered_on IS NOT NULL
        AND family = 'registered_track' AND month = substr(OLD.registered_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.track, '') AND k2 = COALESCE(OLD.kind, '') AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.registered_on IS NOT NULL
        AND family = 'registered_type' AND month = substr(OLD.registered_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.dispute_type, '') AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.registered_on IS NOT NULL
        AND family = 'registered_source' AND month = substr(OLD.registered_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.source, '') AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.concluded_on IS NOT NULL AND OLD.status = 'concluded'
        AND family = 'concluded' AND month = substr(OLD.concluded_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.outcome, '') AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.concluded_on IS NOT NULL AND OLD.satisfaction IS NOT NULL
        AND family = 'rated' AND month = substr(OLD.concluded_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = OLD.satisfaction AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.mediation_result_on IS NOT NULL
        AND family = 'mediation_source' AND month = substr(OLD.mediation_result_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.mediation_result, '') AND k2 = COALESCE(OLD.source, '') AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.mediation_result_on IS NOT NULL
        AND family = 'mediation_type' AND month = substr(OLD.mediation_result_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.mediation_result, '') AND k2 = COALESCE(OLD.dispute_type, '') AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.reconsideration_decided_on IS NOT NULL
        AND family = 'reconsideration' AND month = substr(OLD.reconsideration_decided_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = COALESCE(OLD.reconsideration_decision, '') AND k2 = '' AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.litigation_heard_on IS NOT NULL AND OLD.litigation_instance IS NOT NULL
        AND family = 'heard' AND month = substr(OLD.litigation_heard_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = OLD.litigation_instance AND k2 = COALESCE(OLD.litigation_attendance, '') AND k3 = '' AND k4 = '';
    UPDATE stats_rollup SET n = n - 1
        WHERE OLD.litigation_judged_on IS NOT NULL AND OLD.litigation_instance IS NOT NULL
        AND family = 'judged' AND month = substr(OLD.litigation_judged_on, 1, 7) AND township = OLD.township AND custody_unit = OLD.custody_unit AND k1 = OLD.litigation_instance AND k2 = COALESCE(OLD.litigation_outcome, '') AND k3 = '' AND k4 = '';
END;

DELETE FROM stats_rollup WHERE family IN ('registered', 'mediation');
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'registered_track', substr(p.registered_on, 1, 7), p.township, p.custody_unit, COALESCE(p.track, ''), COALESCE(p.kind, ''), '', '', COUNT(*) FROM case_projection p
WHERE p.registered_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'registered_type', substr(p.registered_on, 1, 7), p.township, p.custody_unit, COALESCE(p.dispute_type, ''), '', '', '', COUNT(*) FROM case_projection p
WHERE p.registered_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'registered_source', substr(p.registered_on, 1, 7), p.township, p.custody_unit, COALESCE(p.source, ''), '', '', '', COUNT(*) FROM case_projection p
WHERE p.registered_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'mediation_source', substr(p.mediation_result_on, 1, 7), p.township, p.custody_unit, COALESCE(p.mediation_result, ''), COALESCE(p.source, ''), '', '', COUNT(*) FROM case_projection p
WHERE p.mediation_result_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'mediation_type', substr(p.mediation_result_on, 1, 7), p.township, p.custody_unit, COALESCE(p.mediation_result, ''), COALESCE(p.dispute_type, ''), '', '', COUNT(*) FROM case_projection p
WHERE p.mediation_result_on IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'heard', substr(p.litigation_heard_on, 1, 7), p.township, p.custody_unit, p.litigation_instance, COALESCE(p.litigation_attendance, ''), '', '', COUNT(*) FROM case_projection p
WHERE p.litigation_heard_on IS NOT NULL AND p.litigation_instance IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO stats_rollup (family, month, township, custody_unit, k1, k2, k3, k4, n)
SELECT 'judged', substr(p.litigation_judged_on, 1, 7), p.township, p.custody_unit, p.litigation_instance, COALESCE(p.litigation_outcome, ''), '', '', COUNT(*) FROM case_projection p
WHERE p.litigation_judged_on IS NOT NULL AND p.litigation_instance IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;

-- The days of a partial first or last month are counted from the projection rows over covering
-- indexes keyed by the date (as 0005 has them): the registrations with their kind now, and the
-- lawsuits by the day heard and the day judged, in place of 0005's index by instance.
DROP INDEX case_projection_registered_on;
CREATE INDEX case_projection_registered_on
    ON case_projection (registered_on, township, custody_unit, track, kind, dispute_type, source);
DROP INDEX case_projection_litigation;
CREATE INDEX case_projection_heard_on
    ON case_projection (litigation_heard_on, township, custody_unit, litigation_instance, litigation_attendance);
CREATE INDEX case_projection_judged_on
    ON case_projection (litigation_judged_on, township, custody_unit, litigation_instance, litigation_outcome);
