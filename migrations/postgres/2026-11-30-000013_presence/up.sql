-- The last presence observed for a user (Graph's availability and activity) and when.
ALTER TABLE users ADD COLUMN presence_availability TEXT;
ALTER TABLE users ADD COLUMN presence_activity TEXT;
ALTER TABLE users ADD COLUMN presence_observed_at TIMESTAMP;
-- The user's zone as Graph gives it (mailbox settings, mapped to IANA) and when it was asked.
ALTER TABLE users ADD COLUMN mailbox_time_zone TEXT;
ALTER TABLE users ADD COLUMN mailbox_time_zone_at TIMESTAMP;

-- `time: local`: start, window and business hours in each recipient's own zone; how many
-- recipients had no known zone and fell back to the campaign's.
ALTER TABLE campaigns ADD COLUMN local_time BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE campaigns ADD COLUMN zone_fallbacks INTEGER NOT NULL DEFAULT 0;
-- The zone a delivery's moment was drawn in (a campaign in local time).
ALTER TABLE deliveries ADD COLUMN planned_zone TEXT;
ALTER TABLE deliveries ADD COLUMN presence_activity TEXT;

-- Microsoft Graph change-notification subscriptions to installed users' presence (at most 650
-- users each). `users` is a JSON array of Entra object ids.
CREATE TABLE presence_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    client_state TEXT NOT NULL,
    users TEXT NOT NULL,
    user_count INTEGER NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    renewed_at TIMESTAMP NOT NULL
);
CREATE INDEX presence_subscriptions_tenant ON presence_subscriptions (tenant_id);

-- Work only one instance does at a time (managing presence subscriptions): who holds it until when.
CREATE TABLE duties (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    acquired_at TIMESTAMP NOT NULL
);
