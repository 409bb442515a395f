-- Activities, third layout: the objects of each activity in their own table instead of a list
-- column (building per-run lists for millions of runs cost more than the rest of the build), and
-- an activity id that encodes the learner (learner number * 2^24 + run number).  The tables are
-- derived, so they are rebuilt empty; run `learnsight activities`.
DROP TABLE activities;
CREATE TABLE activities (
    activity_id   BIGINT NOT NULL,      -- learner number * 2^24 + run number of that learner
    actor_key     VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,     -- device type of every event in the run
    course        VARCHAR,              -- the course of every event in the run, else NULL
    start_ts      TIMESTAMP NOT NULL,
    end_ts        TIMESTAMP NOT NULL,   -- latest event end (timestamp + its duration)
    n_events      BIGINT NOT NULL,
    n_objects     BIGINT NOT NULL,
    quantity_sum  DOUBLE,               -- aggregated result: clicks / amounts / bytes
    duration_sum_s DOUBLE,              -- sum of the events' own durations
    score_mean    DOUBLE,               -- mean scaled score of scored events
    n_success     BIGINT NOT NULL,
    n_failure     BIGINT NOT NULL,
    n_completed   BIGINT NOT NULL
);
CREATE TABLE activity_objects (
    activity_id   BIGINT NOT NULL,
    object_id     VARCHAR NOT NULL,     -- one of the activity's objects
    n_events      BIGINT NOT NULL,      -- the activity's events on it
    first_ts      TIMESTAMP NOT NULL
);
