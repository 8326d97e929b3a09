-- Broadcasts: a subject and body sent now to a list or everyone installed, one card each.
CREATE TABLE broadcasts (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    -- What admins type: `broadcast info 3`. Numbered per tenant.
    number INTEGER NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    -- NULL: everyone installed in the tenant.
    list_id TEXT,
    audience TEXT NOT NULL,
    sender_id TEXT NOT NULL REFERENCES users (id),
    sender_name TEXT NOT NULL,
    targeted INTEGER NOT NULL DEFAULT 0,
    not_installed INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    recalled_at TIMESTAMP,
    recalled_by TEXT,
    -- The admin who recalled it (a user), told when the recall is done.
    recalled_by_user TEXT,
    recall_reported_at TIMESTAMP,
    UNIQUE (tenant_id, number)
);

-- The outbound messages of a broadcast: its card per language (`card`), and the card that
-- replaces it once read (`read`).
CREATE TABLE broadcast_messages (
    message_id TEXT NOT NULL PRIMARY KEY REFERENCES outbound_messages (id) ON DELETE CASCADE,
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    lang TEXT NOT NULL
);
CREATE INDEX broadcast_messages_broadcast ON broadcast_messages (broadcast_id);

-- List members who resolved to nobody installed when the broadcast was sent.
CREATE TABLE broadcast_not_installed (
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, email)
);

-- A read, once per recipient: from the card's button or a Teams read receipt.
CREATE TABLE broadcast_reads (
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    read_at TIMESTAMP NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (broadcast_id, user_id)
);

-- A reply thread: one per (broadcast, recipient), between the recipient and the sender.
CREATE TABLE relay_threads (
    id TEXT NOT NULL PRIMARY KEY,
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    recipient_id TEXT NOT NULL REFERENCES users (id),
    sender_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (broadcast_id, recipient_id)
);

-- What was said in a thread, each relayed as an outbound message.
CREATE TABLE relay_messages (
    id INTEGER PRIMARY KEY,
    thread_id TEXT NOT NULL REFERENCES relay_threads (id) ON DELETE CASCADE,
    direction TEXT NOT NULL,
    text TEXT NOT NULL,
    message_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX relay_messages_thread ON relay_messages (thread_id);
CREATE INDEX relay_threads_recipient ON relay_threads (recipient_id, updated_at);
