-- Secrets herald generates and every instance shares (the tracking signing key).
CREATE TABLE app_secrets (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The links of a message, numbered in order of appearance: a tracked link's token names the
-- delivery and the number; the target is read here, never from the token.
CREATE TABLE tracked_links (
    message_id TEXT NOT NULL REFERENCES outbound_messages (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (message_id, idx)
);

-- Clicks per delivery and link: the first, the last, how many.
CREATE TABLE link_clicks (
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    first_at TIMESTAMP NOT NULL,
    last_at TIMESTAMP NOT NULL,
    clicks INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, idx)
);

-- When a delivery was last actually tried (sent, failed, or found absent).
ALTER TABLE deliveries ADD COLUMN last_attempt_at TIMESTAMP;

-- Campaign messages read (Teams read receipts), once per person.
CREATE TABLE campaign_reads (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    read_at TIMESTAMP NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (campaign_id, user_id)
);
