-- ops_emergency: emergency-room visits by triage level and disposition, door-to-doctor time.
--
-- Grain: day × facility × triage_level × triage_colour × disposition × arrival_mode.
-- Source: hims_adt.er_visits_latest (day = arrived_at).
-- Columns:
--   facility_id, facility_name, day
--   triage_level   VARCHAR  '1' (most urgent) … '5', as text ('untriaged' when missing)
--   triage_colour  VARCHAR  red | orange | yellow | green | blue
--   disposition    VARCHAR  discharged | admitted | referred | ... ('in_er' while none is recorded)
--   arrival_mode   VARCHAR  walk_in | ambulance | private_vehicle
--   visit_count    BIGINT
--   admitted_count BIGINT   disposition admitted
--   seen_count     BIGINT   visits seen by a doctor (seen_at present)
--   door_to_doctor_minutes_sum DOUBLE  arrived_at → seen_at in minutes, over seen visits (exact, from
--                                      the timestamps; the documents' integer field is not used)
--   avg_door_to_doctor_minutes DOUBLE
--   er_los_minutes_sum DOUBLE  arrived_at → disposition_at in minutes, over visits with a disposition
--   avg_er_los_minutes DOUBLE
CREATE OR REPLACE VIEW {{ analytics }}.ops_emergency AS
WITH visits AS (
  SELECT
    v.facility_id,
    CAST(v.arrived_at AS DATE) AS day,
    coalesce(CAST(v.triage."level" AS VARCHAR), 'untriaged') AS triage_level,
    coalesce(v.triage.colour, 'untriaged') AS triage_colour,
    coalesce(v.disposition, 'in_er') AS disposition,
    coalesce(v.arrival_mode, 'unknown') AS arrival_mode,
    CAST(date_diff('millisecond', v.arrived_at, v.seen_at) AS DOUBLE) / 60000 AS d2d_minutes,
    CAST(date_diff('millisecond', v.arrived_at, v.disposition_at) AS DOUBLE) / 60000 AS los_minutes
  FROM {{ hims_adt }}.er_visits_latest AS v
  WHERE v.facility_id IS NOT NULL AND v.arrived_at IS NOT NULL
)
SELECT
  v.facility_id,
  coalesce(f.facility_name, v.facility_id) AS facility_name,
  v.day, v.triage_level, v.triage_colour, v.disposition, v.arrival_mode,
  count(*) AS visit_count,
  CAST(count_if(v.disposition = 'admitted') AS BIGINT) AS admitted_count,
  count(v.d2d_minutes) AS seen_count,
  coalesce(sum(v.d2d_minutes), 0) AS door_to_doctor_minutes_sum,
  avg(v.d2d_minutes) AS avg_door_to_doctor_minutes,
  coalesce(sum(v.los_minutes), 0) AS er_los_minutes_sum,
  avg(v.los_minutes) AS avg_er_los_minutes
FROM visits AS v
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = v.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
