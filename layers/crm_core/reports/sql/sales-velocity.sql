-- sales-velocity: (open deals x average won amount x win rate) / average days to win, over the deals
-- closed between from and to (by the day they closed) and the deals open now.
WITH closed AS (
    SELECT
        count(CASE WHEN d.status = 'won' THEN d.id END) AS won_deals,
        count(CASE WHEN d.status = 'lost' THEN d.id END) AS lost_deals,
        avg(CASE WHEN d.status = 'won' THEN CAST(d.amount AS DOUBLE) END) AS average_won_amount,
        avg(
            CASE WHEN d.status = 'won'
                THEN CAST(date_diff('day', CAST(d.created_at AS DATE), CAST(d.closed_at AS DATE)) AS DOUBLE)
            END
        ) AS average_cycle_days
    FROM deals AS d
    WHERE NOT d.archived
        AND d.status IN ('won', 'lost')
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR d.owner_id = CAST(:owner_id AS VARCHAR))
        AND (CAST(:pipeline_id AS VARCHAR) IS NULL OR d.pipeline_id = CAST(:pipeline_id AS VARCHAR))
        AND (CAST(:from AS DATE) IS NULL OR CAST(d.closed_at AS DATE) >= CAST(:from AS DATE))
        AND (CAST(:to AS DATE) IS NULL OR CAST(d.closed_at AS DATE) <= CAST(:to AS DATE))
),
still_open AS (
    SELECT count(d.id) AS open_deals
    FROM deals AS d
    WHERE NOT d.archived
        AND d.status = 'open'
        AND (CAST(:owner_id AS VARCHAR) IS NULL OR d.owner_id = CAST(:owner_id AS VARCHAR))
        AND (CAST(:pipeline_id AS VARCHAR) IS NULL OR d.pipeline_id = CAST(:pipeline_id AS VARCHAR))
)
SELECT
    o.open_deals,
    c.won_deals,
    c.lost_deals,
    CASE WHEN c.won_deals + c.lost_deals > 0
        THEN CAST(c.won_deals AS DOUBLE) / (c.won_deals + c.lost_deals) END AS win_rate,
    c.average_won_amount,
    c.average_cycle_days,
    CASE WHEN c.won_deals > 0
        THEN o.open_deals * c.average_won_amount * (CAST(c.won_deals AS DOUBLE) / (c.won_deals + c.lost_deals))
            / greatest(c.average_cycle_days, 1.0)
    END AS velocity_per_day
FROM closed AS c
CROSS JOIN still_open AS o
