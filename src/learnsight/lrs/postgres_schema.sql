-- The LRS on PostgreSQL (learnsight.lrs.postgres_backend); idempotent, run at every connection.
CREATE TABLE IF NOT EXISTS lrs_statements (
    id            UUID PRIMARY KEY,
    stored        TIMESTAMP NOT NULL,          -- UTC
    actor_key     TEXT NOT NULL,               -- learnsight.xapi.keys
    actor_name    TEXT,
    verb_id       TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    registration  UUID,
    voided        BOOLEAN NOT NULL DEFAULT FALSE,
    raw           TEXT NOT NULL,               -- the completed statement as stored
    source        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lrs_statements_order ON lrs_statements (stored, (CAST(id AS VARCHAR)));
CREATE INDEX IF NOT EXISTS lrs_statements_actor ON lrs_statements (actor_key);
CREATE INDEX IF NOT EXISTS lrs_statements_verb ON lrs_statements (verb_id);
CREATE INDEX IF NOT EXISTS lrs_statements_object ON lrs_statements (object_id);
CREATE INDEX IF NOT EXISTS lrs_statements_registration ON lrs_statements (registration);

CREATE TABLE IF NOT EXISTS lrs_documents (
    kind          TEXT NOT NULL,
    activity_id   TEXT NOT NULL DEFAULT '',
    agent         TEXT NOT NULL DEFAULT '',
    registration  TEXT NOT NULL DEFAULT '',
    document_id   TEXT NOT NULL,
    content       BYTEA NOT NULL,
    content_type  TEXT NOT NULL,
    etag          TEXT NOT NULL,
    updated       TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, activity_id, agent, registration, document_id)
);

CREATE TABLE IF NOT EXISTS lrs_credentials (
    key          TEXT PRIMARY KEY,
    salt         BYTEA NOT NULL,
    secret_hash  BYTEA NOT NULL,
    scopes       TEXT NOT NULL,
    authority    TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
