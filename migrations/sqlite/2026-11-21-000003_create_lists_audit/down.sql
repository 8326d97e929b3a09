DROP TABLE audit_log;
DROP TABLE list_members;
DROP TABLE distribution_lists;
