DROP TABLE campaign_reads;
ALTER TABLE deliveries DROP COLUMN last_attempt_at;
DROP TABLE link_clicks;
DROP TABLE tracked_links;
DROP TABLE app_secrets;
