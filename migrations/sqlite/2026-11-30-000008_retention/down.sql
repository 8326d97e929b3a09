DROP INDEX relay_messages_created_at;
DROP INDEX audit_log_at;
DROP INDEX deliveries_updated_at;
DROP TABLE maintenance_runs;
DROP TABLE report_totals;
