-- fin_insurance_claims: insurance/TPA/government claims — submitted, settled (approved and paid),
-- denied, still pending — amounts and settlement time.
--
-- Grain: day × facility × payer_type × payer_name × status.
-- Source: hims_billing.insurance_claims_latest (day = submitted_at), payers_latest for the payer.
-- Columns:
--   facility_id, facility_name, day (DATE the claim was submitted)
--   payer_type        VARCHAR  insurer | tpa | government | corporate ('unknown' if not in the master)
--   payer_id, payer_name VARCHAR
--   status            VARCHAR  submitted (pending) | settled | denied, as the claim now stands
--   claim_count       BIGINT   claims
--   settled_count     BIGINT   claims settled (status settled)
--   denied_count      BIGINT   claims rejected by the payer (status denied)
--   pending_count     BIGINT   claims awaiting a decision (status submitted)
--   claimed_amount    DOUBLE   INR claimed (Decimal128 on MongoDB → double)
--   settled_amount    DOUBLE   INR settled; the data has no separate approval step: a settled claim's
--                              settled_amount IS the approved amount (claimed − disallowed)
--   disallowed_amount DOUBLE   INR the payer deducted line by line (adjudication.disallowed)
--   settlement_days_sum DOUBLE days from submitted_at to decided_at, summed over settled claims
--   avg_settlement_days DOUBLE settlement_days_sum / settled_count (NULL without settled claims)
CREATE OR REPLACE VIEW {{ analytics }}.fin_insurance_claims AS
WITH claims AS (
  SELECT
    c.facility_id,
    CAST(c.submitted_at AS DATE) AS day,
    coalesce(p.type, 'unknown') AS payer_type,
    coalesce(c.payer_id, 'unknown') AS payer_id,
    coalesce(p.name, c.payer_id, 'unknown') AS payer_name,
    coalesce(c.status, 'unknown') AS status,
    CAST(c.claimed_amount AS DOUBLE) AS claimed_amount,
    CASE WHEN c.status = 'settled' THEN CAST(c.settled_amount AS DOUBLE) ELSE 0 END AS settled_amount,
    coalesce(CAST(c.adjudication.disallowed AS DOUBLE), 0) AS disallowed_amount,
    CASE WHEN c.status = 'settled'
         THEN CAST(date_diff('millisecond', c.submitted_at, c.decided_at) AS DOUBLE) / 86400000 END AS settlement_days
  FROM {{ hims_billing }}.insurance_claims_latest AS c
  LEFT JOIN {{ hims_masters }}.payers_latest AS p ON p."_id" = c.payer_id
  WHERE c.facility_id IS NOT NULL
)
SELECT
  c.facility_id,
  coalesce(f.facility_name, c.facility_id) AS facility_name,
  c.day,
  c.payer_type,
  c.payer_id,
  c.payer_name,
  c.status,
  count(*) AS claim_count,
  CAST(count_if(c.status = 'settled') AS BIGINT) AS settled_count,
  CAST(count_if(c.status = 'denied') AS BIGINT) AS denied_count,
  CAST(count_if(c.status = 'submitted') AS BIGINT) AS pending_count,
  sum(c.claimed_amount) AS claimed_amount,
  sum(c.settled_amount) AS settled_amount,
  sum(c.disallowed_amount) AS disallowed_amount,
  coalesce(sum(c.settlement_days), 0) AS settlement_days_sum,
  avg(c.settlement_days) AS avg_settlement_days
FROM claims AS c
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = c.facility_id
GROUP BY 1, 2, 3, 4, 5, 6, 7
