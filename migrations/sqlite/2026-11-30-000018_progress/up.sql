-- Live progress (issue 18): the sender's card of a broadcast, and the author's card of a
-- campaign that started, updated in place while it goes out. One row per card, keyed by what it
-- follows; the state lives here so updates survive a restart and one instance makes each.
CREATE TABLE progress_cards (
    -- `broadcast` or `campaign`.
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    -- Whose chat the card is in.
    user_id TEXT NOT NULL REFERENCES users (id),
    -- `en` or `fr`.
    lang TEXT NOT NULL,
    -- The paragraphs above the live part, as the card first showed them (JSON array of text).
    intro TEXT NOT NULL,
    -- The connector's id of the card (NULL: not posted yet).
    activity_id TEXT,
    posted_at TIMESTAMP,
    -- When the card may next change: the claim of whoever updates it (compare and set).
    next_update_at TIMESTAMP NOT NULL,
    last_update_at TIMESTAMP,
    updates INTEGER NOT NULL DEFAULT 0,
    -- The figures the card last showed (JSON), to tell a change.
    last_state TEXT,
    -- Set once the final state is shown (or the card can no longer be updated: `failure`).
    finished_at TIMESTAMP,
    failure TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
-- The progress job looks every second for the cards due.
CREATE INDEX progress_cards_due ON progress_cards (next_update_at) WHERE finished_at IS NULL;
