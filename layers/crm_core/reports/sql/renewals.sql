-- renewals: contracts ending per month of their end date and currency (active or expired: not drafts, not
-- terminated), their value, and how many have been renewed (another contract's renewed_from names them).
SELECT
    substr(CAST(c.end_date AS VARCHAR), 1, 7) AS period,
    c.currency,
    count(c.id) AS contracts,
    sum(c.value) AS value,
    count(r.renewed_from) AS renewed
FROM contracts AS c
LEFT JOIN (
    SELECT DISTINCT n.renewed_from
    FROM contracts AS n
    WHERE NOT n.archived AND n.position = 0 AND n.renewed_from IS NOT NULL
) AS r ON r.renewed_from = c.id
WHERE NOT c.archived
    AND c.position = 0
    AND c.status IN ('active', 'expired')
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR c.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR c.end_date >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR c.end_date <= CAST(:to AS DATE))
GROUP BY substr(CAST(c.end_date AS VARCHAR), 1, 7), c.currency
ORDER BY period, c.currency
