-- pipeline: the deals of each stage (count, amount, amount weighted by the stage's probability), stages in
-- their pipeline's order. Deals filtered by owner and by close date (from, to: inclusive).
SELECT
    p.id AS pipeline_id,
    p.name AS pipeline_name,
    p.stage_id,
    p.stage_name,
    p.stage_kind,
    p.position,
    count(d.id) AS count,
    coalesce(sum(d.amount), 0) AS amount,
    coalesce(sum(d.amount * p.probability), 0) AS weighted_amount
FROM pipelines AS p
LEFT JOIN deals AS d
    ON d.pipeline_id = p.id
    AND d.stage_id = p.stage_id
    AND NOT d.archived
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR d.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR d.close_date >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR d.close_date <= CAST(:to AS DATE))
WHERE NOT p.archived
    AND (CAST(:pipeline_id AS VARCHAR) IS NULL OR p.id = CAST(:pipeline_id AS VARCHAR))
GROUP BY p.id, p.name, p.stage_id, p.stage_name, p.stage_kind, p.position
ORDER BY p.id, p.position
