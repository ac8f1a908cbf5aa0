-- dim_facility: exactly one canonical facility_name per facility_id, for every dashboard dataset.
--
-- Dialect: Athena (Trino). kx-lake runs it unchanged on Athena and transpiled (sqlglot) on DuckDB.
-- Templating: a MongoDB database name between double curly braces (as below) is replaced by that
-- environment's catalog database (glue_database_prefix + database, e.g. kx_env1_hims_masters);
-- nothing else is templated. One CREATE OR REPLACE VIEW per file; files run in name order.
--
-- Rule for the name:
--   1. the facilities master's name (hims_masters.facilities_latest: _id is the facility id), when it
--      is present and not blank;
--   2. otherwise the spelling seen most often in the denormalised facility_name of the current
--      (deduplicated, *_latest) encounters and bills; ties go to the spelling seen most recently
--      (updated_at), then to the alphabetically first.
-- Names are trimmed; blank names count as missing. Facility ids appear if they are in the master or
-- in encounters/bills with a name. name_source says which rule applied ('master' | 'observed');
-- observed_spellings counts the distinct spellings in encounters/bills (> 1: M19-style drift).
CREATE OR REPLACE VIEW {{ hims_masters }}.dim_facility AS
WITH master AS (
  SELECT "_id" AS facility_id, nullif(trim("name"), '') AS facility_name
  FROM {{ hims_masters }}.facilities_latest
  WHERE "_id" IS NOT NULL
),
seen AS (
  SELECT "facility_id" AS facility_id, nullif(trim("facility_name"), '') AS facility_name, "updated_at" AS seen_at
  FROM {{ hims_patient }}.encounters_latest
  UNION ALL
  SELECT "facility_id" AS facility_id, nullif(trim("facility_name"), '') AS facility_name, "updated_at" AS seen_at
  FROM {{ hims_billing }}.bills_latest
),
spellings AS (
  SELECT facility_id, facility_name, count(*) AS uses, max(seen_at) AS last_seen
  FROM seen
  WHERE facility_id IS NOT NULL AND facility_name IS NOT NULL
  GROUP BY facility_id, facility_name
),
ranked AS (
  SELECT
    facility_id,
    facility_name,
    count(*) OVER (PARTITION BY facility_id) AS observed_spellings,
    row_number() OVER (PARTITION BY facility_id ORDER BY uses DESC, last_seen DESC, facility_name ASC) AS rn
  FROM spellings
),
ids AS (
  SELECT facility_id FROM master
  UNION
  SELECT facility_id FROM spellings
)
SELECT
  ids.facility_id AS facility_id,
  coalesce(m.facility_name, r.facility_name) AS facility_name,
  CASE WHEN m.facility_name IS NOT NULL THEN 'master' ELSE 'observed' END AS name_source,
  coalesce(r.observed_spellings, 0) AS observed_spellings
FROM ids
LEFT JOIN master AS m ON m.facility_id = ids.facility_id
LEFT JOIN ranked AS r ON r.facility_id = ids.facility_id AND r.rn = 1
