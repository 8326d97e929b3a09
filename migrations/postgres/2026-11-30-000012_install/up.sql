-- How many recipients herald installed the app for through Graph when the campaign started or
-- the broadcast went out (`install: yes`).
ALTER TABLE campaigns ADD COLUMN herald_installed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE broadcasts ADD COLUMN herald_installed INTEGER NOT NULL DEFAULT 0;
