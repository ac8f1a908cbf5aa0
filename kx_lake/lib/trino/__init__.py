"""A self-hosted Trino (the engine Athena v3 is built on) over the local lake: install, run, query."""
