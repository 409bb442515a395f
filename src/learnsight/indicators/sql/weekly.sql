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
WITH cal AS (
    SELECT course, start_ts, length_days FROM courses WHERE start_ts IS NOT NULL
),
enrolments AS (
    SELECT DISTINCT actor_key, course FROM ev WHERE course IS NOT NULL
),
attributed AS (
    SELECT e.actor_key, e.course, TRUE AS own, datediff('day', c.start_ts, e.ts) AS day,
           e.ts, e.verb_id, e.source, e.object_id, e.activity_type, e.quantity, e.duration_s,
           e.score_scaled, e.extensions
    FROM ev e JOIN cal c ON e.course = c.course
    WHERE e.source <> 'registry'
      AND (c.length_days IS NULL OR datediff('day', c.start_ts, e.ts) < c.length_days)
    UNION ALL
    SELECT e.actor_key, n.course, FALSE AS own, datediff('day', c.start_ts, e.ts) AS day,
           e.ts, e.verb_id, e.source, e.object_id, e.activity_type, e.quantity, e.duration_s,
           e.score_scaled, e.extensions
    FROM ev e
    JOIN enrolments n ON e.actor_key = n.actor_key
    JOIN cal c ON n.course = c.course
    WHERE e.course IS NULL AND e.source <> 'registry'
      AND datediff('day', c.start_ts, e.ts) >= -7
      AND (c.length_days IS NULL OR datediff('day', c.start_ts, e.ts) < c.length_days)
),
tagged AS (
    SELECT actor_key, course, own, ts, verb_id, source, object_id, quantity, duration_s,
           score_scaled,
           greatest(CAST(floor(day / 7) AS INTEGER), -1) AS week,
           source = 'lms' AND (verb_id = $INTERACTED OR verb_id = $VIEWED) AS is_click,
           CASE
               WHEN activity_type LIKE '%/video' OR activity_type LIKE '%/media' THEN 'video'
               WHEN activity_type LIKE '%/forumng' OR activity_type LIKE '%/discussion'
                    OR activity_type LIKE '%/forum' OR activity_type LIKE '%/forum-reply' THEN 'forum'
               WHEN activity_type LIKE '%/quiz' OR activity_type LIKE '%/externalquiz'
                    OR activity_type LIKE '%/questionnaire' OR activity_type LIKE '%/assessment'
                    OR activity_type LIKE '%/cmi.interaction' OR activity_type LIKE '%/homework'
                    THEN 'quiz'
               WHEN activity_type LIKE '%/oucontent' OR activity_type LIKE '%/page'
                    OR activity_type LIKE '%/subpage' OR activity_type LIKE '%/sharedsubpage'
                    OR activity_type LIKE '%/homepage' OR activity_type LIKE '%/htmlactivity'
                    OR activity_type LIKE '%/dualpane' OR activity_type LIKE '%/glossary'
                    OR activity_type LIKE '%/ouwiki' OR activity_type LIKE '%/lesson'
                    OR activity_type LIKE '%/module' OR activity_type LIKE '%/course' THEN 'content'
               WHEN activity_type LIKE '%/resource' OR activity_type LIKE '%/url'
                    OR activity_type LIKE '%/folder' OR activity_type LIKE '%/file'
                    OR activity_type LIKE '%/link' OR activity_type LIKE '%/dataplus' THEN 'resource'
               ELSE 'other'
           END AS family,
           CASE WHEN verb_id = $SUBMITTED THEN
               coalesce(json_extract_string(extensions,
                            '$$.result."https://learnsight.dev/xapi/extensions/late"') = 'true', FALSE)
               OR coalesce(ts > CAST(json_extract_string(extensions,
                            '$$.context."https://learnsight.dev/xapi/extensions/due"') AS TIMESTAMP),
                           FALSE)
           END AS late
    FROM attributed
)
SELECT
    actor_key,
    course,
    week,
    count(*) FILTER (WHERE own) AS events,
    count(*) FILTER (WHERE own AND source = 'lms') AS lms_events,
    coalesce(sum(quantity) FILTER (WHERE is_click), 0) AS clicks,
    count(DISTINCT CAST(ts AS DATE)) FILTER (WHERE own) AS active_days,
    count(DISTINCT object_id) FILTER (WHERE own) AS distinct_objects,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'content'), 0) AS clicks_content,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'resource'), 0) AS clicks_resource,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'forum'), 0) AS clicks_forum,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'quiz'), 0) AS clicks_quiz,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'video'), 0) AS clicks_video,
    coalesce(sum(quantity) FILTER (WHERE is_click AND family = 'other'), 0) AS clicks_other,
    count(*) FILTER (WHERE verb_id = $SUBMITTED) AS submissions,
    count(*) FILTER (WHERE source = 'lms' AND score_scaled IS NOT NULL
                     AND (verb_id = $SUBMITTED OR verb_id = $SCORED)) AS scored_items,
    avg(score_scaled) FILTER (WHERE source = 'lms'
                              AND (verb_id = $SUBMITTED OR verb_id = $SCORED)) AS mean_score,
    count(*) FILTER (WHERE late) AS late_submissions,
    count(*) FILTER (WHERE verb_id = $ATTENDED) AS attended,
    count(*) FILTER (WHERE verb_id = $ABSENT) AS absent,
    coalesce(sum(duration_s) FILTER (WHERE verb_id = $WATCHED), 0) AS video_seconds,
    count(*) FILTER (WHERE verb_id = $POSTED OR verb_id = $REPLIED) AS forum_posts,
    count(*) FILTER (WHERE verb_id = $SWIPED) AS canteen_swipes,
    count(*) FILTER (WHERE verb_id = $RETURNED) AS dorm_returns,
    count(*) FILTER (WHERE verb_id = $CONNECTED) AS network_sessions,
    count(*) FILTER (WHERE verb_id = $BORROWED) AS library_loans
FROM tagged
GROUP BY actor_key, course, week
