-- The report page's search is `lower(name) LIKE '%word%'` or the same on the address. Without
-- statistics on those expressions the planner guesses a handful of matching people whatever the
-- word, and for a word everyone's address holds (the company's domain) it then looks each
-- delivery's person up one by one. These statistics, gathered by ANALYZE as the table's own are,
-- let it count the matches from a sample of names instead of guessing (no index to maintain).
CREATE STATISTICS users_search_names
    ON (lower(display_name)), (lower(coalesce(email, user_principal_name)))
    FROM users;
