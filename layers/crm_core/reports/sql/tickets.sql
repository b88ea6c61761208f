-- tickets: the tickets created between from and to, per priority, status, assignee or day of creation
-- (group_by): how many were created, how many of them are resolved (or closed after a resolution) and how
-- many are still open, and the median minutes to the first public reply and to the resolution.
WITH chosen AS (
    SELECT
        CASE CAST(:group_by AS VARCHAR)
            WHEN 'status' THEN t.status
            WHEN 'assignee' THEN t.assignee_id
            WHEN 'day' THEN CAST(CAST(t.created_at AS DATE) AS VARCHAR)
            ELSE t.priority
        END AS group_id,
        t.*
    FROM tickets AS t
    WHERE NOT t.archived
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR t.assignee_id = CAST(:owner_id AS VARCHAR))
        AND (CAST(:from AS DATE) IS NULL OR CAST(t.created_at AS DATE) >= CAST(:from AS DATE))
        AND (CAST(:to AS DATE) IS NULL OR CAST(t.created_at AS DATE) <= CAST(:to AS DATE))
),
waits AS (
    SELECT group_id, 'first_response' AS measure, date_diff('millisecond', created_at, first_responded_at) / 60000.0 AS minutes
    FROM chosen WHERE first_responded_at IS NOT NULL
    UNION ALL
    SELECT group_id, 'resolution' AS measure, date_diff('millisecond', created_at, resolved_at) / 60000.0 AS minutes
    FROM chosen WHERE resolved_at IS NOT NULL
),
ranked AS (
    SELECT
        group_id,
        measure,
        minutes,
        row_number() OVER (PARTITION BY group_id, measure ORDER BY minutes) AS position,
        count(*) OVER (PARTITION BY group_id, measure) AS total
    FROM waits
),
medians AS (  -- the middle value, or the mean of the two middle ones (portable: no median() in Trino)
    SELECT group_id, measure, avg(minutes) AS median_minutes
    FROM ranked
    WHERE position IN (floor((total + 1) / 2.0), floor((total + 2) / 2.0))
    GROUP BY group_id, measure
),
counts AS (
    SELECT
        group_id,
        count(id) AS created,
        count(resolved_at) AS resolved,
        count(CASE WHEN status IN ('new', 'open', 'pending') THEN id END) AS open
    FROM chosen
    GROUP BY group_id
)
SELECT
    c.group_id,
    c.created,
    c.resolved,
    c.open,
    f.median_minutes AS median_first_response_minutes,
    r.median_minutes AS median_resolution_minutes
FROM counts AS c
LEFT JOIN medians AS f ON f.group_id IS NOT DISTINCT FROM c.group_id AND f.measure = 'first_response'
LEFT JOIN medians AS r ON r.group_id IS NOT DISTINCT FROM c.group_id AND r.measure = 'resolution'
ORDER BY c.created DESC, c.group_id
