"""The lake's catalogs: Glue and Athena in production, DuckDB on a laptop; one naming rule for both."""
