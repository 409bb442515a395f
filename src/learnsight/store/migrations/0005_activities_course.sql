-- Activities keep the course they belong to (NULL when the run spans several or none) instead of
-- lists of courses and verbs: building those lists for millions of runs cost more than everything
-- else together.  The table is derived, so it is rebuilt empty; run `learnsight activities`.
DROP TABLE activities;
CREATE TABLE activities (
    activity_id   BIGINT NOT NULL,
    actor_key     VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,     -- device type of every event in the run
    course        VARCHAR,              -- the course of every event in the run, else NULL
    start_ts      TIMESTAMP NOT NULL,
    end_ts        TIMESTAMP NOT NULL,   -- latest event end (timestamp + its duration)
    n_events      BIGINT NOT NULL,
    n_objects     BIGINT NOT NULL,
    objects       VARCHAR[] NOT NULL,   -- distinct object ids, sorted
    quantity_sum  DOUBLE,               -- aggregated result: clicks / amounts / bytes
    duration_sum_s DOUBLE,              -- sum of the events' own durations
    score_mean    DOUBLE,               -- mean scaled score of scored events
    n_success     BIGINT NOT NULL,
    n_failure     BIGINT NOT NULL,
    n_completed   BIGINT NOT NULL
);
