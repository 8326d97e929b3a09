ALTER TABLE deliveries DROP COLUMN resends;
ALTER TABLE deliveries DROP COLUMN repairs;
ALTER TABLE broadcast_not_installed DROP COLUMN reason;
ALTER TABLE campaign_not_installed DROP COLUMN reason;
ALTER TABLE broadcasts DROP COLUMN install;
ALTER TABLE campaigns DROP COLUMN install;
ALTER TABLE users DROP COLUMN installed_by_herald;
DROP TABLE list_groups;
