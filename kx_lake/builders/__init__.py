"""Builders: turn validated kx-lake configuration into Dagster objects (partitions, assets,
resources, IO managers). `defs/` calls these; `lib/` underneath knows nothing of Dagster."""
