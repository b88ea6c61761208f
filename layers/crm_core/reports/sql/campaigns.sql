-- campaigns: per campaign, its latest counters (the exporter's snapshot of its stats after its latest
-- campaign or email events): recipients, sent, delivered, bounced, opened, clicked, unsubscribed,
-- converted and revenue, with the open and click rates of what was delivered. from and to filter on the
-- day of the snapshot (a campaign with events in the period).
SELECT
    s.id AS campaign_id,
    s.recipients,
    s.sent,
    s.delivered,
    s.bounced,
    s.opened,
    s.clicked,
    s.unsubscribed,
    s.converted,
    s.revenue,
    s.currency,
    CASE WHEN s.delivered > 0 THEN CAST(s.opened AS DOUBLE) / s.delivered END AS open_rate,
    CASE WHEN s.delivered > 0 THEN CAST(s.clicked AS DOUBLE) / s.delivered END AS click_rate
FROM campaign_stats AS s
WHERE (CAST(:from AS DATE) IS NULL OR CAST(s.changed_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(s.changed_at AS DATE) <= CAST(:to AS DATE))
ORDER BY s.sent DESC, s.id
