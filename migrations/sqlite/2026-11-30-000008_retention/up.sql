-- What reports show of a finished campaign or broadcast, folded before retention purges the
-- rows it was counted from: one row per campaign or broadcast, its figures as JSON.
CREATE TABLE report_totals (
    subject_id TEXT NOT NULL PRIMARY KEY,
    kind TEXT NOT NULL,
    counts TEXT NOT NULL,
    folded_at TIMESTAMP NOT NULL
);

-- When each maintenance job last ran to completion, shared by every instance.
CREATE TABLE maintenance_runs (
    name TEXT NOT NULL PRIMARY KEY,
    ran_at TIMESTAMP NOT NULL
);

-- Retention looks old rows up by age.
CREATE INDEX deliveries_updated_at ON deliveries (updated_at);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX relay_messages_created_at ON relay_messages (created_at);
