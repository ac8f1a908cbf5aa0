-- clin_lab_abnormal: lab results by test with abnormal and critical counts.
--
-- Grain: day × facility × department × test_code.
-- Source: hims_lab.lab_results_latest (one document per resulted test; day = resulted_at).
-- Columns:
--   facility_id, facility_name, day
--   department     VARCHAR  the lab department (departments master name of the result's department_id)
--   test_code, test_name, section  VARCHAR
--   result_count   BIGINT   results
--   abnormal_count BIGINT   results flagged abnormal (any parameter outside its reference range)
--   critical_count BIGINT   results flagged critical (a subset of abnormal in the data)
--   parameter_count          BIGINT  parameters measured in those results
--   abnormal_parameter_count BIGINT  parameters whose flag is not 'N' (normal)
--   abnormal_rate  DOUBLE   abnormal_count / result_count
--   critical_rate  DOUBLE   critical_count / result_count
--   tat_minutes_sum DOUBLE  the results' tat_minutes (the lab system's sample → result time), summed
CREATE OR REPLACE VIEW {{ analytics }}.clin_lab_abnormal AS
WITH results AS (
  SELECT
    r.facility_id,
    CAST(r.resulted_at AS DATE) AS day,
    coalesce(dep.name, 'unknown') AS department,
    coalesce(r.test_code, 'unknown') AS test_code,
    coalesce(r.test_name, r.test_code, 'unknown') AS test_name,
    coalesce(r.section, 'unknown') AS section,
    coalesce(r.abnormal, false) AS abnormal,
    coalesce(r.critical, false) AS critical,
    coalesce(cardinality(r.parameters), 0) AS parameter_count,
    cardinality(filter(r.parameters, p -> p.flag <> 'N')) AS abnormal_parameter_count,
    CAST(r.tat_minutes AS DOUBLE) AS tat_minutes
  FROM {{ hims_lab }}.lab_results_latest AS r
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = r.department_id
  WHERE r.facility_id IS NOT NULL AND r.resulted_at IS NOT NULL
)
SELECT
  r.facility_id,
  coalesce(f.facility_name, r.facility_id) AS facility_name,
  r.day, r.department, r.test_code, r.test_name, r.section,
  count(*) AS result_count,
  CAST(count_if(r.abnormal) AS BIGINT) AS abnormal_count,
  CAST(count_if(r.critical) AS BIGINT) AS critical_count,
  CAST(sum(r.parameter_count) AS BIGINT) AS parameter_count,
  CAST(coalesce(sum(r.abnormal_parameter_count), 0) AS BIGINT) AS abnormal_parameter_count,
  CAST(count_if(r.abnormal) AS DOUBLE) / count(*) AS abnormal_rate,
  CAST(count_if(r.critical) AS DOUBLE) / count(*) AS critical_rate,
  coalesce(sum(r.tat_minutes), 0) AS tat_minutes_sum
FROM results AS r
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = r.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
