-- inv_stock_expiry: stock on hand (value and quantity) by store and item category, and batches near
-- expiry or expired.
--
-- Grain: day × facility × store × item_category. The stock documents are current snapshots (one
-- per facility × item, replaced as stock moves), so `day` is the as-of day of the snapshot — the
-- newest updated_at among hims_inventory.stock_levels and hims_pharmacy.pharmacy_stock — the same for
-- every row; there is no stock history in the source.
-- Sources: hims_inventory.stock_levels_latest (MAIN store; category from hims_inventory.items_latest
-- by code) and hims_pharmacy.pharmacy_stock_latest (PHARMACY store; category from drug_master by code).
-- Each snapshot names its current batch and that batch's expiry_date.
-- stock_value is cast in each UNION branch: a text value in one collection (widened column) against a
-- double in the other is a type error on Athena/Trino (DuckDB would coerce silently).
-- Columns:
--   facility_id, facility_name, day (DATE, the as-of day)
--   store          VARCHAR  MAIN | PHARMACY (as recorded)
--   item_category  VARCHAR  items/drug master category ('unknown' if not found)
--   sku_count      BIGINT   items stocked (snapshots)
--   qty_on_hand    BIGINT   units
--   stock_value    DOUBLE   INR at cost
--   below_reorder_count BIGINT  items at or below their reorder level (below_reorder flag)
--   near_expiry_count BIGINT   items whose current batch expires within 90 days after the as-of day
--                              (0 < days ≤ 90), with stock on hand
--   near_expiry_value DOUBLE   their stock_value
--   expired_count  BIGINT   items whose current batch expired on or before the as-of day, with stock
--   expired_value  DOUBLE   their stock_value
CREATE OR REPLACE VIEW {{ analytics }}.inv_stock_expiry AS
WITH snap AS (
  SELECT s.facility_id, s.store, s.code, s.qty_on_hand, CAST(s.stock_value AS DOUBLE) AS stock_value, s.below_reorder,
         s.current_batch.expiry_date AS expiry, s.updated_at, i.category
  FROM {{ hims_inventory }}.stock_levels_latest AS s
  LEFT JOIN {{ hims_inventory }}.items_latest AS i ON i.code = s.code
  UNION ALL
  SELECT s.facility_id, s.store, s.code, s.qty_on_hand, CAST(s.stock_value AS DOUBLE), s.below_reorder,
         s.current_batch.expiry_date, s.updated_at, d.category
  FROM {{ hims_pharmacy }}.pharmacy_stock_latest AS s
  LEFT JOIN (SELECT drug_code, max(category) AS category FROM {{ hims_masters }}.drug_master_latest GROUP BY 1) AS d
    ON d.drug_code = s.code
),
as_of AS (
  SELECT CAST(max(updated_at) AS DATE) AS day FROM snap
),
classified AS (
  SELECT s.*, a.day,
         date_diff('day', a.day, CAST(s.expiry AS DATE)) AS days_to_expiry
  FROM snap AS s CROSS JOIN as_of AS a
  WHERE s.facility_id IS NOT NULL
)
SELECT
  c.facility_id,
  coalesce(f.facility_name, c.facility_id) AS facility_name,
  c.day,
  coalesce(c.store, 'unknown') AS store,
  coalesce(c.category, 'unknown') AS item_category,
  count(*) AS sku_count,
  CAST(coalesce(sum(c.qty_on_hand), 0) AS BIGINT) AS qty_on_hand,
  coalesce(sum(CAST(c.stock_value AS DOUBLE)), 0) AS stock_value,
  CAST(count_if(c.below_reorder) AS BIGINT) AS below_reorder_count,
  CAST(count_if(c.qty_on_hand > 0 AND c.days_to_expiry > 0 AND c.days_to_expiry <= 90) AS BIGINT) AS near_expiry_count,
  coalesce(sum(CASE WHEN c.qty_on_hand > 0 AND c.days_to_expiry > 0 AND c.days_to_expiry <= 90
                    THEN CAST(c.stock_value AS DOUBLE) END), 0) AS near_expiry_value,
  CAST(count_if(c.qty_on_hand > 0 AND c.days_to_expiry <= 0) AS BIGINT) AS expired_count,
  coalesce(sum(CASE WHEN c.qty_on_hand > 0 AND c.days_to_expiry <= 0 THEN CAST(c.stock_value AS DOUBLE) END), 0)
    AS expired_value
FROM classified AS c
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = c.facility_id
GROUP BY 1, 2, 3, 4, 5
