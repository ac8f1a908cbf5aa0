-- ops_appointments: OPD appointments booked, completed, cancelled and no-shows.
--
-- Grain: day × facility × department × doctor × visit_type × mode × channel.
-- Source: hims_scheduling.appointments_latest; day = the appointment's slot start (slot.start),
-- i.e. the day the patient was due, not the day it was booked.
-- Columns:
--   facility_id, facility_name, day
--   department   VARCHAR  departments master name of department_id ('unknown' if not in it)
--   doctor_id    VARCHAR; doctor_name VARCHAR (doctors master; staff, not patient data)
--   visit_type   VARCHAR  new | follow_up;  mode VARCHAR in_person | video;  channel VARCHAR booking channel
--   booked_count     BIGINT  every appointment for the day, whatever its status
--   completed_count  BIGINT  status completed (consultation done)
--   cancelled_count  BIGINT  status cancelled (by patient or hospital, before the slot)
--   no_show_count    BIGINT  status no_show: the slot passed without a check-in (set by the scheduler)
--   open_count       BIGINT  still status booked (future or not yet closed)
--   waiting_minutes_sum DOUBLE  minutes from check-in to consultation start, over completed IN-PERSON
--                               visits (video consultations have no queue: their recorded start can
--                               precede the "check-in" time, so they are left out)
--   avg_waiting_minutes DOUBLE  waiting_minutes_sum / those visits
--   no_show_rate     DOUBLE   no_show / (booked − cancelled); NULL when nothing was due
CREATE OR REPLACE VIEW {{ analytics }}.ops_appointments AS
WITH appts AS (
  SELECT
    a.facility_id,
    CAST(a.slot."start" AS DATE) AS day,
    coalesce(dep.name, 'unknown') AS department,
    coalesce(a.doctor_id, 'unknown') AS doctor_id,
    coalesce(doc.name, a.doctor_id, 'unknown') AS doctor_name,
    coalesce(a.visit_type, 'unknown') AS visit_type,
    coalesce(a.mode, 'unknown') AS mode,
    coalesce(a.channel, 'unknown') AS channel,
    a.status,
    CASE WHEN a.status = 'completed' AND a.mode = 'in_person'
         THEN CAST(date_diff('millisecond', a.check_in_at, a.consult_start_at) AS DOUBLE) / 60000 END AS waiting_minutes
  FROM {{ hims_scheduling }}.appointments_latest AS a
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = a.department_id
  LEFT JOIN {{ hims_masters }}.doctors_latest AS doc ON doc."_id" = a.doctor_id
  WHERE a.facility_id IS NOT NULL
)
SELECT
  a.facility_id,
  coalesce(f.facility_name, a.facility_id) AS facility_name,
  a.day, a.department, a.doctor_id, a.doctor_name, a.visit_type, a.mode, a.channel,
  count(*) AS booked_count,
  CAST(count_if(a.status = 'completed') AS BIGINT) AS completed_count,
  CAST(count_if(a.status = 'cancelled') AS BIGINT) AS cancelled_count,
  CAST(count_if(a.status = 'no_show') AS BIGINT) AS no_show_count,
  CAST(count_if(a.status = 'booked') AS BIGINT) AS open_count,
  coalesce(sum(a.waiting_minutes), 0) AS waiting_minutes_sum,
  avg(a.waiting_minutes) AS avg_waiting_minutes,
  CAST(count_if(a.status = 'no_show') AS DOUBLE)
    / nullif(count(*) - count_if(a.status = 'cancelled'), 0) AS no_show_rate
FROM appts AS a
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = a.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
