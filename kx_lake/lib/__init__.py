"""Plain-Python core: talks to MongoDB, storage, catalogs and query engines; knows nothing of Dagster."""
