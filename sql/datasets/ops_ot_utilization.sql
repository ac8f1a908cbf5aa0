-- ops_ot_utilization: operating theatre bookings and surgeries — counts, minutes, cancellations —
-- by theatre and specialty.
--
-- Grain: day × facility × ot_room × specialty.
-- Sources: hims_adt.ot_bookings_latest (day = scheduled_at; ot_room, expected and actual minutes,
-- status) and hims_adt.surgeries_latest matched to its booking by (admission_id, procedure_code)
-- for the in-theatre time; specialty = the surgeon's (doctors → specialties master).
-- Columns:
--   facility_id, facility_name, day
--   ot_room    VARCHAR  OT-1, OT-2, ...
--   specialty  VARCHAR  specialties master name of the surgeon's specialty ('unknown' if not found)
--   booking_count    BIGINT  OT bookings scheduled that day (any status)
--   completed_count  BIGINT  status completed
--   cancelled_count  BIGINT  status cancelled (the synthetic data has none: 0 there)
--   scheduled_minutes DOUBLE expected_minutes of the bookings, cancelled ones excluded
--   actual_minutes    DOUBLE actual_minutes recorded on completed bookings (incision → closure)
--   in_ot_minutes     DOUBLE in_ot → out_ot of the matched surgery (theatre occupied, incl. set-up)
--   surgery_count     BIGINT bookings with a matched surgery (a cancelled booking matches none: the
--                            surgery of a rebooked procedure belongs to the booking it was done on)
CREATE OR REPLACE VIEW {{ analytics }}.ops_ot_utilization AS
WITH surg AS (
  SELECT admission_id, procedure_code,
         max(CAST(date_diff('millisecond', timeline.in_ot, timeline.out_ot) AS DOUBLE) / 60000) AS in_ot_minutes
  FROM {{ hims_adt }}.surgeries_latest
  GROUP BY 1, 2
),
bookings AS (
  SELECT
    b.facility_id,
    CAST(b.scheduled_at AS DATE) AS day,
    coalesce(b.ot_room, 'unknown') AS ot_room,
    coalesce(sp.name, 'unknown') AS specialty,
    b.status,
    CASE WHEN b.status = 'cancelled' THEN 0 ELSE CAST(b.expected_minutes AS DOUBLE) END AS scheduled_minutes,
    CASE WHEN b.status = 'completed' THEN CAST(b.actual_minutes AS DOUBLE) END AS actual_minutes,
    s.in_ot_minutes
  FROM {{ hims_adt }}.ot_bookings_latest AS b
  LEFT JOIN surg AS s ON s.admission_id = b.admission_id AND s.procedure_code = b.procedure_code
                     AND coalesce(b.status, '') <> 'cancelled'
  LEFT JOIN {{ hims_masters }}.doctors_latest AS d ON d."_id" = b.surgeon_id
  LEFT JOIN {{ hims_masters }}.specialties_latest AS sp ON sp."_id" = d.specialty_id
  WHERE b.facility_id IS NOT NULL AND b.scheduled_at IS NOT NULL
)
SELECT
  b.facility_id,
  coalesce(f.facility_name, b.facility_id) AS facility_name,
  b.day, b.ot_room, b.specialty,
  count(*) AS booking_count,
  CAST(count_if(b.status = 'completed') AS BIGINT) AS completed_count,
  CAST(count_if(b.status = 'cancelled') AS BIGINT) AS cancelled_count,
  coalesce(sum(b.scheduled_minutes), 0) AS scheduled_minutes,
  coalesce(sum(b.actual_minutes), 0) AS actual_minutes,
  coalesce(sum(b.in_ot_minutes), 0) AS in_ot_minutes,
  count(b.in_ot_minutes) AS surgery_count
FROM bookings AS b
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = b.facility_id
GROUP BY 1, 2, 3, 4, 5
