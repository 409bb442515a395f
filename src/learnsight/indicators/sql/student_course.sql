-- Per-student, per-course indicators: learning effort (SPEC §2.3), online-platform traces (§2.6)
-- and classroom behaviour (§2.5).  Reads the as-of view `ev`; upper-case placeholders are vocabulary constants.
WITH enrolments AS (
    SELECT DISTINCT actor_key, course FROM ev WHERE course IS NOT NULL
),
counts AS (
    SELECT
        actor_key,
        course,
        count(*) FILTER (WHERE verb_id = $ATTENDED) AS attended,
        count(*) FILTER (WHERE verb_id = $ABSENT) AS absent,
        count(*) FILTER (WHERE verb_id = $PREVIEWED) AS previews,
        count(*) FILTER (WHERE verb_id = $ANSWERED AND source = 'classroom') AS class_answers,
        count(*) FILTER (WHERE verb_id = $TOOK_NOTES) AS notes,
        count(*) FILTER (WHERE verb_id = $SUBMITTED) AS submissions,
        count(*) FILTER (WHERE verb_id = $POSTED) AS posts,
        count(*) FILTER (WHERE verb_id = $REPLIED) AS replies,
        count(*) FILTER (WHERE verb_id = $RAISED_HAND) AS hand_raises,
        coalesce(sum(quantity) FILTER (WHERE source = 'lms' AND (verb_id = $VIEWED OR verb_id = $INTERACTED)), 0) AS clicks,
        count(*) FILTER (WHERE verb_id = $VIEWED OR verb_id = $INTERACTED) AS courseware_views,
        count(*) FILTER (WHERE source = 'lms') AS lms_events,
        count(DISTINCT CAST(ts AS DATE)) FILTER (WHERE source = 'lms') AS lms_active_days,
        count(*) FILTER (WHERE verb_id = $ANSWERED AND source = 'lms') AS quiz_answers,
        count(*) FILTER (WHERE verb_id = $ANSWERED AND source = 'lms' AND success = FALSE) AS wrong_answers,
        avg(score_scaled) FILTER (WHERE source = 'lms' AND (verb_id = $SCORED OR verb_id = $SUBMITTED)) AS mean_test_score,
        count(*) FILTER (WHERE source = 'lms' AND score_scaled IS NOT NULL
                         AND (verb_id = $SCORED OR verb_id = $SUBMITTED)) AS scored_tests,
        sum(duration_s) FILTER (WHERE verb_id = $WATCHED) AS video_seconds,
        count(*) FILTER (WHERE verb_id = $WATCHED) AS video_views,
        count(DISTINCT object_id) FILTER (WHERE verb_id = $WATCHED) AS videos_watched,
        count(*) FILTER (WHERE verb_id = $OBSERVED) AS observations,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'upright') AS obs_upright,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'writing') AS obs_writing,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'hand-raised') AS obs_hand_raised,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'lying-on-desk') AS obs_lying_on_desk,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'looking-around') AS obs_looking_around,
        count(*) FILTER (WHERE verb_id = $OBSERVED AND response = 'phone') AS obs_phone,
        count(*) FILTER (WHERE verb_id = $OBSERVED
                         AND json_extract_string(extensions, $EXT_EXPRESSION_STATE_PATH) IS NOT NULL) AS expression_obs,
        count(*) FILTER (WHERE verb_id = $OBSERVED
                         AND json_extract_string(extensions, $EXT_EXPRESSION_STATE_PATH) = 'positive') AS positive_expression_obs
    FROM ev
    WHERE course IS NOT NULL
    GROUP BY actor_key, course
),
followers AS (
    SELECT course, json_extract_string(extensions, $EXT_THREAD_AUTHOR_PATH) AS actor_key,
           count(*) AS followers
    FROM ev WHERE verb_id = $FOLLOWED AND course IS NOT NULL
    GROUP BY course, json_extract_string(extensions, $EXT_THREAD_AUTHOR_PATH)
),
forum AS (
    SELECT course, count(*) AS forum_posts
    FROM ev WHERE (verb_id = $POSTED OR verb_id = $REPLIED) AND course IS NOT NULL
    GROUP BY course
),
video_items AS (
    -- one row per student, course and video: t_i seconds watched, f_i viewing sessions, z_i length
    SELECT actor_key, course, object_id,
           sum(coalesce(duration_s, 0)) AS t,
           count(*) AS f,
           max(CAST(json_extract_string(extensions, $EXT_FULL_LENGTH_PATH) AS DOUBLE)) AS z
    FROM ev WHERE verb_id = $WATCHED AND course IS NOT NULL
    GROUP BY actor_key, course, object_id
),
course_videos AS (
    SELECT course, count(DISTINCT object_id) AS m
    FROM ev WHERE verb_id = $WATCHED AND course IS NOT NULL
    GROUP BY course
),
completion AS (
    SELECT v.actor_key, v.course,
           sum(v.t * v.f / v.z) AS online_completion_w,
           sum(least(1.0, v.t / v.z)) AS completion_sum,
           CAST(sum(v.f) - count(*) AS BIGINT) AS video_repeats
    FROM video_items v WHERE v.z > 0
    GROUP BY v.actor_key, v.course
),
course_retakes AS (
    SELECT actor_key, course, max(retakes) AS course_retakes
    FROM profiles WHERE course <> '' GROUP BY actor_key, course
)
SELECT
    e.actor_key,
    e.course,
    cr.course_retakes,
    c.attended,
    c.absent,
    CASE WHEN c.attended + c.absent > 0 THEN c.attended * 1.0 / (c.attended + c.absent) END AS attendance_rate,
    CASE WHEN cv.m > 0 THEN coalesce(cp.online_completion_w, 0.0) END AS online_completion_w,
    CASE WHEN cv.m > 0 THEN coalesce(cp.completion_sum, 0.0) / cv.m END AS completion_share,
    CASE WHEN c.attended + c.absent > 0 THEN c.previews * 1.0 / (c.attended + c.absent) END AS previews_per_session,
    CASE WHEN c.attended + c.absent > 0 THEN c.class_answers * 1.0 / (c.attended + c.absent) END AS answers_per_session,
    CASE WHEN c.attended + c.absent > 0 THEN c.notes * 1.0 / (c.attended + c.absent) END AS notes_per_session,
    CASE WHEN c.attended + c.absent > 0 THEN c.submissions * 1.0 / (c.attended + c.absent) END AS homework_per_session,
    CASE WHEN c.attended + c.absent > 0 THEN c.hand_raises * 1.0 / (c.attended + c.absent) END AS hand_raises_per_session,
    c.previews,
    c.class_answers,
    c.notes,
    c.submissions,
    c.posts,
    c.replies,
    coalesce(fo.followers, 0) AS followers,
    fr.forum_posts,
    CASE WHEN fr.forum_posts > 0
         THEN (c.posts + c.replies + coalesce(fo.followers, 0)) * 1.0 / fr.forum_posts END AS participation_c,
    c.clicks,
    c.courseware_views,
    c.lms_events,
    c.lms_active_days,
    CASE WHEN c.lms_active_days > 0 THEN c.lms_events * 1.0 / c.lms_active_days END AS interaction_frequency,
    c.quiz_answers,
    c.wrong_answers,
    CASE WHEN c.quiz_answers > 0 THEN c.wrong_answers * 1.0 / c.quiz_answers END AS wrong_answer_rate,
    c.mean_test_score,
    c.video_seconds,
    c.video_views,
    c.videos_watched,
    CASE WHEN c.videos_watched > 0 THEN coalesce(cp.video_repeats, 0) END AS video_repeats,
    c.observations,
    CASE WHEN c.observations > 0 THEN c.obs_upright * 1.0 / c.observations END AS upright_share,
    CASE WHEN c.observations > 0 THEN c.obs_writing * 1.0 / c.observations END AS writing_share,
    CASE WHEN c.observations > 0 THEN c.obs_hand_raised * 1.0 / c.observations END AS hand_raised_share,
    CASE WHEN c.observations > 0 THEN c.obs_lying_on_desk * 1.0 / c.observations END AS lying_on_desk_share,
    CASE WHEN c.observations > 0 THEN c.obs_looking_around * 1.0 / c.observations END AS looking_around_share,
    CASE WHEN c.observations > 0 THEN c.obs_phone * 1.0 / c.observations END AS phone_share,
    CASE WHEN c.observations > 0
         THEN (c.obs_upright + c.obs_writing + c.obs_hand_raised) * 1.0 / c.observations END AS positive_posture_share,
    CASE WHEN c.expression_obs > 0 THEN c.positive_expression_obs * 1.0 / c.expression_obs END AS positive_expression_share,
    CASE WHEN c.attended > 0 THEN c.hand_raises * 1.0 / c.attended END AS hand_raises_per_lesson
FROM enrolments e
JOIN counts c ON e.actor_key = c.actor_key AND e.course = c.course
LEFT JOIN followers fo ON e.actor_key = fo.actor_key AND e.course = fo.course
LEFT JOIN forum fr ON e.course = fr.course
LEFT JOIN course_videos cv ON e.course = cv.course
LEFT JOIN completion cp ON e.actor_key = cp.actor_key AND e.course = cp.course
LEFT JOIN course_retakes cr ON e.actor_key = cr.actor_key AND e.course = cr.course
