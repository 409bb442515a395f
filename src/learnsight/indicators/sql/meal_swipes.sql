-- First canteen swipe per student, meal and day, as symbols for the real-entropy grouped map
-- (SPEC §2.2).  day_index counts days from the first canteen day visible at the cut-off; n_days is
-- the length of that observation window (every student is observed over the same days).
WITH swipes AS (
    SELECT actor_key, ts, CAST(ts AS DATE) AS day,
           hour(ts) * 60 + minute(ts) AS minute_of_day
    FROM ev WHERE verb_id = $SWIPED
),
window_days AS (
    SELECT min(day) AS first_day, max(day) AS last_day FROM swipes
),
meals AS (
    SELECT actor_key, day,
           CASE WHEN minute_of_day >= $BREAKFAST_FROM AND minute_of_day < $LUNCH_FROM THEN 'breakfast'
                WHEN minute_of_day >= $LUNCH_FROM AND minute_of_day < $DINNER_FROM THEN 'lunch'
                WHEN minute_of_day >= $DINNER_FROM AND minute_of_day < $DINNER_UNTIL THEN 'dinner'
           END AS meal,
           minute_of_day
    FROM swipes
)
SELECT m.actor_key, m.meal,
       datediff('day', w.first_day, m.day) AS day_index,
       CAST(floor(min(m.minute_of_day) / $SLOT_MINUTES) AS INTEGER) AS slot,
       datediff('day', w.first_day, w.last_day) + 1 AS n_days
FROM meals m CROSS JOIN window_days w
WHERE m.meal IS NOT NULL
GROUP BY m.actor_key, m.meal, m.day, w.first_day, w.last_day
