-- Recurring campaigns (issue 18): `repeat:` makes each occurrence a run of its own.

-- A repeating campaign (the series): the campaign the admin named, which is also its first run.
-- `rule` is a 5-field cron expression or daily / weekly / monthly; `stopped_at` is set by
-- `campaign stop` (no further run).
CREATE TABLE campaign_repeats (
    campaign_id TEXT PRIMARY KEY NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    rule TEXT NOT NULL,
    stopped_at TIMESTAMP,
    stopped_by TEXT
);

-- Each run of a series: a campaign row of its own (its window, audience, deliveries and report),
-- numbered from 1 (the series' own row). Runs after the first are hidden from `campaigns`.
CREATE TABLE campaign_runs (
    campaign_id TEXT PRIMARY KEY NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    series_id TEXT NOT NULL REFERENCES campaign_repeats (campaign_id) ON DELETE CASCADE,
    run INTEGER NOT NULL,
    UNIQUE (series_id, run)
);
