DROP INDEX deliveries_tenant_due;
DROP TABLE engine_instances;
DROP TABLE tenant_dispatch;
