-- PostgreSQL gathers statistics on the report search's lowercased names here; SQLite's planner
-- keeps no statistics on expressions, and its plans for the search need none.
SELECT 1;
