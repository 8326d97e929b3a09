-- Scheduled broadcasts (issue 18): a broadcast recorded now (it has its number) and held back
-- until it is released: at its `send:` time by the engine, or explicitly (a later feature, such
-- as approval, releases what it held). One row per held broadcast; the row stays once released
-- or cancelled, saying what became of it.
CREATE TABLE broadcast_holds (
    broadcast_id TEXT PRIMARY KEY NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    -- When it goes by itself (UTC); NULL: only when released explicitly.
    send_at TIMESTAMP,
    -- The zone the time was given in, to show it back as it was typed.
    time_zone TEXT NOT NULL,
    -- What else it waits for besides its time (NULL: nothing); the engine releases only holds
    -- that wait for nothing else.
    awaiting TEXT,
    held_at TIMESTAMP NOT NULL,
    held_by TEXT NOT NULL,
    -- The instance releasing it, until when (taken once across instances).
    taken_by TEXT,
    taken_until TIMESTAMP,
    -- Once released: when, and what came of it (`sent`, `nobody`, `unresolved`).
    released_at TIMESTAMP,
    outcome TEXT,
    -- Cancelled before it went (`broadcast delete`): nothing is ever sent.
    cancelled_at TIMESTAMP,
    cancelled_by TEXT
);
-- Only holds still open: the engine looks every second.
CREATE INDEX broadcast_holds_due ON broadcast_holds (send_at)
    WHERE released_at IS NULL AND cancelled_at IS NULL;
