DROP INDEX users_tenant_aad;
