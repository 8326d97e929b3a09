-- Engagement (issue 17): reminders to non-readers, acknowledgements, polls, reactions.

-- `remind: 24h`: the automatic reminder's delay, when it falls due, and when an instance took it
-- (set once, by whoever takes it first).
ALTER TABLE broadcasts ADD COLUMN remind_after_minutes INTEGER;
ALTER TABLE broadcasts ADD COLUMN remind_at TIMESTAMP;
ALTER TABLE broadcasts ADD COLUMN reminded_at TIMESTAMP;
-- `ack: yes`: the card asks each recipient to acknowledge it.
ALTER TABLE broadcasts ADD COLUMN ack BOOLEAN NOT NULL DEFAULT FALSE;
-- `choices: Yes | No | Maybe`: the poll's choices, as a JSON array of strings (NULL: no poll).
ALTER TABLE broadcasts ADD COLUMN choices TEXT;
-- Only broadcasts whose automatic reminder is still to take: the reminder job looks every few
-- seconds, and every broadcast that ever had one would otherwise stay in its scan.
CREATE INDEX broadcasts_remind_due ON broadcasts (remind_at) WHERE reminded_at IS NULL;

-- Each reminder round of a broadcast (`broadcast remind`, or the automatic one).
CREATE TABLE broadcast_reminders (
    id TEXT PRIMARY KEY NOT NULL,
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    round INTEGER NOT NULL,
    automatic BOOLEAN NOT NULL,
    requested_by TEXT,
    created_at TIMESTAMP NOT NULL,
    queued INTEGER NOT NULL,
    UNIQUE (broadcast_id, round)
);

-- "I have read and understood", once per person.
CREATE TABLE broadcast_acks (
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    acked_at TIMESTAMP NOT NULL,
    PRIMARY KEY (broadcast_id, user_id)
);

-- A person's latest answer to a poll (the index of the choice), and how often they changed it.
CREATE TABLE broadcast_answers (
    broadcast_id TEXT NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    choice INTEGER NOT NULL,
    answered_at TIMESTAMP NOT NULL,
    changes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, user_id)
);

-- Reactions to herald's messages, per campaign or broadcast (`subject_kind`), person and type:
-- a person reacting twice with one type is one row; a removal deletes it.
CREATE TABLE message_reactions (
    subject_id TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    reaction TEXT NOT NULL,
    reacted_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subject_id, user_id, reaction)
);
