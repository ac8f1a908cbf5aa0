-- clin_diagnoses: diagnoses recorded per day by ICD-10 code and chapter.
--
-- Grain: day × facility × icd10_code × diagnosis_type × diagnosis_status.
-- Source: hims_patient.diagnoses_latest (one document per diagnosis; day = diagnosed_at), the code's
-- description and chapter from hims_masters.icd10_codes_latest.
-- Columns:
--   facility_id, facility_name, day
--   icd10_code        VARCHAR  e.g. J06.9
--   icd10_description VARCHAR  master description, else the diagnosis' own text
--   icd10_chapter     VARCHAR  master chapter letter, else the code's first letter (A–Z)
--   diagnosis_type    VARCHAR  primary | secondary
--   diagnosis_status  VARCHAR  provisional | confirmed
--   diagnosis_count   BIGINT   diagnoses
--   chronic_count     BIGINT   those flagged chronic
-- Encounters also carry an embedded diagnoses array (partly bare code strings, mess M02); the
-- diagnoses collection is the one record per diagnosis and is used here.
CREATE OR REPLACE VIEW {{ analytics }}.clin_diagnoses AS
SELECT
  d.facility_id,
  coalesce(f.facility_name, d.facility_id) AS facility_name,
  CAST(d.diagnosed_at AS DATE) AS day,
  d.code AS icd10_code,
  coalesce(m.description, d.description, 'unknown') AS icd10_description,
  coalesce(m.chapter, substr(d.code, 1, 1)) AS icd10_chapter,
  coalesce(d.type, 'unknown') AS diagnosis_type,
  coalesce(d.status, 'unknown') AS diagnosis_status,
  count(*) AS diagnosis_count,
  CAST(count_if(d.chronic) AS BIGINT) AS chronic_count
FROM {{ hims_patient }}.diagnoses_latest AS d
LEFT JOIN {{ hims_masters }}.icd10_codes_latest AS m ON m."_id" = d.code
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = d.facility_id
WHERE d.facility_id IS NOT NULL AND d.code IS NOT NULL AND d.diagnosed_at IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
