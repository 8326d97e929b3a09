-- Only pending deliveries are looked for by due time (leases, the next wake-up, the claims,
-- the queue depth), and only ended ones by age (retention). Indexes that hold just those rows
-- change less when a delivery ends: pending -> delivered removes its two pending entries and
-- adds one ended entry, where the full indexes each moved an entry (six changes, spread over
-- the pages of every tenant with work). Queries use them with the literal `status = 'pending'`
-- (and `status <> 'pending'`), which is what lets both planners pick a partial index.
DROP INDEX deliveries_due;
DROP INDEX deliveries_tenant_due;
DROP INDEX deliveries_updated_at;
CREATE INDEX deliveries_pending_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_pending_tenant ON deliveries (tenant_id, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX deliveries_ended ON deliveries (updated_at) WHERE status <> 'pending';
