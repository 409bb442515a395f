-- Weekly feature rows for sequence models (SPEC §3): one row per (actor_key, course, week) that has
-- at least one attributed statement.  Reads the as-of view `ev` (nothing after the cut-off is ever
-- visible) and the `courses` calendar; upper-case placeholders are vocabulary constants.  Written in
-- portable DuckDB SQL (plain aggregates, FILTER, CASE, floor, datediff) so that the Spark engine runs
-- the same text transpiled by SQLGlot.
--
-- Weeks.  day = datediff('day', start_ts, ts) counts calendar days from the course start and
-- week = floor(day / 7): week 0 is the first seven days of teaching.  Everything a student did on
-- the course *before* the start (OULAD's VLE opens weeks early; days are negative) is folded into
-- one pre-course week, -1: early engagement is among the strongest early signals, it is fully
-- visible at any week cut-off (it precedes the start), and folding keeps weeks 0, 1, ... aligned
-- across courses whatever their pre-course length.  Statements dated on or after the course end
-- (start + length_days, when known) are post-course (final results, resits) and are not attributed.
--
-- Which statements.  Registry statements (registrations, final results, exam marks kept by the
-- records office) are administrative, and the final ones are the prediction target: they never
-- become features.  A course's own statements (statements.course = the course) are attributed to
-- it.  Statements of no course (canteen, dorm gate, network, library) describe the student's life,
-- shared by all their courses (SPEC §2): they are attributed to every course the student is
-- enrolled in, in that course's weeks, but only from 7 days before its start (one week, -1) to its
-- end, so a pre-course week never holds months of campus life.
--
-- Features (all counts are 0 when nothing happened; the caller nulls the features of a source the
-- data does not have at all):
--   events            statements of the course itself (all sources but the registry)
--   lms_events        ... of them from the LMS
--   clicks            sum of `quantity` of LMS interacted/viewed statements (OULAD: sum_click)
--   active_days       distinct calendar days with a statement of the course
--   distinct_objects  distinct objects (VLE items, videos, threads, sessions) of the course acted on
--   clicks_<family>   clicks by resource family, from the suffix of the activity type IRI:
--                     content  (oucontent, page, subpage, homepage, htmlactivity, dualpane, glossary,
--                               ouwiki, lesson, module, course)
--                     resource (resource, url, folder, file, link, dataplus)
--                     forum    (forumng, discussion, forum, forum-reply)
--                     quiz     (quiz, externalquiz, questionnaire, assessment, cmi.interaction,
--                               homework)
--                     video    (video, media)
--                     other    (anything else: oucollaborate, ouelluminate, repeatactivity, ...)
--   submissions       submit statements (assignments, OULAD TMA/CMA/exam submissions)
--   scored_items      LMS submit/scored statements with a scaled score
--   mean_score        mean score_scaled of those; NULL (missing, not 0) in a week without one
--   late_submissions  submissions flagged late (result extension `late`, synthetic campus) or dated
--                     after their deadline (context extension `due`, OULAD); a submission with
--                     neither counts as not late
--   attended, absent  class sessions attended / missed
--   video_seconds     seconds of video played
--   forum_posts       forum posts and replies
--   canteen_swipes, dorm_returns, network_sessions, library_loans
--                     campus-life counts (statements of no course, see above)
-- @@view weekly_pairs
-- Enrolled (student, course) pairs of courses with a calendar, numbered so that the heavy grouping
-- below hashes small integers rather than two long IRIs.
SELECT e.actor_key, e.course, c.start_ts, c.length_days,
       row_number() OVER (ORDER BY e.actor_key, e.course) AS pair
FROM (SELECT DISTINCT actor_key, course FROM ev WHERE course IS NOT NULL) e
JOIN courses c ON e.course = c.course
WHERE c.start_ts IS NOT NULL

-- @@view weekly_events
-- Every attributed statement with its pair, day, week and small integer codes of what it is, so
-- that the aggregates compare integers.  Created as a view (not a CTE) so that each of the three
-- readers below scans `ev` rather than sharing a materialised copy of ten million rows.
WITH attributed AS (
    SELECT p.pair, 1 AS own, datediff('day', p.start_ts, e.ts) AS day,
           e.ts, e.verb_id, e.source, e.object_id, e.activity_type, e.quantity, e.duration_s,
           e.score_scaled, e.extensions
    FROM ev e JOIN weekly_pairs p ON e.actor_key = p.actor_key AND e.course = p.course
    WHERE e.source <> 'registry'
      AND (p.length_days IS NULL OR datediff('day', p.start_ts, e.ts) < p.length_days)
    UNION ALL
    SELECT p.pair, 0 AS own, datediff('day', p.start_ts, e.ts) AS day,
           e.ts, e.verb_id, e.source, e.object_id, e.activity_type, e.quantity, e.duration_s,
           e.score_scaled, e.extensions
    FROM ev e JOIN weekly_pairs p ON e.actor_key = p.actor_key
    WHERE e.course IS NULL AND e.source <> 'registry'
      AND datediff('day', p.start_ts, e.ts) >= -7
      AND (p.length_days IS NULL OR datediff('day', p.start_ts, e.ts) < p.length_days)
),
tagged AS (
    -- one small integer code per statement kind, computed once, so the aggregates compare integers
    SELECT pair, own, day, object_id, quantity, duration_s, score_scaled,
           greatest(CAST(floor(day / 7) AS INTEGER), -1) AS week,
           CASE WHEN source = 'lms' THEN 1 ELSE 0 END AS lms,
           CASE
               WHEN source = 'lms' AND (verb_id = $INTERACTED OR verb_id = $VIEWED) THEN
                   CASE
                       WHEN activity_type LIKE '%/oucontent' OR activity_type LIKE '%/page'
                            OR activity_type LIKE '%/subpage' OR activity_type LIKE '%/sharedsubpage'
                            OR activity_type LIKE '%/homepage' OR activity_type LIKE '%/htmlactivity'
                            OR activity_type LIKE '%/dualpane' OR activity_type LIKE '%/glossary'
                            OR activity_type LIKE '%/ouwiki' OR activity_type LIKE '%/lesson'
                            OR activity_type LIKE '%/module' OR activity_type LIKE '%/course' THEN 1
                       WHEN activity_type LIKE '%/resource' OR activity_type LIKE '%/url'
                            OR activity_type LIKE '%/folder' OR activity_type LIKE '%/file'
                            OR activity_type LIKE '%/link' OR activity_type LIKE '%/dataplus' THEN 2
                       WHEN activity_type LIKE '%/forumng' OR activity_type LIKE '%/discussion'
                            OR activity_type LIKE '%/forum' OR activity_type LIKE '%/forum-reply' THEN 3
                       WHEN activity_type LIKE '%/quiz' OR activity_type LIKE '%/externalquiz'
                            OR activity_type LIKE '%/questionnaire' OR activity_type LIKE '%/assessment'
                            OR activity_type LIKE '%/cmi.interaction' OR activity_type LIKE '%/homework'
                            THEN 4
                       WHEN activity_type LIKE '%/video' OR activity_type LIKE '%/media' THEN 5
                       ELSE 6
                   END
               ELSE 0
           END AS click_family,
           CASE
               WHEN verb_id = $SUBMITTED THEN 1
               WHEN verb_id = $SCORED THEN 2
               WHEN verb_id = $ATTENDED THEN 3
               WHEN verb_id = $ABSENT THEN 4
               WHEN verb_id = $WATCHED THEN 5
               WHEN verb_id = $POSTED OR verb_id = $REPLIED THEN 6
               WHEN verb_id = $SWIPED THEN 7
               WHEN verb_id = $RETURNED THEN 8
               WHEN verb_id = $CONNECTED THEN 9
               WHEN verb_id = $BORROWED THEN 10
               ELSE 0
           END AS kind,
           CASE WHEN verb_id = $SUBMITTED THEN
               coalesce(json_extract_string(extensions,
                            $EXT_LATE_PATH) = 'true', FALSE)
               OR coalesce(ts > CAST(json_extract_string(extensions,
                            $EXT_DUE_PATH) AS TIMESTAMP),
                           FALSE)
           END AS late
    FROM attributed
)
SELECT * FROM tagged

-- @@query
-- The weekly rows: counts and sums per (pair, week), and the two distinct counts as narrow
-- aggregates of their own (one wide aggregate with two DISTINCTs needs several times the memory).
WITH sums AS (
    SELECT pair, week,
           sum(own) AS events,
           sum(own * lms) AS lms_events,
           coalesce(sum(quantity) FILTER (WHERE click_family > 0), 0) AS clicks,
           coalesce(sum(quantity) FILTER (WHERE click_family = 1), 0) AS clicks_content,
           coalesce(sum(quantity) FILTER (WHERE click_family = 2), 0) AS clicks_resource,
           coalesce(sum(quantity) FILTER (WHERE click_family = 3), 0) AS clicks_forum,
           coalesce(sum(quantity) FILTER (WHERE click_family = 4), 0) AS clicks_quiz,
           coalesce(sum(quantity) FILTER (WHERE click_family = 5), 0) AS clicks_video,
           coalesce(sum(quantity) FILTER (WHERE click_family = 6), 0) AS clicks_other,
           count(*) FILTER (WHERE kind = 1) AS submissions,
           count(score_scaled) FILTER (WHERE lms = 1 AND kind IN (1, 2)) AS scored_items,
           avg(score_scaled) FILTER (WHERE lms = 1 AND kind IN (1, 2)) AS mean_score,
           count(*) FILTER (WHERE late) AS late_submissions,
           count(*) FILTER (WHERE kind = 3) AS attended,
           count(*) FILTER (WHERE kind = 4) AS absent,
           coalesce(sum(duration_s) FILTER (WHERE kind = 5), 0) AS video_seconds,
           count(*) FILTER (WHERE kind = 6) AS forum_posts,
           count(*) FILTER (WHERE kind = 7) AS canteen_swipes,
           count(*) FILTER (WHERE kind = 8) AS dorm_returns,
           count(*) FILTER (WHERE kind = 9) AS network_sessions,
           count(*) FILTER (WHERE kind = 10) AS library_loans
    FROM weekly_events
    GROUP BY pair, week
),
days AS (
    SELECT pair, week, count(*) AS active_days
    FROM (SELECT DISTINCT pair, week, day FROM weekly_events WHERE own = 1) d
    GROUP BY pair, week
),
objects AS (
    SELECT pair, week, count(*) AS distinct_objects
    FROM (SELECT DISTINCT pair, week, object_id FROM weekly_events WHERE own = 1) o
    GROUP BY pair, week
)
SELECT
    p.actor_key,
    p.course,
    s.week,
    CAST(s.events AS BIGINT) AS events,
    CAST(s.lms_events AS BIGINT) AS lms_events,
    s.clicks,
    coalesce(d.active_days, 0) AS active_days,
    coalesce(o.distinct_objects, 0) AS distinct_objects,
    s.clicks_content,
    s.clicks_resource,
    s.clicks_forum,
    s.clicks_quiz,
    s.clicks_video,
    s.clicks_other,
    s.submissions,
    s.scored_items,
    s.mean_score,
    s.late_submissions,
    s.attended,
    s.absent,
    s.video_seconds,
    s.forum_posts,
    s.canteen_swipes,
    s.dorm_returns,
    s.network_sessions,
    s.library_loans
FROM sums s
JOIN weekly_pairs p ON s.pair = p.pair
LEFT JOIN days d ON s.pair = d.pair AND s.week = d.week
LEFT JOIN objects o ON s.pair = o.pair AND s.week = o.week
