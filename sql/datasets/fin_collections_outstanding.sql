-- fin_collections_outstanding: money collected per day by payment mode, and what is still owed on
-- bills with its age.
--
-- Grain: day × facility × row_type × payment_mode × payer_group × ageing_bucket. Two kinds of row,
-- told apart by row_type; each row's measures of the other kind are 0 (so sums never mix them):
--   'collection'   one row per day the payments were received (payments.paid_at), by mode;
--                  ageing_bucket = 'n/a'
--   'outstanding'  one row per day bills were raised (bills.created_at) for bills that still have a
--                  balance, by ageing bucket; payment_mode = 'n/a'
-- Columns:
--   facility_id, facility_name, day (DATE, see above)
--   row_type           VARCHAR  'collection' | 'outstanding'
--   payment_mode       VARCHAR  cash, card, upi, netbanking, insurance, payer_settlement
--   payer_group        VARCHAR  the bill's payer category: self_pay | insurance | corporate | government
--   ageing_bucket      VARCHAR  '0-30' | '31-60' | '61-90' | '90+' days from bill date to the as-of day
--   payment_count      BIGINT   successful payments
--   collected_amount   DOUBLE   INR received (payments.amount; Decimal128 on MongoDB → cast to double)
--   outstanding_bill_count BIGINT  bills with a balance > 0
--   outstanding_amount DOUBLE   INR, sum of those bills' balance
-- Rules:
--   * payments count when status = 'success' (every other status is left out);
--   * outstanding = bills_latest with balance > 0.005 (write-offs set the balance to 0 and refunds
--     never raise it), whatever the status says;
--   * the as-of day for ageing is the newest bill activity in the lake (max updated_at of
--     bills_latest), not the clock: the dataset is reproducible and ages stop when syncs stop.
CREATE OR REPLACE VIEW {{ analytics }}.fin_collections_outstanding AS
WITH bill_payer AS (
  SELECT
    "_id" AS bill_id,
    CASE WHEN payer.category = 'cash' THEN 'self_pay' ELSE coalesce(payer.category, 'unknown') END AS payer_group
  FROM {{ hims_billing }}.bills_latest
),
collections AS (
  SELECT
    p.facility_id,
    CAST(p.paid_at AS DATE) AS day,
    'collection' AS row_type,
    coalesce(p.mode, 'unknown') AS payment_mode,
    coalesce(bp.payer_group, 'unknown') AS payer_group,
    'n/a' AS ageing_bucket,
    CAST(1 AS BIGINT) AS payment_count,
    CAST(p.amount AS DOUBLE) AS collected_amount,
    CAST(0 AS BIGINT) AS outstanding_bill_count,
    CAST(0 AS DOUBLE) AS outstanding_amount
  FROM {{ hims_billing }}.payments_latest AS p
  LEFT JOIN bill_payer AS bp ON bp.bill_id = p.bill_id
  WHERE p.status = 'success' AND p.facility_id IS NOT NULL
),
as_of AS (
  SELECT CAST(max(updated_at) AS DATE) AS as_of_day FROM {{ hims_billing }}.bills_latest
),
open_bills AS (
  SELECT
    b.facility_id,
    CAST(b.created_at AS DATE) AS day,
    'outstanding' AS row_type,
    'n/a' AS payment_mode,
    CASE WHEN b.payer.category = 'cash' THEN 'self_pay' ELSE coalesce(b.payer.category, 'unknown') END AS payer_group,
    CASE
      WHEN date_diff('day', CAST(b.created_at AS DATE), a.as_of_day) <= 30 THEN '0-30'
      WHEN date_diff('day', CAST(b.created_at AS DATE), a.as_of_day) <= 60 THEN '31-60'
      WHEN date_diff('day', CAST(b.created_at AS DATE), a.as_of_day) <= 90 THEN '61-90'
      ELSE '90+'
    END AS ageing_bucket,
    CAST(0 AS BIGINT) AS payment_count,
    CAST(0 AS DOUBLE) AS collected_amount,
    CAST(1 AS BIGINT) AS outstanding_bill_count,
    CAST(b.balance AS DOUBLE) AS outstanding_amount
  FROM {{ hims_billing }}.bills_latest AS b
  CROSS JOIN as_of AS a
  WHERE CAST(b.balance AS DOUBLE) > 0.005 AND b.facility_id IS NOT NULL
),
unioned AS (
  SELECT * FROM collections
  UNION ALL
  SELECT * FROM open_bills
)
SELECT
  u.facility_id,
  coalesce(f.facility_name, u.facility_id) AS facility_name,
  u.day,
  u.row_type,
  u.payment_mode,
  u.payer_group,
  u.ageing_bucket,
  CAST(sum(u.payment_count) AS BIGINT) AS payment_count,
  sum(u.collected_amount) AS collected_amount,
  CAST(sum(u.outstanding_bill_count) AS BIGINT) AS outstanding_bill_count,
  sum(u.outstanding_amount) AS outstanding_amount
FROM unioned AS u
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = u.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
