-- Four-eyes approval (issue 18): what an admin sends waits here for an approver's decision.
-- A campaign waits as its own row (status `awaiting approval`); a broadcast is held here, as
-- the request its author typed (`held`, JSON), until it is approved and sent.
CREATE TABLE approvals (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL,
    -- `campaign` or `broadcast`.
    subject TEXT NOT NULL,
    campaign_id TEXT REFERENCES campaigns (id) ON DELETE CASCADE,
    held TEXT,
    -- The campaign's name or the broadcast's subject, as the author wrote it.
    title TEXT NOT NULL,
    author_id TEXT NOT NULL REFERENCES users (id),
    -- Who the audit log names for the author.
    author_actor TEXT NOT NULL,
    -- Approvers the card went to.
    asked INTEGER NOT NULL,
    -- `pending`, `approved`, `rejected` or `superseded`; only a pending one is decided, once.
    status TEXT NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_by_name TEXT,
    reason TEXT,
    decided_at TIMESTAMP,
    -- What the approval came to (`broadcast #3`, `start passed`), for the audit log.
    outcome TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX approvals_campaign ON approvals (campaign_id);
CREATE INDEX approvals_tenant ON approvals (tenant_id, created_at);
