-- csat: the satisfaction surveys of resolved tickets answered between from and to, per month of the
-- answer: how many answers (the latest of each survey), their average score (1-5), how many satisfied
-- (4 or 5) and the CSAT score, the satisfied share in percent.
SELECT
    substr(CAST(s.answered_at AS VARCHAR), 1, 7) AS period,
    count(s.id) AS responses,
    avg(CAST(s.score AS DOUBLE)) AS average_score,
    count(CASE WHEN s.score >= 4 THEN s.id END) AS satisfied,
    100.0 * count(CASE WHEN s.score >= 4 THEN s.id END) / count(s.id) AS csat
FROM surveys AS s
WHERE s.kind = 'csat'
    AND s.score IS NOT NULL
    AND (CAST(:from AS DATE) IS NULL OR CAST(s.answered_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(s.answered_at AS DATE) <= CAST(:to AS DATE))
GROUP BY substr(CAST(s.answered_at AS VARCHAR), 1, 7)
ORDER BY period
