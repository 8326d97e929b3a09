DROP INDEX deliveries_ended;
DROP INDEX deliveries_pending_tenant;
DROP INDEX deliveries_pending_due;
CREATE INDEX deliveries_updated_at ON deliveries (updated_at);
CREATE INDEX deliveries_tenant_due ON deliveries (status, tenant_id, next_attempt_at);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
