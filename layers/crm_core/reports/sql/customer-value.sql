-- customer-value: per company with won deals, its lifetime won revenue, how recently it last bought
-- (days since its newest won deal closed), how often (won deals), and a tier: A for the companies that
-- make the first 80 % of all won revenue (largest first), B for the next 15 %, C for the rest.
WITH revenue AS (
    SELECT
        d.company_id,
        sum(d.amount) AS revenue,
        count(d.id) AS won_deals,
        max(d.closed_at) AS last_won_at
    FROM deals AS d
    JOIN companies AS co ON co.id = d.company_id AND NOT co.archived
    WHERE NOT d.archived
        AND d.status = 'won'
        AND d.amount IS NOT NULL
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR co.owner_id = CAST(:owner_id AS VARCHAR))
    GROUP BY d.company_id
),
ranked AS (
    SELECT
        r.*,
        coalesce(
            sum(r.revenue) OVER (
                ORDER BY r.revenue DESC, r.company_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ),
            0
        ) AS revenue_before,
        sum(r.revenue) OVER () AS total_revenue
    FROM revenue AS r
)
SELECT
    company_id,
    revenue,
    won_deals,
    last_won_at,
    date_diff('day', CAST(last_won_at AS DATE), current_date) AS recency_days,
    CASE
        WHEN revenue_before < 0.8 * total_revenue THEN 'A'
        WHEN revenue_before < 0.95 * total_revenue THEN 'B'
        ELSE 'C'
    END AS tier
FROM ranked
ORDER BY revenue DESC, company_id
LIMIT 1000
