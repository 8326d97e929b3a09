-- Members of Entra ID groups are matched to herald's users by their object id first.
CREATE INDEX users_tenant_aad ON users (tenant_id, aad_object_id);
