-- Entra ID groups named in a list: resolved to their transitive members when a campaign or
-- broadcast starts (and when the list is shown).
CREATE TABLE list_groups (
    list_id TEXT NOT NULL REFERENCES distribution_lists (id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    mail TEXT,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (list_id, group_id)
);

-- A user herald installed the app for through Graph (proactive install).
ALTER TABLE users ADD COLUMN installed_by_herald BOOLEAN NOT NULL DEFAULT FALSE;

-- Install the app for recipients who lack it (`install: yes`).
ALTER TABLE campaigns ADD COLUMN install BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE broadcasts ADD COLUMN install BOOLEAN NOT NULL DEFAULT FALSE;

-- Why a recipient was not reached because herald is not installed for them (Graph's reason
-- when an install was refused).
ALTER TABLE campaign_not_installed ADD COLUMN reason TEXT;
ALTER TABLE broadcast_not_installed ADD COLUMN reason TEXT;

-- Conversations re-created for this delivery after the chat was gone, and resends asked for.
ALTER TABLE deliveries ADD COLUMN repairs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
