DROP TABLE engine_instances;
DROP TABLE tenant_dispatch;
