-- _billing: the tenant's metered use between from and to (a calendar month so far), for the operator's monthly
-- billing export (crm_core.services.billing): the same measures as the usage report, summed over the range,
-- with the storage the range's last measure holds.
SELECT
    count(CASE WHEN u.kind = 'api' THEN 1 END) AS api_calls,
    coalesce(sum(CASE WHEN u.kind = 'api' THEN u.read_units END), 0) AS read_units,
    coalesce(sum(CASE WHEN u.kind = 'api' THEN u.write_units END), 0) AS write_units,
    coalesce(sum(CASE WHEN u.kind = 'event' THEN u.quantity END), 0) AS events,
    coalesce(sum(CASE WHEN u.kind = 'email' THEN u.quantity END), 0) AS emails,
    coalesce(max_by(CASE WHEN u.kind = 'storage' THEN u.quantity END, CASE WHEN u.kind = 'storage' THEN u.at END), 0)
        AS storage_bytes,
    CAST(max(u.at) AS VARCHAR) AS last_at
FROM usage AS u
WHERE CAST(u.at AS DATE) >= CAST(:from AS DATE)
    AND CAST(u.at AS DATE) <= CAST(:to AS DATE)
