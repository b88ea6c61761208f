-- activities: the activities created between from and to, per type or per owner (group_by): how many,
-- how many completed, how many still open.
SELECT
    CASE CAST(:group_by AS VARCHAR) WHEN 'owner' THEN a.owner_id ELSE a.type END AS group_id,
    count(a.id) AS count,
    count(a.completed_at) AS completed,
    count(a.id) - count(a.completed_at) AS open
FROM activities AS a
WHERE NOT a.archived
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR a.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR CAST(a.created_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(a.created_at AS DATE) <= CAST(:to AS DATE))
GROUP BY 1  -- the group's expression: its parameter is bound once per use
ORDER BY count DESC, group_id
