ALTER TABLE broadcasts DROP COLUMN herald_installed;
ALTER TABLE campaigns DROP COLUMN herald_installed;
