-- receivables-aging: what is unpaid of the instalments of contracts that are not drafts, per currency and
-- age bucket on :to (today by default): current (not yet past due), 1-30, 31-60, 61-90, 90+ days past due.
WITH aged AS (
    SELECT
        c.currency,
        c.amount - c.paid AS unpaid,
        date_diff('day', c.due_date, coalesce(CAST(:to AS DATE), current_date)) AS days_late
    FROM contracts AS c
    WHERE NOT c.archived
        AND c.status <> 'draft'
        AND c.amount > c.paid
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR c.owner_id = CAST(:owner_id AS VARCHAR))
),
bucketed AS (
    SELECT
        currency,
        unpaid,
        CASE
            WHEN days_late <= 0 THEN 0
            WHEN days_late <= 30 THEN 1
            WHEN days_late <= 60 THEN 2
            WHEN days_late <= 90 THEN 3
            ELSE 4
        END AS bucket_order
    FROM aged
)
SELECT
    CASE bucket_order WHEN 0 THEN 'current' WHEN 1 THEN '1-30' WHEN 2 THEN '31-60' WHEN 3 THEN '61-90'
        ELSE '90+' END AS bucket,
    currency,
    count(*) AS installments,
    sum(unpaid) AS outstanding
FROM bucketed
GROUP BY bucket_order, currency
ORDER BY bucket_order, currency
