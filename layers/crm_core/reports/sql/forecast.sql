-- forecast: per month of close date, the open deals (count, amount, amount weighted by their stage's
-- probability) and the amount already won. Lost deals are left out.
SELECT
    substr(CAST(d.close_date AS VARCHAR), 1, 7) AS period,
    count(CASE WHEN d.status = 'open' THEN d.id END) AS open_count,
    coalesce(sum(CASE WHEN d.status = 'open' THEN d.amount END), 0) AS open_amount,
    coalesce(sum(CASE WHEN d.status = 'open' THEN d.amount * coalesce(p.probability, 0) END), 0)
        AS weighted_amount,
    coalesce(sum(CASE WHEN d.status = 'won' THEN d.amount END), 0) AS won_amount
FROM deals AS d
LEFT JOIN pipelines AS p ON p.id = d.pipeline_id AND p.stage_id = d.stage_id
WHERE NOT d.archived
    AND d.close_date IS NOT NULL
    AND d.status IN ('open', 'won')
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR d.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:pipeline_id AS VARCHAR) IS NULL OR d.pipeline_id = CAST(:pipeline_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR d.close_date >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR d.close_date <= CAST(:to AS DATE))
GROUP BY substr(CAST(d.close_date AS VARCHAR), 1, 7)
ORDER BY period
