"""The lake pipeline for one collection × environment: extract a window, harmonize, stage Parquet,
publish atomically, advance the watermark. Plain Python; Dagster calls it from the asset layer."""
