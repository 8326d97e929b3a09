-- Distribution lists: named sets of emails or UPNs, resolved to users at send time.
CREATE TABLE distribution_lists (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, name_key)
);

CREATE TABLE list_members (
    list_id TEXT NOT NULL REFERENCES distribution_lists (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (list_id, email)
);

-- Every admin action and every refusal.
CREATE TABLE audit_log (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at);
