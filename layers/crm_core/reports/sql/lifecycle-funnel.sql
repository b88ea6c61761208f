-- lifecycle-funnel: the contacts (created between from and to) at each lifecycle stage, in the funnel's
-- order, and how many reached it (at it or at a later stage). Erased and archived contacts are left out.
WITH stages (stage, position) AS (
    VALUES
        ('subscriber', 1), ('lead', 2), ('mql', 3), ('sql', 4), ('opportunity', 5), ('customer', 6),
        ('evangelist', 7)
),
counted AS (
    SELECT s.stage, s.position, count(c.id) AS count
    FROM stages AS s
    LEFT JOIN contacts AS c
        ON c.lifecycle_stage = s.stage
        AND NOT c.archived
        AND NOT coalesce(c.erased, false)
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR c.owner_id = CAST(:owner_id AS VARCHAR))
        AND (CAST(:from AS DATE) IS NULL OR CAST(c.created_at AS DATE) >= CAST(:from AS DATE))
        AND (CAST(:to AS DATE) IS NULL OR CAST(c.created_at AS DATE) <= CAST(:to AS DATE))
    GROUP BY s.stage, s.position
)
SELECT
    stage,
    count,
    sum(count) OVER (ORDER BY position DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS reached
FROM counted
ORDER BY position
