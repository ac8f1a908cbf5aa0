-- ops_length_of_stay: how long discharged inpatients stayed.
--
-- Grain: day × facility × department × discharge_type × bed_category.
-- Sources: hims_adt.discharges_latest (day = discharged_at) joined to hims_adt.admissions_latest
-- (admitted_at, department, bed category). Only discharged stays: a stay counts once, on its
-- discharge day; patients still admitted are not here.
-- Columns:
--   facility_id, facility_name, day (DATE of discharge)
--   department      VARCHAR  admitting department (departments master name; 'unknown' if not found)
--   discharge_type  VARCHAR  disposition: home | lama (left against medical advice) | death | referred
--   bed_category    VARCHAR  the admission's bed category (GEN, ICU, ...)
--   discharge_count BIGINT   discharged stays
--   los_days_sum    DOUBLE   days from admitted_at to discharged_at (exact, from the timestamps; the
--                            documents' own los_days is rounded to 0.1 and not used)
--   avg_los_days    DOUBLE   los_days_sum / discharge_count
--   median_los_days DOUBLE   approx_percentile 0.5 (not re-aggregatable)
--   max_los_days    DOUBLE
-- A discharge whose admission is missing from the lake has no admitted_at: it counts in
-- discharge_count but not in the LOS measures (avg is then over the stays with both ends).
CREATE OR REPLACE VIEW {{ analytics }}.ops_length_of_stay AS
WITH stays AS (
  SELECT
    d.facility_id,
    CAST(d.discharged_at AS DATE) AS day,
    coalesce(dep.name, 'unknown') AS department,
    coalesce(d.disposition, 'unknown') AS discharge_type,
    coalesce(a.bed_category, 'unknown') AS bed_category,
    CAST(date_diff('millisecond', a.admitted_at, d.discharged_at) AS DOUBLE) / 86400000 AS los_days
  FROM {{ hims_adt }}.discharges_latest AS d
  LEFT JOIN {{ hims_adt }}.admissions_latest AS a ON a."_id" = d.admission_id
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = a.department_id
  WHERE d.facility_id IS NOT NULL AND d.discharged_at IS NOT NULL
)
SELECT
  s.facility_id,
  coalesce(f.facility_name, s.facility_id) AS facility_name,
  s.day, s.department, s.discharge_type, s.bed_category,
  count(*) AS discharge_count,
  coalesce(sum(s.los_days), 0) AS los_days_sum,
  avg(s.los_days) AS avg_los_days,
  approx_percentile(s.los_days, 0.5) AS median_los_days,
  max(s.los_days) AS max_los_days
FROM stays AS s
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = s.facility_id
GROUP BY 1, 2, 3, 4, 5, 6
