-- clin_lab_volumes: laboratory orders and tests per day and their turnaround.
--
-- Grain: day × facility × source × priority × test_code.
-- Source: hims_lab.lab_orders_latest, one row per ordered test (lab_orders.tests); day = ordered_at.
-- Columns:
--   facility_id, facility_name, day
--   source     VARCHAR  OPD | IPD | ER | outside (who ordered: the requesting department kind)
--   priority   VARCHAR  routine | urgent | stat
--   test_code  VARCHAR; test_name VARCHAR (lab test master name, else the order line's name)
--   section    VARCHAR  lab section from the test master (Haematology, Biochemistry, ...)
--   order_count      BIGINT  orders, each counted ONCE on the row of its first test
--   test_count       BIGINT  tests ordered
--   completed_test_count BIGINT  tests with status completed
--   tat_minutes_sum  DOUBLE  order → report minutes (ordered_at → reported_at of the order), summed
--                            over completed tests; the order's report time is shared by its tests
--   avg_tat_minutes  DOUBLE  tat_minutes_sum / completed tests with a report time
CREATE OR REPLACE VIEW {{ analytics }}.clin_lab_volumes AS
WITH tests AS (
  SELECT
    o.facility_id,
    CAST(o.ordered_at AS DATE) AS day,
    coalesce(o.source, 'unknown') AS source,
    coalesce(o.priority, 'unknown') AS priority,
    o.tests[n].test_code AS test_code,
    o.tests[n].name AS line_name,
    o.tests[n].status AS test_status,
    n,
    CASE WHEN o.tests[n].status = 'completed'
         THEN CAST(date_diff('millisecond', o.ordered_at, o.reported_at) AS DOUBLE) / 60000 END AS tat_minutes
  FROM {{ hims_lab }}.lab_orders_latest AS o
  CROSS JOIN UNNEST(sequence(1, cardinality(o.tests))) AS x(n)
  WHERE o.facility_id IS NOT NULL AND cardinality(o.tests) > 0 AND o.ordered_at IS NOT NULL
)
SELECT
  t.facility_id,
  coalesce(f.facility_name, t.facility_id) AS facility_name,
  t.day, t.source, t.priority,
  coalesce(t.test_code, 'unknown') AS test_code,
  coalesce(m.name, t.line_name, t.test_code, 'unknown') AS test_name,
  coalesce(m.section, 'unknown') AS section,
  CAST(count_if(t.n = 1) AS BIGINT) AS order_count,
  count(*) AS test_count,
  CAST(count_if(t.test_status = 'completed') AS BIGINT) AS completed_test_count,
  coalesce(sum(t.tat_minutes), 0) AS tat_minutes_sum,
  avg(t.tat_minutes) AS avg_tat_minutes
FROM tests AS t
LEFT JOIN {{ hims_masters }}.lab_test_master_latest AS m ON m.code = t.test_code
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = t.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
