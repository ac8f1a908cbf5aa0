-- ops_adt: admissions, discharges and transfers per day.
--
-- Grain: day × facility × department × event_type × detail.
-- Sources (*_latest): hims_adt.admissions (day = admitted_at; detail = admission source: ER, OPD,
-- elective), hims_adt.discharges (day = discharged_at; detail = disposition: home, lama, death,
-- referred; department from its admission), hims_adt.transfers (day = transferred_at; detail =
-- '<from category>-><to category>', e.g. 'ICU->GEN'; department from its admission).
-- Columns:
--   facility_id, facility_name, day
--   department  VARCHAR  the admitting department (departments master name; 'unknown' if not found)
--   event_type  VARCHAR  admission | discharge | transfer
--   detail      VARCHAR  see above
--   admissions_count, discharges_count, transfers_count  BIGINT (0 on the other event types' rows)
-- Rule: an admission counts on its admission day whatever its current status (admitted/discharged).
CREATE OR REPLACE VIEW {{ analytics }}.ops_adt AS
WITH adm AS (
  SELECT a."_id" AS admission_id, a.facility_id, a.admitted_at, a.source, coalesce(dep.name, 'unknown') AS department
  FROM {{ hims_adt }}.admissions_latest AS a
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = a.department_id
),
events AS (
  SELECT facility_id, CAST(admitted_at AS DATE) AS day, department, 'admission' AS event_type,
         coalesce(source, 'unknown') AS detail
  FROM adm
  UNION ALL
  SELECT d.facility_id, CAST(d.discharged_at AS DATE), coalesce(adm.department, 'unknown'), 'discharge',
         coalesce(d.disposition, 'unknown')
  FROM {{ hims_adt }}.discharges_latest AS d
  LEFT JOIN adm ON adm.admission_id = d.admission_id
  UNION ALL
  SELECT t.facility_id, CAST(t.transferred_at AS DATE), coalesce(adm.department, 'unknown'), 'transfer',
         coalesce(t."from".category, 'unknown') || '->' || coalesce(t."to".category, 'unknown')
  FROM {{ hims_adt }}.transfers_latest AS t
  LEFT JOIN adm ON adm.admission_id = t.admission_id
)
SELECT
  e.facility_id,
  coalesce(f.facility_name, e.facility_id) AS facility_name,
  e.day, e.department, e.event_type, e.detail,
  CAST(count_if(e.event_type = 'admission') AS BIGINT) AS admissions_count,
  CAST(count_if(e.event_type = 'discharge') AS BIGINT) AS discharges_count,
  CAST(count_if(e.event_type = 'transfer') AS BIGINT) AS transfers_count
FROM events AS e
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = e.facility_id
WHERE e.facility_id IS NOT NULL AND e.day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
