-- usage: the tenant's metered use per UTC day between from and to (docs/decisions/0026): API calls and the
-- DynamoDB read and write units they consumed, events published, emails sent, and the storage measured
-- that day (the day's last measure). The same rows answer /v1/usage, which adds the days without any.
SELECT
    CAST(CAST(u.at AS DATE) AS VARCHAR) AS date,
    count(CASE WHEN u.kind = 'api' THEN 1 END) AS api_calls,
    coalesce(sum(CASE WHEN u.kind = 'api' THEN u.read_units END), 0) AS read_units,
    coalesce(sum(CASE WHEN u.kind = 'api' THEN u.write_units END), 0) AS write_units,
    coalesce(sum(CASE WHEN u.kind = 'event' THEN u.quantity END), 0) AS events,
    coalesce(sum(CASE WHEN u.kind = 'email' THEN u.quantity END), 0) AS emails,
    coalesce(max_by(CASE WHEN u.kind = 'storage' THEN u.quantity END, CASE WHEN u.kind = 'storage' THEN u.at END), 0)
        AS storage_bytes
FROM usage AS u
WHERE (CAST(:from AS DATE) IS NULL OR CAST(u.at AS DATE) >= CAST(:from AS DATE))
    AND (CAST(:to AS DATE) IS NULL OR CAST(u.at AS DATE) <= CAST(:to AS DATE))
GROUP BY 1
ORDER BY date
