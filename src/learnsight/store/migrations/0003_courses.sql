-- Courses: the calendar that turns "week N of a course" into a date (as-of cut-offs, weekly tensors).
CREATE TABLE courses (
    course       VARCHAR PRIMARY KEY,   -- the course activity IRI used in statements.course
    code         VARCHAR NOT NULL,      -- short human code, e.g. AAA-2013J or C01
    title        VARCHAR,
    start_ts     TIMESTAMP,             -- first day of teaching (week 0 starts here)
    length_days  INTEGER,               -- presentation length; NULL when unknown
    source       VARCHAR NOT NULL,
    batch_id     BIGINT NOT NULL
);
