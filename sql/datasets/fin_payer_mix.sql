-- fin_payer_mix: billed revenue by who pays — self-pay, insurance, corporate, government — and by payer.
--
-- Grain: day × facility × payer_group × payer_type × payer_name.
-- Source: hims_billing.bills_latest (day = created_at), payers from hims_masters.payers_latest.
-- Columns:
--   facility_id, facility_name, day
--   payer_group     VARCHAR  the bill's payer category: self_pay (category 'cash') | insurance |
--                            corporate | government
--   payer_type      VARCHAR  the payer master's type: cash | insurer | tpa | corporate | government
--                            ('unknown' when the payer is not in the master)
--   payer_id        VARCHAR  payer code (CASH, INS-..., TPA-..., CORP-..., GOV-...)
--   payer_name      VARCHAR  payer master's name (the id when not in the master)
--   bill_count      BIGINT   bills
--   gross_amount    DOUBLE   INR, before discount
--   net_amount      DOUBLE   INR, total_amount (string/integer/double mess M04 read with try_cast;
--                            unreadable → gross − discount)
--   paid_amount     DOUBLE   INR paid so far on those bills
--   balance_amount  DOUBLE   INR still due on those bills
-- Rules: every bill status counts; bills without facility_id are left out.
CREATE OR REPLACE VIEW {{ analytics }}.fin_payer_mix AS
SELECT
  b.facility_id,
  coalesce(f.facility_name, b.facility_id) AS facility_name,
  CAST(b.created_at AS DATE) AS day,
  CASE WHEN b.payer.category = 'cash' THEN 'self_pay' ELSE coalesce(b.payer.category, 'unknown') END AS payer_group,
  coalesce(p.type, 'unknown') AS payer_type,
  coalesce(b.payer.payer_id, 'unknown') AS payer_id,
  coalesce(p.name, b.payer.payer_id, 'unknown') AS payer_name,
  count(*) AS bill_count,
  sum(CAST(b.gross_amount AS DOUBLE)) AS gross_amount,
  sum(coalesce(try_cast(b.total_amount AS DOUBLE),
               CAST(b.gross_amount AS DOUBLE) - coalesce(CAST(b.discount AS DOUBLE), 0))) AS net_amount,
  sum(coalesce(CAST(b.paid_amount AS DOUBLE), 0)) AS paid_amount,
  sum(coalesce(CAST(b.balance AS DOUBLE), 0)) AS balance_amount
FROM {{ hims_billing }}.bills_latest AS b
LEFT JOIN {{ hims_masters }}.payers_latest AS p ON p."_id" = b.payer.payer_id
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = b.facility_id
WHERE b.facility_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
