-- sla: the tickets created between from and to that an SLA policy applies to, per priority: how many met
-- their first response and resolution targets (done by the due time), how many breached them, and how many
-- are still within them (not done, not yet due).
SELECT
    t.priority,
    count(t.id) AS tickets,
    count(CASE WHEN NOT coalesce(t.sla_first_response_breached, false) AND t.first_responded_at IS NOT NULL
        THEN t.id END) AS first_response_met,
    count(CASE WHEN t.sla_first_response_breached THEN t.id END) AS first_response_breached,
    count(CASE WHEN NOT coalesce(t.sla_resolution_breached, false) AND t.resolved_at IS NOT NULL
        THEN t.id END) AS resolution_met,
    count(CASE WHEN t.sla_resolution_breached THEN t.id END) AS resolution_breached,
    count(CASE WHEN t.sla_first_response_breached OR t.sla_resolution_breached THEN t.id END) AS breached,
    count(CASE WHEN NOT coalesce(t.sla_first_response_breached OR t.sla_resolution_breached, false)
        AND t.resolved_at IS NOT NULL THEN t.id END) AS met
FROM tickets AS t
WHERE NOT t.archived
    AND (t.sla_first_response_due_at IS NOT NULL OR t.sla_resolution_due_at IS NOT NULL)
    AND (CAST(:from AS DATE) IS NULL OR CAST(t.created_at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(t.created_at AS DATE) <= CAST(:to AS DATE))
GROUP BY t.priority
ORDER BY CASE t.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END
