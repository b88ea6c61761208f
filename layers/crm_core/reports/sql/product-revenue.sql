-- product-revenue: per product and currency, the quotes accepted between from and to (the day they were
-- accepted): quantity sold, net revenue (the lines' amounts after discount, before tax) and how many quotes
-- (docs/decisions/0032). A quote is one row per line; lines without a product are left out.
SELECT
    q.product_id,
    q.currency,
    sum(q.quantity) AS quantity,
    sum(q.net_amount) AS revenue,
    count(DISTINCT q.id) AS quotes
FROM quote_lines AS q
WHERE NOT q.archived
    AND q.status = 'accepted'
    AND q.product_id IS NOT NULL
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR q.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR CAST(q.accepted_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(q.accepted_at AS DATE) <= CAST(:to AS DATE))
GROUP BY q.product_id, q.currency
ORDER BY revenue DESC, q.product_id, q.currency
