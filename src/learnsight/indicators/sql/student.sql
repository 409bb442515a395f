-- Per-student indicators: basic information and living habits (SPEC §2.1, §2.2) and interest
-- preferences (§2.4).  Reads the as-of view `ev`; upper-case placeholders are vocabulary constants.
WITH students AS (
    SELECT DISTINCT actor_key FROM ev
),
basic AS (
    SELECT actor_key, max(prior_gpa) AS prior_gpa, max(retakes) AS retakes
    FROM profiles WHERE course = '' GROUP BY actor_key
),
life AS (
    SELECT
        actor_key,
        count(*) FILTER (WHERE verb_id = $RETURNED) AS dorm_returns,
        count(*) FILTER (WHERE verb_id = $RETURNED
                         AND (hour(ts) >= $LATE_AFTER_HOUR OR hour(ts) < $LATE_BEFORE_HOUR)) AS late_returns,
        count(*) FILTER (WHERE verb_id = $ABSENT) AS absences,
        count(*) FILTER (WHERE verb_id = $ATTENDED OR verb_id = $ABSENT) AS scheduled_sessions,
        count(*) FILTER (WHERE verb_id = $CONNECTED) AS network_sessions,
        count(*) FILTER (WHERE verb_id = $CONNECTED
                         AND hour(ts) >= $EARLY_START_HOUR AND hour(ts) < $EARLY_END_HOUR) AS early_sessions,
        count(*) FILTER (WHERE verb_id = $SWIPED) AS canteen_swipes,
        count(*) FILTER (WHERE verb_id = $BORROWED) AS library_loans,
        sum(duration_s) FILTER (WHERE verb_id = $CONNECTED) / 60.0 AS internet_minutes,
        sum(quantity) FILTER (WHERE verb_id = $CONNECTED) / 1048576.0 AS internet_mb,
        count(DISTINCT CAST(ts AS DATE)) FILTER (WHERE verb_id = $CONNECTED) AS internet_days,
        count(*) FILTER (WHERE source = 'lms') AS lms_events,
        count(*) FILTER (WHERE source = 'lms' AND hour(ts) >= 6 AND hour(ts) < 12) AS lms_morning,
        count(*) FILTER (WHERE source = 'lms' AND hour(ts) >= 12 AND hour(ts) < 18) AS lms_afternoon,
        count(*) FILTER (WHERE source = 'lms' AND hour(ts) >= 18) AS lms_evening,
        count(*) FILTER (WHERE source = 'lms' AND hour(ts) < 6) AS lms_night
    FROM ev
    GROUP BY actor_key
),
loans AS (
    SELECT actor_key, category, count(*) AS n
    FROM (
        SELECT actor_key, json_extract_string(extensions, $EXT_CATEGORY_PATH) AS category
        FROM ev WHERE verb_id = $BORROWED
    ) b
    WHERE category IS NOT NULL
    GROUP BY actor_key, category
),
top_loan AS (
    SELECT actor_key, category AS top_book_category, share AS top_book_category_share
    FROM (
        SELECT actor_key, category, n * 1.0 / sum(n) OVER (PARTITION BY actor_key) AS share,
               row_number() OVER (PARTITION BY actor_key ORDER BY n DESC, category) AS rk
        FROM loans
    ) r
    WHERE rk = 1
),
resources AS (
    SELECT actor_key, activity_type, count(*) AS n
    FROM ev WHERE source = 'lms' AND activity_type IS NOT NULL
    GROUP BY actor_key, activity_type
),
top_resource AS (
    SELECT actor_key, activity_type AS top_resource_type, share AS top_resource_type_share
    FROM (
        SELECT actor_key, activity_type, n * 1.0 / sum(n) OVER (PARTITION BY actor_key) AS share,
               row_number() OVER (PARTITION BY actor_key ORDER BY n DESC, activity_type) AS rk
        FROM resources
    ) r
    WHERE rk = 1
)
SELECT
    s.actor_key,
    b.prior_gpa,
    b.retakes,
    l.late_returns,
    l.dorm_returns,
    l.absences,
    l.scheduled_sessions,
    l.early_sessions,
    l.network_sessions,
    CASE WHEN l.dorm_returns + l.scheduled_sessions + l.network_sessions > 0
         THEN (l.late_returns + l.absences + l.early_sessions) * 1.0
              / (l.dorm_returns + l.scheduled_sessions + l.network_sessions)
    END AS rest_regularity_z,
    l.canteen_swipes,
    l.library_loans,
    t.top_book_category,
    t.top_book_category_share,
    CASE WHEN l.internet_days > 0 THEN l.internet_minutes / l.internet_days END AS internet_minutes_per_day,
    CASE WHEN l.internet_days > 0 THEN l.internet_mb / l.internet_days END AS internet_mb_per_day,
    CASE WHEN l.internet_days > 0 THEN l.network_sessions * 1.0 / l.internet_days END AS internet_sessions_per_day,
    CASE WHEN l.internet_days > 0 THEN
        (l.internet_minutes / l.internet_days > $MAX_INTERNET_MINUTES)
        OR (l.internet_mb / l.internet_days > $MAX_INTERNET_MB)
        OR (l.network_sessions * 1.0 / l.internet_days > $MAX_INTERNET_SESSIONS)
    END AS internet_excess,
    CASE WHEN l.lms_events > 0 THEN l.lms_morning * 1.0 / l.lms_events END AS lms_morning_share,
    CASE WHEN l.lms_events > 0 THEN l.lms_afternoon * 1.0 / l.lms_events END AS lms_afternoon_share,
    CASE WHEN l.lms_events > 0 THEN l.lms_evening * 1.0 / l.lms_events END AS lms_evening_share,
    CASE WHEN l.lms_events > 0 THEN l.lms_night * 1.0 / l.lms_events END AS lms_night_share,
    r.top_resource_type,
    r.top_resource_type_share
FROM students s
LEFT JOIN basic b ON s.actor_key = b.actor_key
LEFT JOIN life l ON s.actor_key = l.actor_key
LEFT JOIN top_loan t ON s.actor_key = t.actor_key
LEFT JOIN top_resource r ON s.actor_key = r.actor_key
