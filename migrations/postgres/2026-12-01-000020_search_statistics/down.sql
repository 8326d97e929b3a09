DROP STATISTICS IF EXISTS users_search_names;
