DROP TABLE campaign_runs;
DROP TABLE campaign_repeats;
