-- Fengqiao on SQLite: units and people, devices and tokens, signing keys, case documents, the
-- change feed and the case-number counters. Times are Unix milliseconds (INTEGER) so that the
-- SQLite and PostgreSQL schemas store the same values.

CREATE TABLE units (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    parent_id TEXT REFERENCES units (id)
);
CREATE INDEX units_parent ON units (parent_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    unit_id       TEXT NOT NULL REFERENCES units (id),
    -- Argon2id, PHC string format (`$argon2id$v=19$m=…`).
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- A device belongs to the one user who first logged in on it: its actor ids are bound to that user.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX devices_user ON devices (user_id);

-- Refresh tokens are stored as SHA-256 of the opaque token. A family is the chain of tokens that
-- descend from one login by rotation.
CREATE TABLE refresh_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB NOT NULL UNIQUE,
    family     BLOB NOT NULL,
    device_id  TEXT NOT NULL REFERENCES devices (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    rotated_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX refresh_tokens_device ON refresh_tokens (device_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

-- A case document: a compacted snapshot plus the chunks appended since. The counters describe the
-- chunks so that the compactor finds its work without scanning them; `generation` changes with
-- every compaction so that two compactors never both fold the same chunks.
CREATE TABLE documents (
    case_id        BLOB PRIMARY KEY,
    snapshot       BLOB NOT NULL,
    snapshot_heads BLOB NOT NULL,
    snapshot_bytes INTEGER NOT NULL,
    chunk_count    INTEGER NOT NULL,
    chunk_bytes    INTEGER NOT NULL,
    generation     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX documents_compaction ON documents (chunk_count);

-- One chunk per committed change batch, keyed by the feed sequence number of that commit, which
-- orders the chunks of a document in commit order.
CREATE TABLE document_chunks (
    seq     INTEGER PRIMARY KEY,
    case_id BLOB NOT NULL REFERENCES documents (case_id),
    bytes   BLOB NOT NULL
);
CREATE INDEX document_chunks_case ON document_chunks (case_id, seq);

-- The first binding of an actor id wins (DESIGN §5.3).
CREATE TABLE actor_bindings (
    actor_id  BLOB PRIMARY KEY,
    user_id   TEXT NOT NULL REFERENCES users (id),
    device_id TEXT NOT NULL REFERENCES devices (id),
    case_id   BLOB NOT NULL,
    bound_at  INTEGER NOT NULL
);

CREATE TABLE change_feed (
    seq          INTEGER PRIMARY KEY,
    case_id      BLOB NOT NULL,
    committed_at INTEGER NOT NULL
);
CREATE INDEX change_feed_case ON change_feed (case_id);

-- The next feed sequence number. See `store::documents` for why a counter row and not a sequence.
CREATE TABLE feed_counter (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL
);
INSERT INTO feed_counter (id, next) VALUES (1, 1);

-- Official case numbers are counted per unit and year (`（2026）某镇调字第12号`).
CREATE TABLE case_number_counters (
    unit_id     TEXT NOT NULL REFERENCES units (id),
    year        INTEGER NOT NULL,
    next_number INTEGER NOT NULL,
    PRIMARY KEY (unit_id, year)
);
