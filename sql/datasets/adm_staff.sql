-- adm_staff: staff attendance per day — present, absent, on leave — by role and department, with
-- the headcount those figures are out of.
--
-- Grain: day × facility × role × department.
-- Sources: hims_hr.attendance_latest (one document per staff member per working day; its business
-- day is the document's `date` key — stored as `date_` because `date` is the partition column — an
-- IST midnight instant), role and department from hims_hr.staff_latest by staff_id.
-- Columns:
--   facility_id, facility_name, day
--   role        VARCHAR  staff role (Staff Nurse, Lab Technician, ...)
--   department  VARCHAR  departments master name of the staff member's department ('unknown' if not found)
--   headcount   BIGINT   active staff of that role/department at the facility in the staff master NOW
--                        (the master keeps no history: the same figure on every day)
--   rostered_count BIGINT attendance records that day
--   present_count  BIGINT status present;  absent_count BIGINT status absent;  on_leave_count BIGINT status on_leave
--   late_count     BIGINT present and late_minutes > 0
--   hours_worked   DOUBLE hours recorded
--   attendance_rate DOUBLE present_count / rostered_count
-- Rows exist for days with attendance records only.
CREATE OR REPLACE VIEW {{ analytics }}.adm_staff AS
WITH staff AS (
  SELECT s."_id" AS staff_id, s.facility_id, coalesce(s.role, 'unknown') AS role,
         coalesce(dep.name, 'unknown') AS department, s.status
  FROM {{ hims_hr }}.staff_latest AS s
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = s.department_id
),
heads AS (
  SELECT facility_id, role, department, count(*) AS headcount
  FROM staff WHERE status = 'active' GROUP BY 1, 2, 3
),
att AS (
  SELECT
    a.facility_id,
    CAST(a.date_ AS DATE) AS day,
    coalesce(s.role, 'unknown') AS role,
    coalesce(s.department, 'unknown') AS department,
    count(*) AS rostered_count,
    CAST(count_if(a.status = 'present') AS BIGINT) AS present_count,
    CAST(count_if(a.status = 'absent') AS BIGINT) AS absent_count,
    CAST(count_if(a.status = 'on_leave') AS BIGINT) AS on_leave_count,
    CAST(count_if(a.status = 'present' AND a.late_minutes > 0) AS BIGINT) AS late_count,
    coalesce(sum(CAST(a.hours AS DOUBLE)), 0) AS hours_worked
  FROM {{ hims_hr }}.attendance_latest AS a
  LEFT JOIN staff AS s ON s.staff_id = a.staff_id
  WHERE a.facility_id IS NOT NULL AND a.date_ IS NOT NULL
  GROUP BY 1, 2, 3, 4
)
SELECT
  a.facility_id,
  coalesce(f.facility_name, a.facility_id) AS facility_name,
  a.day, a.role, a.department,
  coalesce(h.headcount, 0) AS headcount,
  a.rostered_count, a.present_count, a.absent_count, a.on_leave_count, a.late_count, a.hours_worked,
  CAST(a.present_count AS DOUBLE) / a.rostered_count AS attendance_rate
FROM att AS a
LEFT JOIN heads AS h ON h.facility_id = a.facility_id AND h.role = a.role AND h.department = a.department
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = a.facility_id
