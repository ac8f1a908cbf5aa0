-- fin_pharmacy_sales: pharmacy counter sales and returns by drug category.
--
-- Grain: day × facility × sale_type × drug_category.
-- Sources: hims_pharmacy.pharmacy_sales_latest (one row per sale line, day = created_at),
-- hims_pharmacy.pharmacy_returns_latest (day = created_at of the return), the drug category from
-- hims_masters.drug_master_latest by drug_code.
-- Columns:
--   facility_id, facility_name, day
--   sale_type        VARCHAR  OP (against a prescription) | OTC; a return takes its sale's type
--                             ('unknown' when the sale is not in the lake)
--   drug_category    VARCHAR  drug master category (analgesic, antibiotic, ...); 'unknown' if not in it
--   sale_count       BIGINT   sales, each counted ONCE on the row of its largest line (ties: first line)
--   sold_qty         BIGINT   units sold
--   gross_sales_amount DOUBLE INR at MRP (sum of line amounts)
--   net_sales_amount DOUBLE   INR, the sale's net_amount spread over its lines pro rata to amount
--                             (Decimal128 from the new POS on MongoDB → double; M17)
--   return_count     BIGINT   return documents
--   returned_qty     BIGINT   units returned
--   return_amount    DOUBLE   INR refunded for returns
--   net_after_returns_amount DOUBLE  net_sales_amount − return_amount
CREATE OR REPLACE VIEW {{ analytics }}.fin_pharmacy_sales AS
WITH drugs AS (
  SELECT drug_code, max(category) AS drug_category
  FROM {{ hims_masters }}.drug_master_latest
  GROUP BY drug_code
),
sale_lines AS (
  SELECT
    s.facility_id,
    CAST(s.created_at AS DATE) AS day,
    coalesce(s.sale_type, 'unknown') AS sale_type,
    s.items[n].drug_code AS drug_code,
    CAST(s.items[n].qty AS BIGINT) AS qty,
    CAST(s.items[n].amount AS DOUBLE) AS amount,
    CASE WHEN CAST(s.gross_amount AS DOUBLE) > 0
         THEN CAST(s.net_amount AS DOUBLE) * CAST(s.items[n].amount AS DOUBLE) / CAST(s.gross_amount AS DOUBLE)
         ELSE CAST(s.net_amount AS DOUBLE) / cardinality(s.items) END AS net_amount,
    row_number() OVER (PARTITION BY s."_id" ORDER BY CAST(s.items[n].amount AS DOUBLE) DESC, n ASC) AS line_rank
  FROM {{ hims_pharmacy }}.pharmacy_sales_latest AS s
  CROSS JOIN UNNEST(sequence(1, cardinality(s.items))) AS t(n)
  WHERE s.facility_id IS NOT NULL AND cardinality(s.items) > 0
),
movements AS (
  SELECT facility_id, day, sale_type, drug_code,
         CASE WHEN line_rank = 1 THEN 1 ELSE 0 END AS sale_count, qty AS sold_qty, amount AS gross_sales_amount,
         net_amount AS net_sales_amount, 0 AS return_count, CAST(0 AS BIGINT) AS returned_qty,
         CAST(0 AS DOUBLE) AS return_amount
  FROM sale_lines
  UNION ALL
  SELECT r.facility_id, CAST(r.created_at AS DATE), coalesce(s.sale_type, 'unknown'), r.drug_code,
         0, CAST(0 AS BIGINT), CAST(0 AS DOUBLE), CAST(0 AS DOUBLE), 1, CAST(r.qty AS BIGINT),
         CAST(r.refund_amount AS DOUBLE)
  FROM {{ hims_pharmacy }}.pharmacy_returns_latest AS r
  LEFT JOIN {{ hims_pharmacy }}.pharmacy_sales_latest AS s ON s."_id" = r.sale_id
  WHERE r.facility_id IS NOT NULL
)
SELECT
  m.facility_id,
  coalesce(f.facility_name, m.facility_id) AS facility_name,
  m.day,
  m.sale_type,
  coalesce(d.drug_category, 'unknown') AS drug_category,
  CAST(sum(m.sale_count) AS BIGINT) AS sale_count,
  CAST(sum(m.sold_qty) AS BIGINT) AS sold_qty,
  sum(m.gross_sales_amount) AS gross_sales_amount,
  sum(m.net_sales_amount) AS net_sales_amount,
  CAST(sum(m.return_count) AS BIGINT) AS return_count,
  CAST(sum(m.returned_qty) AS BIGINT) AS returned_qty,
  sum(m.return_amount) AS return_amount,
  sum(m.net_sales_amount) - sum(m.return_amount) AS net_after_returns_amount
FROM movements AS m
LEFT JOIN drugs AS d ON d.drug_code = m.drug_code
LEFT JOIN {{ hims_masters }}.dim_facility AS f ON f.facility_id = m.facility_id
GROUP BY 1, 2, 3, 4, 5
