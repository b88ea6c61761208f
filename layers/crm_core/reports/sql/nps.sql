-- nps: the relationship surveys (0-10) answered between from and to, per month of the answer or per
-- campaign (group_by): how many answers (the latest of each survey), promoters (9-10), passives (7-8),
-- detractors (0-6), and the net promoter score: promoters' share minus detractors' share, in points.
SELECT
    CASE CAST(:group_by AS VARCHAR)
        WHEN 'campaign' THEN s.campaign_id
        ELSE substr(CAST(s.answered_at AS VARCHAR), 1, 7)
    END AS group_id,
    count(s.id) AS responses,
    count(CASE WHEN s.score >= 9 THEN s.id END) AS promoters,
    count(CASE WHEN s.score BETWEEN 7 AND 8 THEN s.id END) AS passives,
    count(CASE WHEN s.score <= 6 THEN s.id END) AS detractors,
    100.0 * (count(CASE WHEN s.score >= 9 THEN s.id END) - count(CASE WHEN s.score <= 6 THEN s.id END))
        / count(s.id) AS nps
FROM surveys AS s
WHERE s.kind = 'nps'
    AND s.score IS NOT NULL
    AND (CAST(:from AS DATE) IS NULL OR CAST(s.answered_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(s.answered_at AS DATE) <= CAST(:to AS DATE))
GROUP BY 1  -- the group's expression: its parameter is bound once per use
ORDER BY group_id
