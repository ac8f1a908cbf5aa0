-- fin_revenue_leakage: revenue given away or lost after billing — discounts, refunds, write-offs,
-- credit notes — by reason.
--
-- Grain: day × facility × leakage_type × reason.
-- Sources (each *_latest, day = the document's created_at):
--   discount     hims_billing.discounts      amount, reason (senior citizen, staff relative, ...)
--   refund       hims_billing.refunds        amount (Decimal128 on MongoDB → double); reason = the
--                                            reason of its credit note (credit_note_id), else 'unspecified';
--                                            only status 'processed' counts
--   write_off    hims_billing.write_offs     amount, reason
--   credit_note  hims_billing.credit_notes   amount, reason
-- A refund is issued against a credit note, so refund and credit_note amounts overlap: add them
-- only knowingly (the dashboard shows them side by side).
-- Columns: facility_id, facility_name, day, leakage_type VARCHAR, reason VARCHAR,
--   event_count BIGINT (documents), amount DOUBLE (INR).
CREATE OR REPLACE VIEW {{ analytics }}.fin_revenue_leakage AS
WITH events AS (
  SELECT facility_id, CAST(created_at AS DATE) AS day, 'discount' AS leakage_type,
         coalesce(reason, 'unspecified') AS reason, CAST(amount AS DOUBLE) AS amount
  FROM {{ hims_billing }}.discounts_latest
  UNION ALL
  SELECT r.facility_id, CAST(r.created_at AS DATE), 'refund', coalesce(cn.reason, 'unspecified'),
         CAST(r.amount AS DOUBLE)
  FROM {{ hims_billing }}.refunds_latest AS r
  LEFT JOIN {{ hims_billing }}.credit_notes_latest AS cn ON cn."_id" = r.credit_note_id
  WHERE r.status = 'processed'
  UNION ALL
  SELECT facility_id, CAST(created_at AS DATE), 'write_off', coalesce(reason, 'unspecified'), CAST(amount AS DOUBLE)
  FROM {{ hims_billing }}.write_offs_latest
  UNION ALL
  SELECT facility_id, CAST(created_at AS DATE), 'credit_note', coalesce(reason, 'unspecified'), CAST(amount AS DOUBLE)
  FROM {{ hims_billing }}.credit_notes_latest
)
SELECT
  e.facility_id,
  coalesce(f.facility_name, e.facility_id) AS facility_name,
  e.day,
  e.leakage_type,
  e.reason,
  count(*) AS event_count,
  sum(e.amount) AS amount
FROM events AS e
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = e.facility_id
WHERE e.facility_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
