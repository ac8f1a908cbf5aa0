-- adm_patient_experience: patient feedback ratings and complaints.
--
-- Grain: day × facility × row_type × channel × category × status. Two kinds of row (measures of
-- the other kind are 0):
--   'feedback'   hims_admin.patient_feedback_latest, day = created_at; category = 'feedback',
--                status = 'received'
--   'complaint'  hims_admin.complaints_latest, day = created_at (raised); category = the complaint's
--                category, status = its current status (open | closed | ...)
-- Columns:
--   facility_id, facility_name, day, row_type VARCHAR, channel VARCHAR (sms, whatsapp, email, ...),
--   category VARCHAR, status VARCHAR
--   feedback_count      BIGINT  feedback forms
--   overall_rating_sum  DOUBLE  sum of ratings.overall (1–5); avg = overall_rating_sum / rated_count
--   rated_count         BIGINT  forms with an overall rating
--   avg_overall_rating  DOUBLE
--   promoter_count      BIGINT  nps 9–10;  detractor_count BIGINT nps 0–6;  nps_count BIGINT forms with nps
--   complaint_count     BIGINT  complaints raised
--   closed_complaint_count BIGINT  complaints now closed
--   resolution_hours_sum DOUBLE  created_at → resolution.closed_at in hours, over closed complaints
CREATE OR REPLACE VIEW {{ analytics }}.adm_patient_experience AS
WITH events AS (
  SELECT facility_id, CAST(created_at AS DATE) AS day, 'feedback' AS row_type,
         coalesce(channel, 'unknown') AS channel, 'feedback' AS category, 'received' AS status,
         1 AS feedback_count, CAST(ratings.overall AS DOUBLE) AS overall_rating,
         CASE WHEN nps >= 9 THEN 1 ELSE 0 END AS promoter, CASE WHEN nps <= 6 THEN 1 ELSE 0 END AS detractor,
         CASE WHEN nps IS NULL THEN 0 ELSE 1 END AS has_nps,
         0 AS complaint, 0 AS closed, CAST(NULL AS DOUBLE) AS resolution_hours
  FROM {{ hims_admin }}.patient_feedback_latest
  UNION ALL
  SELECT facility_id, CAST(created_at AS DATE), 'complaint', coalesce(channel, 'unknown'),
         coalesce(category, 'unknown'), coalesce(status, 'unknown'),
         0, CAST(NULL AS DOUBLE), 0, 0, 0, 1, CASE WHEN status = 'closed' THEN 1 ELSE 0 END,
         CASE WHEN status = 'closed'
              THEN CAST(date_diff('millisecond', created_at, resolution.closed_at) AS DOUBLE) / 3600000 END
  FROM {{ hims_admin }}.complaints_latest
)
SELECT
  e.facility_id,
  coalesce(f.facility_name, e.facility_id) AS facility_name,
  e.day, e.row_type, e.channel, e.category, e.status,
  CAST(sum(e.feedback_count) AS BIGINT) AS feedback_count,
  coalesce(sum(e.overall_rating), 0) AS overall_rating_sum,
  count(e.overall_rating) AS rated_count,
  avg(e.overall_rating) AS avg_overall_rating,
  CAST(sum(e.promoter) AS BIGINT) AS promoter_count,
  CAST(sum(e.detractor) AS BIGINT) AS detractor_count,
  CAST(sum(e.has_nps) AS BIGINT) AS nps_count,
  CAST(sum(e.complaint) AS BIGINT) AS complaint_count,
  CAST(sum(e.closed) AS BIGINT) AS closed_complaint_count,
  coalesce(sum(e.resolution_hours), 0) AS resolution_hours_sum
FROM events AS e
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = e.facility_id
WHERE e.facility_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
