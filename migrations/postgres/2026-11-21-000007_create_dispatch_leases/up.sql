-- Which instance dispatches each tenant: one row per tenant, renewed while its owner lives, so
-- a tenant's pace is kept by one rate limiter however many instances run. A row whose
-- expiry has passed may be taken over by another instance.
CREATE TABLE tenant_dispatch (
    tenant_id TEXT NOT NULL PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    acquired_at TIMESTAMP NOT NULL,
    renewed_at TIMESTAMP NOT NULL
);

-- Every engine instance's last sign of life: tenants are shared out among the live ones.
CREATE TABLE engine_instances (
    name TEXT NOT NULL PRIMARY KEY,
    started_at TIMESTAMP NOT NULL,
    seen_at TIMESTAMP NOT NULL
);

-- An instance leases only its own tenants' due deliveries.
CREATE INDEX deliveries_tenant_due ON deliveries (status, tenant_id, next_attempt_at);
