-- adm_registrations: new patients registered per day by gender, age band and place.
--
-- Grain: day × facility × gender × age_band × city × state × registration_source.
-- Source: hims_patient.patients_latest (one document per patient); day = registration.registered_at
-- (else created_at); facility = the registering facility. No names, phones or addresses leave the
-- dataset: only city and state of the first address.
-- Columns:
--   facility_id, facility_name, day
--   gender     VARCHAR  M | F | O ('unknown' when missing)
--   age_band   VARCHAR  age at registration: '0-17' | '18-39' | '40-59' | '60+' | 'unknown'. date_of_birth
--                       is a date in most documents and 'YYYY-MM-DD' text in legacy ones (mess M08): the lake
--                       column is text; its first 10 characters are read with try_cast(... AS DATE).
--                       Age = whole days / 365.25, floored.
--   city, state VARCHAR of the patient's first address ('unknown' when none)
--   registration_source VARCHAR front_desk | call_centre | mobile_app | kiosk
--   registration_count BIGINT  patients registered
CREATE OR REPLACE VIEW {{ analytics }}.adm_registrations AS
WITH p AS (
  SELECT
    facility_id,
    CAST(coalesce(registration.registered_at, created_at) AS DATE) AS day,
    coalesce(gender, 'unknown') AS gender,
    floor(date_diff('day', try_cast(substr(CAST(date_of_birth AS VARCHAR), 1, 10) AS DATE),
                    CAST(coalesce(registration.registered_at, created_at) AS DATE)) / 365.25E0) AS age_years,
    CASE WHEN cardinality(addresses) > 0 THEN addresses[1].city END AS city,
    CASE WHEN cardinality(addresses) > 0 THEN addresses[1].state END AS state,
    coalesce(registration."source", 'unknown') AS registration_source
  FROM {{ hims_patient }}.patients_latest
  WHERE facility_id IS NOT NULL
)
SELECT
  p.facility_id,
  coalesce(f.facility_name, p.facility_id) AS facility_name,
  p.day,
  p.gender,
  CASE WHEN p.age_years IS NULL OR p.age_years < 0 THEN 'unknown'
       WHEN p.age_years < 18 THEN '0-17' WHEN p.age_years < 40 THEN '18-39'
       WHEN p.age_years < 60 THEN '40-59' ELSE '60+' END AS age_band,
  coalesce(p.city, 'unknown') AS city,
  coalesce(p.state, 'unknown') AS state,
  p.registration_source,
  count(*) AS registration_count
FROM p
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = p.facility_id
WHERE p.day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
