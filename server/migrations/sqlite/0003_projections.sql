-- Projections of the case documents for lists, inboxes and statistics (DESIGN §7, §9): derived
-- from the document and rewritten (delete and insert per case) in the same transaction as every
-- commit, so that what supervisors see never disagrees with the documents. Dates are ISO
-- 'YYYY-MM-DD' text (they sort as dates), instants Unix milliseconds.

CREATE TABLE case_projection (
    case_id BLOB PRIMARY KEY,
    case_number TEXT NOT NULL,
    title TEXT NOT NULL,
    kind TEXT,
    track TEXT,
    custody_unit TEXT NOT NULL,
    township TEXT NOT NULL,
    dispute_type TEXT,
    status TEXT NOT NULL,
    outcome TEXT,
    registered_at BIGINT,
    registered_on TEXT,
    accepted_on TEXT,
    concluded_on TEXT,
    source TEXT,
    restricted BOOLEAN NOT NULL,
    mediation_result TEXT,
    mediation_result_on TEXT,
    reconsideration_decision TEXT,
    reconsideration_decided_on TEXT,
    litigation_instance TEXT,
    litigation_attendance TEXT,
    litigation_outcome TEXT,
    litigation_heard_on TEXT,
    litigation_judged_on TEXT,
    satisfaction TEXT
);
CREATE INDEX case_projection_custody ON case_projection (custody_unit);
CREATE INDEX case_projection_township ON case_projection (township);
CREATE INDEX case_projection_registered ON case_projection (registered_at, case_id);

CREATE TABLE deadline_projection (
    case_id BLOB NOT NULL,
    rule TEXT NOT NULL,
    track TEXT NOT NULL,
    duty BOOLEAN NOT NULL,
    start_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    met_on TEXT,
    suspended BOOLEAN NOT NULL,
    explanation TEXT NOT NULL,
    PRIMARY KEY (case_id, rule)
);
CREATE INDEX deadline_projection_due ON deadline_projection (due_on);

CREATE TABLE handoff_projection (
    case_id BLOB NOT NULL,
    handoff_id TEXT NOT NULL,
    from_unit TEXT NOT NULL,
    from_track TEXT,
    to_unit TEXT NOT NULL,
    to_track TEXT,
    status TEXT,
    requested_at BIGINT,
    decided_at BIGINT,
    PRIMARY KEY (case_id, handoff_id)
);
CREATE INDEX handoff_projection_to ON handoff_projection (to_unit, status);

-- One row per unit an item is for ('' when it names none).
CREATE TABLE review_projection (
    case_id BLOB NOT NULL,
    item_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    kind TEXT,
    section TEXT,
    done BOOLEAN NOT NULL,
    PRIMARY KEY (case_id, item_id, unit_id)
);
CREATE INDEX review_projection_unit ON review_projection (unit_id, done);

-- The attachments each case lists: who may download which bytes.
CREATE TABLE case_attachment_projection (
    case_id BLOB NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (case_id, sha256)
);
CREATE INDEX case_attachment_projection_sha ON case_attachment_projection (sha256);

-- Attachment bytes, stored once by their SHA-256 (lower-case hex).
CREATE TABLE attachment_blobs (
    sha256 TEXT PRIMARY KEY,
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    stored_at BIGINT NOT NULL,
    stored_by TEXT NOT NULL
);
