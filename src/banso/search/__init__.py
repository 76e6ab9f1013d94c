"""Full-text search that works for Japanese: character bigrams on SQLite FTS5 and PostgreSQL."""
