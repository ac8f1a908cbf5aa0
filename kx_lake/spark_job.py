"""The job script a Spark cluster runs: `spark-submit kx_lake/spark_job.py`, Glue 5.0's script, EMR's step.

It is a plain entry point, launched by Dagster Pipes (kx_lake.builders.spark_launch): the request —
environment, collections, dates, the orchestrator's own config files and lake root — arrives as
Pipes extras; the SparkSession is whatever spark-submit, Glue or EMR built (`getOrCreate`, so the
master is theirs); the sync is the engine core's (`kx_lake.lib.spark.sync_with_spark`, then
`finish_collections` for rejects and state, exactly as the Dagster step does in-process). Each synced
collection is reported back as an asset materialization with its metadata; failed collections go
back as one custom message and in the log, so the others are kept, as with the local engine.

How Pipes reaches it, per launcher (chosen from what arrives, nothing to configure here):
  subprocess (spark-submit)  parameters in environment variables; context and messages in files
  Glue                       parameters as job arguments (--dagster-pipes-context …); both via S3
  EMR                        parameters in environment variables; context inline, messages via S3
The MongoDB URI is never in the request: it comes from AWS Secrets Manager (`secrets_prefix`) with the
cluster's role, else from the environment's URI variable, else its local source (local runs).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dagster_pipes import (
    PipesCliArgsParamsLoader,
    PipesContext,
    PipesEnvVarParamsLoader,
    PipesParamsLoader,
    PipesS3ContextLoader,
    PipesS3MessageWriter,
    open_dagster_pipes,
)

from kx_lake.lib.spark_launch.request import SyncRequest


def pipes_channels(argv: Sequence[str]) -> dict:
    """open_dagster_pipes' arguments for how this process was launched (see the module docstring)."""
    params: PipesParamsLoader = (PipesCliArgsParamsLoader() if "--dagster-pipes-context" in argv
                                 else PipesEnvVarParamsLoader())
    out: dict = {"params_loader": params}
    if not params.is_dagster_pipes_process():
        raise SystemExit("kx_lake/spark_job.py is launched by Dagster Pipes (kx-lake sync with an environment's "
                         "spark.launcher: submit, glue or emr); no Pipes parameters were found")
    s3 = None
    if "bucket" in params.load_context_params():
        import boto3

        s3 = s3 or boto3.client("s3")
        out["context_loader"] = PipesS3ContextLoader(s3)
    if "bucket" in params.load_messages_params():
        import boto3

        s3 = s3 or boto3.client("s3")
        out["message_writer"] = PipesS3MessageWriter(s3, interval=5)
    return out


def run(pipes: PipesContext, workdir: Path) -> int:
    """Sync the requested collections in this process's SparkSession; report each one through Pipes."""
    from pyspark.sql import SparkSession

    from kx_lake.builders.lake_metadata import published_metadata, staged_metadata  # plain dicts, no Dagster
    from kx_lake.lib.spark import finish_collections, sync_with_spark

    request = SyncRequest.from_extras(pipes.extras)
    project = request.project(workdir)
    specs = request.specs(project)
    spark = SparkSession.builder.appName(f"kx-lake sync {request.env}").getOrCreate()
    pipes.log.info(f"kx-lake {request.env}: {len(specs)} collection(s), {len(request.dates)} date(s) "
                   f"{request.first}..{request.last}, Spark {spark.version} on {spark.sparkContext.master}")
    result = sync_with_spark(spark, project, request.env, specs, request.dates, mongo_uri=request.mongo_uri(project),
                             staging_dir=workdir / "staging", log=pipes.log, now_ms=request.now_ms)
    published = finish_collections(project, result.staged, pipes.log)
    for done in published:  # the same metadata the in-process step records, so summaries count alike
        metadata = {**staged_metadata([done.staged]), **published_metadata([done]), **SyncRequest.metadata(done)}
        pipes.report_asset_materialization(asset_key=f"{done.staged.spec.database}/{done.staged.spec.collection}",
                                           metadata=metadata)
    failures = [{"env": f.env, "database": f.database, "collection": f.collection, "message": f.message}
                for f in result.failures]
    for f in failures:
        pipes.log.error(f"{f['env']}/{f['database']}.{f['collection']} failed: {f['message']}")
    pipes.report_custom_message({"kx_lake_failures": failures})
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with open_dagster_pipes(**pipes_channels(argv)) as pipes, tempfile.TemporaryDirectory(prefix="kx-spark-job-") as tmp:
        return run(pipes, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
