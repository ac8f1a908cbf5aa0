-- ops_bed_occupancy: beds available vs occupied per ward per day.
--
-- Grain: day × facility × ward (every ward of the beds master, every day from the first bed
-- assignment to the as-of day, including days with no patient).
-- Sources: hims_masters.beds_latest / wards_latest (capacity: the CURRENT bed master — history of
-- beds added or retired is not kept), hims_adt.bed_assignments_latest (occupancy: one row per stay
-- in a bed, from → to; an open assignment (to NULL) runs to the as-of day).
-- Columns:
--   facility_id, facility_name, day
--   ward_id VARCHAR; ward_name VARCHAR; ward_type VARCHAR (GEN | ICU | ... the ward's category)
--   beds_total     BIGINT  beds of the ward in the bed master
--   beds_occupied  BIGINT  distinct beds of the ward with an assignment covering any part of the day
--                          (a bed vacated at 09:00 and refilled at 15:00 counts once)
--   beds_available BIGINT  beds_total − beds_occupied
--   occupancy_rate DOUBLE  beds_occupied / beds_total (NULL for a ward without beds)
-- As-of day: the newest day any assignment starts or ends (the lake's own clock, reproducible).
CREATE OR REPLACE VIEW {{ analytics }}.ops_bed_occupancy AS
WITH beds AS (
  SELECT "_id" AS bed_id, ward_id, facility_id FROM {{ hims_masters }}.beds_latest
),
wards AS (
  SELECT w."_id" AS ward_id, w.facility_id, w.name AS ward_name, w.category AS ward_type,
         count(b.bed_id) AS beds_total
  FROM {{ hims_masters }}.wards_latest AS w
  LEFT JOIN beds AS b ON b.ward_id = w."_id"
  WHERE w.facility_id IS NOT NULL
  GROUP BY 1, 2, 3, 4
),
bounds AS (
  SELECT min(CAST("from" AS DATE)) AS first_day,
         greatest(max(CAST("from" AS DATE)), coalesce(max(CAST("to" AS DATE)), max(CAST("from" AS DATE)))) AS as_of_day
  FROM {{ hims_adt }}.bed_assignments_latest
),
calendar AS (
  SELECT CAST(d AS DATE) AS day
  FROM bounds
  CROSS JOIN UNNEST(sequence(bounds.first_day, bounds.as_of_day, INTERVAL '1' DAY)) AS s(d)
),
occupied AS (
  SELECT DISTINCT b.ward_id, ba.bed_id, CAST(d AS DATE) AS day
  FROM {{ hims_adt }}.bed_assignments_latest AS ba
  JOIN beds AS b ON b.bed_id = ba.bed_id
  CROSS JOIN bounds
  CROSS JOIN UNNEST(sequence(CAST(ba."from" AS DATE), coalesce(CAST(ba."to" AS DATE), bounds.as_of_day),
                             INTERVAL '1' DAY)) AS s(d)
  WHERE ba."from" IS NOT NULL
),
per_ward AS (
  SELECT ward_id, day, count(*) AS beds_occupied FROM occupied GROUP BY 1, 2
)
SELECT
  w.facility_id,
  coalesce(f.facility_name, w.facility_id) AS facility_name,
  c.day,
  w.ward_id,
  coalesce(w.ward_name, w.ward_id) AS ward_name,
  coalesce(w.ward_type, 'unknown') AS ward_type,
  w.beds_total,
  coalesce(o.beds_occupied, 0) AS beds_occupied,
  w.beds_total - coalesce(o.beds_occupied, 0) AS beds_available,
  CAST(coalesce(o.beds_occupied, 0) AS DOUBLE) / nullif(w.beds_total, 0) AS occupancy_rate
FROM wards AS w
CROSS JOIN calendar AS c
LEFT JOIN per_ward AS o ON o.ward_id = w.ward_id AND o.day = c.day
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = w.facility_id
