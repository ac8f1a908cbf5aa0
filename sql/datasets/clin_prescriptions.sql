-- clin_prescriptions: prescriptions and prescribed items by drug and prescriber department.
--
-- Grain: day × facility × department × drug_code.
-- Source: hims_pharmacy.prescriptions_latest, one row per medicine line (day = created_at); the
-- prescriber's department via doctors → departments masters; the drug's category from drug_master.
-- Columns:
--   facility_id, facility_name, day
--   department     VARCHAR  prescribing doctor's department ('unknown' if not found)
--   drug_code      VARCHAR; generic_name VARCHAR (line's generic, else the master's);
--   drug_category  VARCHAR  drug master category ('unknown' if not in it)
--   prescription_count BIGINT  prescriptions, each counted ONCE on the row of its first line
--   item_count     BIGINT   medicine lines
--   prescribed_qty BIGINT   units prescribed (quantity)
-- The free-text vs structured instructions mess (M03) is not needed here and not read.
CREATE OR REPLACE VIEW {{ analytics }}.clin_prescriptions AS
WITH lines AS (
  SELECT
    p.facility_id,
    CAST(p.created_at AS DATE) AS day,
    p.doctor_id,
    p.medicines[n].drug_code AS drug_code,
    p.medicines[n].generic AS generic,
    CAST(p.medicines[n].quantity AS BIGINT) AS quantity,
    n
  FROM {{ hims_pharmacy }}.prescriptions_latest AS p
  CROSS JOIN UNNEST(sequence(1, cardinality(p.medicines))) AS x(n)
  WHERE p.facility_id IS NOT NULL AND cardinality(p.medicines) > 0
),
drugs AS (
  SELECT drug_code, max(generic_name) AS generic_name, max(category) AS category
  FROM {{ hims_masters }}.drug_master_latest GROUP BY 1
)
SELECT
  l.facility_id,
  coalesce(f.facility_name, l.facility_id) AS facility_name,
  l.day,
  coalesce(dep.name, 'unknown') AS department,
  coalesce(l.drug_code, 'unknown') AS drug_code,
  coalesce(max(l.generic), max(dm.generic_name), 'unknown') AS generic_name,
  coalesce(max(dm.category), 'unknown') AS drug_category,
  CAST(count_if(l.n = 1) AS BIGINT) AS prescription_count,
  count(*) AS item_count,
  CAST(coalesce(sum(l.quantity), 0) AS BIGINT) AS prescribed_qty
FROM lines AS l
LEFT JOIN {{ hims_masters }}.doctors_latest AS doc ON doc."_id" = l.doctor_id
LEFT JOIN {{ hims_masters }}.departments_latest AS dep ON dep."_id" = doc.department_id
LEFT JOIN drugs AS dm ON dm.drug_code = l.drug_code
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = l.facility_id
GROUP BY 1, 2, 3, 4, 5
