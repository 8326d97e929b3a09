ALTER TABLE deliveries DROP COLUMN presence;
ALTER TABLE deliveries DROP COLUMN ladder_step;
ALTER TABLE deliveries DROP COLUMN planned_at;
DROP TABLE campaign_not_installed;
DROP TABLE campaigns;
