-- Activities (SPEC §1): maximal runs of one learner's consecutive events from the same type of
-- device with no gap above a threshold.  Derived; rebuilt by `learnsight activities`.
CREATE TABLE activities (
    activity_id   BIGINT NOT NULL,
    actor_key     VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,     -- device type of every event in the run
    start_ts      TIMESTAMP NOT NULL,
    end_ts        TIMESTAMP NOT NULL,   -- latest event end (timestamp + its duration)
    n_events      BIGINT NOT NULL,
    n_objects     BIGINT NOT NULL,
    objects       VARCHAR[] NOT NULL,   -- distinct object ids, sorted
    courses       VARCHAR[] NOT NULL,   -- distinct courses touched
    verbs         VARCHAR[] NOT NULL,
    quantity_sum  DOUBLE,               -- aggregated result: clicks / amounts / bytes
    duration_sum_s DOUBLE,              -- sum of the events' own durations
    score_mean    DOUBLE,               -- mean scaled score of scored events
    n_success     BIGINT NOT NULL,
    n_failure     BIGINT NOT NULL,
    n_completed   BIGINT NOT NULL
);

CREATE TABLE derived_builds (
    name       VARCHAR PRIMARY KEY,
    built_at   TIMESTAMP NOT NULL,
    params     JSON,
    seconds    DOUBLE
);
