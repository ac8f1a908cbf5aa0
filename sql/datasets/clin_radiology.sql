-- clin_radiology: radiology studies by modality and report turnaround.
--
-- Grain: day × facility × modality × procedure_code × priority.
-- Source: hims_radiology.radiology_orders_latest (day = ordered_at) — each order carries its
-- performed_at and reported_at — with hims_radiology.radiology_reports_latest for critical findings.
-- Columns:
--   facility_id, facility_name, day
--   modality        VARCHAR  XR | US | CT | MR | ...
--   procedure_code  VARCHAR; procedure_name VARCHAR
--   priority        VARCHAR  routine | urgent
--   order_count     BIGINT   orders
--   performed_count BIGINT   orders with performed_at (study done)
--   reported_count  BIGINT   orders with reported_at (report signed)
--   critical_finding_count BIGINT  signed reports flagged critical_finding
--   report_tat_minutes_sum DOUBLE  performed_at → reported_at in minutes, over reported orders
--   avg_report_tat_minutes DOUBLE
--   order_to_report_minutes_sum DOUBLE  ordered_at → reported_at in minutes, over reported orders
CREATE OR REPLACE VIEW {{ analytics }}.clin_radiology AS
WITH crit AS (
  SELECT order_id, max(CASE WHEN critical_finding THEN 1 ELSE 0 END) AS critical
  FROM {{ hims_radiology }}.radiology_reports_latest
  GROUP BY 1
),
orders AS (
  SELECT
    o.facility_id,
    CAST(o.ordered_at AS DATE) AS day,
    coalesce(o.modality, 'unknown') AS modality,
    coalesce(o.procedure_code, 'unknown') AS procedure_code,
    coalesce(o.procedure_name, o.procedure_code, 'unknown') AS procedure_name,
    coalesce(o.priority, 'unknown') AS priority,
    o.performed_at,
    o.reported_at,
    coalesce(c.critical, 0) AS critical,
    CAST(date_diff('millisecond', o.performed_at, o.reported_at) AS DOUBLE) / 60000 AS report_tat,
    CAST(date_diff('millisecond', o.ordered_at, o.reported_at) AS DOUBLE) / 60000 AS order_to_report
  FROM {{ hims_radiology }}.radiology_orders_latest AS o
  LEFT JOIN crit AS c ON c.order_id = o."_id"
  WHERE o.facility_id IS NOT NULL AND o.ordered_at IS NOT NULL
)
SELECT
  o.facility_id,
  coalesce(f.facility_name, o.facility_id) AS facility_name,
  o.day, o.modality, o.procedure_code, o.procedure_name, o.priority,
  count(*) AS order_count,
  count(o.performed_at) AS performed_count,
  count(o.reported_at) AS reported_count,
  CAST(sum(o.critical) AS BIGINT) AS critical_finding_count,
  coalesce(sum(o.report_tat), 0) AS report_tat_minutes_sum,
  avg(o.report_tat) AS avg_report_tat_minutes,
  coalesce(sum(o.order_to_report), 0) AS order_to_report_minutes_sum
FROM orders AS o
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = o.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
