-- learnsight store, schema version 1.
-- Statements are stored column-wise for fast scans; `raw` keeps the original JSON of statements that
-- arrived as xAPI, while statements built from tabular sources are rebuilt from their columns
-- (learnsight.store.rebuild) so the full statement is always available.

CREATE TABLE ingest_batches (
    batch_id      BIGINT PRIMARY KEY,
    kind          VARCHAR NOT NULL,      -- importer: xapi, oulad, uci, csv, simulate, lrs, ...
    source        VARCHAR NOT NULL,      -- file or directory the batch came from
    started_at    TIMESTAMP NOT NULL,
    finished_at   TIMESTAMP NOT NULL,
    rows_read     BIGINT NOT NULL,
    statements_written BIGINT NOT NULL,
    statements_skipped BIGINT NOT NULL,  -- already in the store (idempotent re-import)
    profiles_written   BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    details       JSON
);

CREATE TABLE statements (
    id             UUID NOT NULL,
    actor_key      VARCHAR NOT NULL,     -- canonical inverse functional identifier (learnsight.xapi.keys)
    actor_name     VARCHAR,
    verb_id        VARCHAR NOT NULL,
    object_id      VARCHAR NOT NULL,
    object_type    VARCHAR NOT NULL,     -- Activity | Agent | Group | StatementRef | SubStatement
    activity_type  VARCHAR,              -- object.definition.type
    ts             TIMESTAMP NOT NULL,   -- statement timestamp, UTC
    stored         TIMESTAMP NOT NULL,   -- when the store accepted it, UTC
    source         VARCHAR NOT NULL,     -- acquisition device / source type (context.platform)
    course         VARCHAR,              -- course activity IRI (contextActivities.grouping)
    registration   UUID,
    score_scaled   DOUBLE,
    score_raw      DOUBLE,
    score_min      DOUBLE,
    score_max      DOUBLE,
    success        BOOLEAN,
    completion     BOOLEAN,
    response       VARCHAR,
    duration_s     DOUBLE,
    quantity       DOUBLE,               -- the result's principal count/amount (clicks, money, bytes)
    extensions     JSON,                 -- remaining result/context extensions of tabular sources
    raw            JSON,                 -- the statement as received (xAPI sources)
    voided         BOOLEAN NOT NULL DEFAULT FALSE,
    batch_id       BIGINT NOT NULL
);

CREATE TABLE profiles (
    actor_key     VARCHAR NOT NULL,
    course        VARCHAR NOT NULL DEFAULT '',   -- '' = not specific to a course
    source        VARCHAR NOT NULL,
    display_name  VARCHAR,
    prior_gpa     DOUBLE,
    retakes       INTEGER,
    attributes    JSON,
    batch_id      BIGINT NOT NULL,
    PRIMARY KEY (actor_key, course, source)
);

CREATE TABLE rejected_rows (
    batch_id  BIGINT NOT NULL,
    file      VARCHAR NOT NULL,
    line      BIGINT,
    reason    VARCHAR NOT NULL
);

CREATE TABLE verbs (
    verb_id  VARCHAR PRIMARY KEY,
    display  VARCHAR NOT NULL
);
