-- bookings: the value of contracts that are not drafts, per month of their start date, owner and currency
-- (docs/decisions/0030). A contract is one row per instalment: its first row stands for it.
SELECT
    substr(CAST(c.start_date AS VARCHAR), 1, 7) AS period,
    c.owner_id,
    c.currency,
    count(c.id) AS contracts,
    sum(c.value) AS value
FROM contracts AS c
WHERE NOT c.archived
    AND c.position = 0
    AND c.status <> 'draft'
    AND (CAST(:owner_id AS VARCHAR) IS NULL OR c.owner_id = CAST(:owner_id AS VARCHAR))
    AND (CAST(:from AS DATE) IS NULL OR c.start_date >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR c.start_date <= CAST(:to AS DATE))
GROUP BY substr(CAST(c.start_date AS VARCHAR), 1, 7), c.owner_id, c.currency
ORDER BY period, c.owner_id, c.currency
