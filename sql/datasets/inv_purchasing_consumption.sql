-- inv_purchasing_consumption: purchase orders, goods received and stock consumed, by item category
-- and vendor.
--
-- Grain: day × facility × flow × item_category × vendor_name.
--   flow 'purchase_order'  hims_inventory.purchase_orders_latest lines, day = created_at
--   flow 'goods_receipt'   hims_inventory.goods_receipts_latest lines, day = created_at (received)
--   flow 'consumption'     hims_inventory.stock_ledger_latest rows of the MAIN store with txn_type
--                          'issue' (to departments against material requests), day = txn_at;
--                          vendor_name = 'n/a'
-- Category from hims_inventory.items_latest by item_code; vendor from hims_inventory.vendors_latest.
-- Columns:
--   facility_id, facility_name, day, flow VARCHAR, item_category VARCHAR, vendor_name VARCHAR
--   document_count BIGINT  POs / GRNs / ledger rows, each document counted ONCE on its first line
--   line_count     BIGINT  lines
--   qty            BIGINT  units ordered / accepted (received − rejected) / issued (positive)
--   rejected_qty   BIGINT  units rejected at receipt (goods_receipt only)
--   amount         DOUBLE  INR: PO line amount before tax / — (0 for receipts: GRN lines carry no
--                          rate) / issued value at cost (|ledger value|)
CREATE OR REPLACE VIEW {{ analytics }}.inv_purchasing_consumption AS
WITH flows AS (
  SELECT po.facility_id, CAST(po.created_at AS DATE) AS day, 'purchase_order' AS flow, po.lines[n].item_code AS item_code,
         po.vendor_id, CASE WHEN n = 1 THEN 1 ELSE 0 END AS doc, CAST(po.lines[n].qty AS BIGINT) AS qty,
         CAST(0 AS BIGINT) AS rejected_qty, CAST(po.lines[n].amount AS DOUBLE) AS amount
  FROM {{ hims_inventory }}.purchase_orders_latest AS po
  CROSS JOIN UNNEST(sequence(1, cardinality(po.lines))) AS x(n)
  WHERE cardinality(po.lines) > 0
  UNION ALL
  SELECT g.facility_id, CAST(g.created_at AS DATE), 'goods_receipt', g.lines[n].item_code, g.vendor_id,
         CASE WHEN n = 1 THEN 1 ELSE 0 END, CAST(g.lines[n].qty - coalesce(g.lines[n].rejected, 0) AS BIGINT),
         CAST(coalesce(g.lines[n].rejected, 0) AS BIGINT), CAST(0 AS DOUBLE)
  FROM {{ hims_inventory }}.goods_receipts_latest AS g
  CROSS JOIN UNNEST(sequence(1, cardinality(g.lines))) AS x(n)
  WHERE cardinality(g.lines) > 0
  UNION ALL
  SELECT facility_id, CAST(txn_at AS DATE), 'consumption', item_code, CAST(NULL AS VARCHAR), 1,
         CAST(abs(qty) AS BIGINT), CAST(0 AS BIGINT), abs(CAST(value AS DOUBLE))
  FROM {{ hims_inventory }}.stock_ledger_latest
  WHERE store = 'MAIN' AND txn_type = 'issue'
)
SELECT
  fl.facility_id,
  coalesce(f.facility_name, fl.facility_id) AS facility_name,
  fl.day,
  fl.flow,
  coalesce(i.category, 'unknown') AS item_category,
  CASE WHEN fl.flow = 'consumption' THEN 'n/a' ELSE coalesce(v.name, fl.vendor_id, 'unknown') END AS vendor_name,
  CAST(sum(fl.doc) AS BIGINT) AS document_count,
  count(*) AS line_count,
  CAST(coalesce(sum(fl.qty), 0) AS BIGINT) AS qty,
  CAST(coalesce(sum(fl.rejected_qty), 0) AS BIGINT) AS rejected_qty,
  coalesce(sum(fl.amount), 0) AS amount
FROM flows AS fl
LEFT JOIN {{ hims_inventory }}.items_latest AS i ON i.code = fl.item_code
LEFT JOIN {{ hims_inventory }}.vendors_latest AS v ON v."_id" = fl.vendor_id
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = fl.facility_id
WHERE fl.facility_id IS NOT NULL AND fl.day IS NOT NULL
GROUP BY 1, 2, 3, 4, 5, 6
