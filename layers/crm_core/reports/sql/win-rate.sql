-- win-rate: the deals closed (won or lost) between from and to (by the day they closed), per owner or
-- per pipeline (group_by): how many were won and lost, the share won, the amount won.
SELECT
    CASE CAST(:group_by AS VARCHAR) WHEN 'pipeline' THEN d.pipeline_id ELSE d.owner_id END AS group_id,
    count(CASE WHEN d.status = 'won' THEN d.id END) AS won,
    count(CASE WHEN d.status = 'lost' THEN d.id END) AS lost,
    CAST(count(CASE WHEN d.status = 'won' THEN d.id END) AS DOUBLE) / count(d.id) AS win_rate,
    coalesce(sum(CASE WHEN d.status = 'won' THEN d.amount END), 0) AS won_amount
FROM deals AS d
WHERE NOT d.archived
    AND d.status IN ('won', 'lost')
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR d.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:pipeline_id AS VARCHAR) IS NULL OR d.pipeline_id = CAST(:pipeline_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR CAST(d.closed_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(d.closed_at AS DATE) <= CAST(:to AS DATE))
GROUP BY 1  -- the group's expression: its parameter is bound once per use
ORDER BY won DESC, group_id
