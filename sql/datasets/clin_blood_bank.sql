-- clin_blood_bank: blood units collected, issued and expired, and transfusions, by blood group.
--
-- Grain: day × facility × blood_group × component.
-- Sources: hims_lab.blood_bank_units_latest, hims_lab.blood_transfusions_latest (unit by unit_id).
-- Each unit can appear on up to three days:
--   collected  on CAST(collected_at AS DATE);
--   issued     on the day of its last update (updated_at) when status = 'issued': the data has no
--              issued_at field, and issuing is the last change made to a unit;
--   expired    on CAST(expires_at AS DATE) when it is still 'available' and expires_at is before
--              the as-of instant (the newest updated_at of any unit: the lake's own clock).
-- Transfusions count on CAST(started_at AS DATE), with the transfused unit's group and component.
-- Columns:
--   facility_id, facility_name, day, blood_group VARCHAR (A+, O-, ...), component VARCHAR (PRBC, FFP, PLT, WB)
--   units_collected, units_issued, units_expired BIGINT;  volume_collected_ml BIGINT
--   transfusion_count BIGINT;  transfusion_volume_ml BIGINT;  transfusion_reaction_count BIGINT
CREATE OR REPLACE VIEW {{ analytics }}.clin_blood_bank AS
WITH as_of AS (
  SELECT max(updated_at) AS as_of_ts FROM {{ hims_lab }}.blood_bank_units_latest
),
events AS (
  SELECT facility_id, CAST(collected_at AS DATE) AS day, blood_group, component,
         1 AS collected, 0 AS issued, 0 AS expired, CAST(volume_ml AS BIGINT) AS volume_ml,
         0 AS transfusions, CAST(0 AS BIGINT) AS transfused_ml, 0 AS reactions
  FROM {{ hims_lab }}.blood_bank_units_latest
  UNION ALL
  SELECT facility_id, CAST(updated_at AS DATE), blood_group, component, 0, 1, 0, CAST(0 AS BIGINT), 0,
         CAST(0 AS BIGINT), 0
  FROM {{ hims_lab }}.blood_bank_units_latest
  WHERE status = 'issued'
  UNION ALL
  SELECT u.facility_id, CAST(u.expires_at AS DATE), u.blood_group, u.component, 0, 0, 1, CAST(0 AS BIGINT), 0,
         CAST(0 AS BIGINT), 0
  FROM {{ hims_lab }}.blood_bank_units_latest AS u
  CROSS JOIN as_of
  WHERE u.status = 'available' AND u.expires_at < as_of.as_of_ts
  UNION ALL
  SELECT t.facility_id, CAST(t.started_at AS DATE), u.blood_group, u.component, 0, 0, 0, CAST(0 AS BIGINT), 1,
         CAST(t.volume_ml AS BIGINT), CASE WHEN t.reaction IS NULL THEN 0 ELSE 1 END
  FROM {{ hims_lab }}.blood_transfusions_latest AS t
  LEFT JOIN {{ hims_lab }}.blood_bank_units_latest AS u ON u."_id" = t.unit_id
)
SELECT
  e.facility_id,
  coalesce(f.facility_name, e.facility_id) AS facility_name,
  e.day,
  coalesce(e.blood_group, 'unknown') AS blood_group,
  coalesce(e.component, 'unknown') AS component,
  CAST(sum(e.collected) AS BIGINT) AS units_collected,
  CAST(sum(e.issued) AS BIGINT) AS units_issued,
  CAST(sum(e.expired) AS BIGINT) AS units_expired,
  CAST(coalesce(sum(e.volume_ml), 0) AS BIGINT) AS volume_collected_ml,
  CAST(sum(e.transfusions) AS BIGINT) AS transfusion_count,
  CAST(coalesce(sum(e.transfused_ml), 0) AS BIGINT) AS transfusion_volume_ml,
  CAST(sum(e.reactions) AS BIGINT) AS transfusion_reaction_count
FROM events AS e
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = e.facility_id
WHERE e.facility_id IS NOT NULL AND e.day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
