-- fin_revenue_daily: billed revenue per day — gross, discount, net and bills — by department,
-- bill type and service category.
--
-- Grain: day × facility × department × bill_type × service_category (one row per combination seen).
-- Source: hims_billing.bills_latest (the current version of each bill), one row per bill line
-- (bills.items), the day being the bill's created_at (IST, the lake's wall clock).
-- Columns:
--   facility_id, facility_name  facility (canonical name from dim_facility; the id when unnamed)
--   day                DATE     day the bill was raised (created_at)
--   department         VARCHAR  department of the bill's doctor (doctors → departments master);
--                               'Unassigned' for bills without a doctor (lab/radiology walk-ins, packages)
--   bill_type          VARCHAR  OP | IP | ER | LAB | RAD | PKG (as the billing desk wrote it)
--   service_category   VARCHAR  the line's category: consultation, laboratory, radiology, room, ...
--   line_count         BIGINT   bill lines
--   bill_count         BIGINT   bills, each counted ONCE, on the row of its largest line (ties: first
--                               line) — so bill_count sums correctly over any dimension
--   gross_amount       DOUBLE   INR, sum of line amounts (qty × unit price)
--   discount_amount    DOUBLE   INR, gross − net, the bill's discount spread over its lines pro rata;
--                               slightly negative (a few paise to rupees) where a bill's recorded total
--                               exceeds the sum of its lines — shown as recorded, not clamped
--   net_amount         DOUBLE   INR, the bill's total_amount spread over its lines pro rata to amount
-- Rules:
--   * total_amount is a double in most bills, a string ('12345.50') or an integer in others (mess
--     M04): it is read with try_cast(... AS DOUBLE); an unreadable total falls back to gross − discount.
--   * a line's share of the bill is its amount / the bill's gross; for a zero-gross bill (waived
--     follow-up, status no_charge) every line gets an equal share.
--   * every bill status counts (billed revenue); refunds, write-offs and credit notes are in
--     fin_revenue_leakage, payments in fin_collections_outstanding.
--   * bills without a facility_id are left out (they cannot be filtered by facility).
CREATE OR REPLACE VIEW {{ analytics }}.fin_revenue_daily AS
WITH bills AS (
  SELECT
    b."_id" AS bill_id,
    b.facility_id,
    CAST(b.created_at AS DATE) AS day,
    b.bill_type,
    b.doctor_id,
    b.items,
    CAST(b.gross_amount AS DOUBLE) AS gross,
    coalesce(
      try_cast(b.total_amount AS DOUBLE),
      CAST(b.gross_amount AS DOUBLE) - coalesce(CAST(b.discount AS DOUBLE), 0)
    ) AS net,
    cardinality(b.items) AS n_lines
  FROM {{ hims_billing }}.bills_latest AS b
  WHERE b.facility_id IS NOT NULL AND cardinality(b.items) > 0
),
lines AS (
  SELECT
    bills.*,
    bills.items[n].category AS service_category,
    CAST(bills.items[n].amount AS DOUBLE) AS line_amount,
    CASE WHEN bills.gross > 0 THEN CAST(bills.items[n].amount AS DOUBLE) / bills.gross
         ELSE 1.0E0 / bills.n_lines END AS share,
    row_number() OVER (PARTITION BY bills.bill_id ORDER BY CAST(bills.items[n].amount AS DOUBLE) DESC, n ASC) AS line_rank
  FROM bills
  CROSS JOIN UNNEST(sequence(1, cardinality(bills.items))) AS t(n)  -- bills: cardinality(items) > 0
),
departments AS (
  SELECT d."_id" AS doctor_id, dep.name AS department
  FROM {{ hims_masters }}.doctors_latest AS d
  LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = d.department_id
)
SELECT
  l.facility_id,
  coalesce(f.facility_name, l.facility_id) AS facility_name,
  l.day,
  coalesce(dp.department, 'Unassigned') AS department,
  coalesce(l.bill_type, 'unknown') AS bill_type,
  coalesce(l.service_category, 'unknown') AS service_category,
  count(*) AS line_count,
  CAST(count_if(l.line_rank = 1) AS BIGINT) AS bill_count,
  sum(l.line_amount) AS gross_amount,
  sum(l.line_amount - l.net * l.share) AS discount_amount,
  sum(l.net * l.share) AS net_amount
FROM lines AS l
LEFT JOIN departments AS dp ON dp.doctor_id = l.doctor_id
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = l.facility_id
GROUP BY 1, 2, 3, 4, 5, 6
