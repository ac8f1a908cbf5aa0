-- ops_opd_waiting: OPD queue — tokens issued and served, and how long patients waited.
--
-- Grain: day × facility × department × visit_kind.
-- Source: hims_scheduling.queue_tokens_latest. Its instants are int64 epoch milliseconds (UTC, mess
-- M09), so the day is computed here: issued_at_ms shifted by +05:30 (the environments' timezone,
-- Asia/Kolkata, has no daylight saving) — the same IST wall clock the lake uses for timestamps.
-- Columns:
--   facility_id, facility_name, day (DATE the token was issued, IST)
--   department   VARCHAR  departments master name ('unknown' if not in it)
--   visit_kind   VARCHAR  appointment (token linked to an appointment) | walk_in
--   token_count  BIGINT   tokens issued
--   served_count BIGINT   tokens with status served
--   waited_count BIGINT   tokens that were called (called_at_ms present): the ones with a waiting time
--   waiting_minutes_sum DOUBLE  minutes from issue to call (called_at_ms − issued_at_ms) / 60000
--   avg_waiting_minutes DOUBLE  waiting_minutes_sum / waited_count
--   p90_waiting_minutes DOUBLE  90th percentile (approx_percentile; exact enough for small days,
--                               not re-aggregatable: recompute from a finer grain if needed)
--   max_waiting_minutes DOUBLE
-- Visit check-ins (visit_checkins) describe the same arrivals with ISO-text instants; the token is
-- used as the one record of each queue visit.
CREATE OR REPLACE VIEW {{ analytics }}.ops_opd_waiting AS
WITH tokens AS (
  SELECT
    q.facility_id,
    -- the IST day of an epoch-millis instant in whole days (date_add of ~1.8e12 ms overflows Trino's int)
    CAST(date_add('day', CAST(floor((q.issued_at_ms + 19800000) / 86400000e0) AS BIGINT), DATE '1970-01-01') AS DATE) AS day,
    coalesce(dep.name, 'unknown') AS department,
    CASE WHEN q.appointment_id IS NULL THEN 'walk_in' ELSE 'appointment' END AS visit_kind,
    q.status,
    CAST(q.called_at_ms - q.issued_at_ms AS DOUBLE) / 60000 AS waiting_minutes
  FROM {{ hims_scheduling }}.queue_tokens_latest AS q
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = q.department_id
  WHERE q.facility_id IS NOT NULL AND q.issued_at_ms IS NOT NULL
)
SELECT
  t.facility_id,
  coalesce(f.facility_name, t.facility_id) AS facility_name,
  t.day, t.department, t.visit_kind,
  count(*) AS token_count,
  CAST(count_if(t.status = 'served') AS BIGINT) AS served_count,
  count(t.waiting_minutes) AS waited_count,
  coalesce(sum(t.waiting_minutes), 0) AS waiting_minutes_sum,
  avg(t.waiting_minutes) AS avg_waiting_minutes,
  approx_percentile(t.waiting_minutes, 0.9) AS p90_waiting_minutes,
  max(t.waiting_minutes) AS max_waiting_minutes
FROM tokens AS t
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = t.facility_id
GROUP BY 1, 2, 3, 4, 5
