"""The Spark engine: the same lake as the local engine, with extraction and conversion in Spark tasks.

Contract (what the Dagster asset and a spark-submit / Glue entry point call; no Dagster here):

    from kx_lake.lib.spark import sync_with_spark, finish_collections

    result = sync_with_spark(
        spark,                 # a SparkSession (dagster-pyspark's resource, or spark-submit's own)
        project,               # kx_lake.lib.config.ProjectConfig
        env,                   # environment name, e.g. "env1"
        specs,                 # list[CollectionSpec] to sync
        dates,                 # list[datetime.date] to (re)materialize
        mongo_uri=uri,         # the environment's MongoDB URI (sent to the tasks; never logged)
        staging_dir=path,      # driver-local directory for the rejects spool (claim_run_dir)
        log=logger,            # optional, logging.Logger-like (info/warning/error)
        now_ms=None,           # optional clock (UTC epoch ms), injected by tests
    )
    result.staged     # list[StagedCollection]: dates already written (staged.published set)
    result.failures   # list[CollectionFailure]: env, database, collection, message (scrubbed), trace, duration_s
    published = finish_collections(project, result.staged, log)   # rejects, then state: as publish_staged

A failing collection never stops the others: it is reported in `failures`, and its state is not
advanced. `finish_collections` is what the local engine's IO manager does after its own writes, so
the Dagster path calls `sync_with_spark` in the asset step and lets the IO manager finish.
"""

from kx_lake.lib.spark.engine import CollectionFailure, SparkSyncResult, finish_collections, sync_with_spark

__all__ = ["CollectionFailure", "SparkSyncResult", "finish_collections", "sync_with_spark"]
