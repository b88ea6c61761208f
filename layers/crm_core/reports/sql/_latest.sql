-- The latest version of each record of one object, from its change log (docs/decisions/0020): every
-- report reads an object through this, written once for both engines. {source} is the tenant's rows only
-- (the code puts it in: the tenant's partition files locally, the tenant's partition on Athena); {row_key}
-- names one row of a version (a pipeline has a row per stage). A row written twice (a micro-batch that was
-- retried) is read once.
SELECT * FROM (
    SELECT
        c.*,
        dense_rank() OVER (PARTITION BY c.id ORDER BY c.version DESC) AS version_rank,
        row_number() OVER (PARTITION BY c.id, c.version, c.{row_key} ORDER BY c.changed_at) AS copy_rank
    FROM {source} AS c
) AS ranked
WHERE version_rank = 1 AND copy_rank = 1
