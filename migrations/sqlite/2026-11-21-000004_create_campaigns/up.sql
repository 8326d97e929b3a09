-- Push campaigns: a personalised message spread over a window, within business hours.
CREATE TABLE campaigns (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    list_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    start_at TIMESTAMP NOT NULL,
    time_zone TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    hours TEXT NOT NULL,
    presence TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,
    seed BIGINT NOT NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    not_installed INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    UNIQUE (tenant_id, name_key)
);
CREATE INDEX campaigns_status_start ON campaigns (status, start_at);

-- List members who resolved to nobody installed when the campaign started.
CREATE TABLE campaign_not_installed (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (campaign_id, email)
);

-- A campaign delivery remembers its planned moment, its rung on the absence ladder and the
-- presence last seen.
ALTER TABLE deliveries ADD COLUMN planned_at TIMESTAMP;
ALTER TABLE deliveries ADD COLUMN ladder_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN presence TEXT;
