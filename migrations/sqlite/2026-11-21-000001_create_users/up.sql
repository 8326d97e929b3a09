-- Everyone the bot has seen install it, with the conversation reference needed to reach them.
CREATE TABLE users (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    channel_user_id TEXT NOT NULL,
    aad_object_id TEXT,
    bot_id TEXT NOT NULL,
    service_url TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    display_name TEXT,
    given_name TEXT,
    surname TEXT,
    email TEXT,
    user_principal_name TEXT,
    locale TEXT,
    time_zone TEXT,
    installed BOOLEAN NOT NULL,
    installed_changed_at TIMESTAMP NOT NULL,
    not_installed_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, channel_id, channel_user_id)
);
CREATE INDEX users_tenant_email ON users (tenant_id, email);
CREATE INDEX users_tenant_upn ON users (tenant_id, user_principal_name);

-- Inbound activities already handled, so a redelivered activity is processed once.
CREATE TABLE inbound_activities (
    channel_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (channel_id, conversation_id, activity_id)
) WITHOUT ROWID;
CREATE INDEX inbound_activities_received_at ON inbound_activities (received_at);
