"""The collection assets' spark-engine environments whose `spark.launcher` is submit, glue or emr.

The step launches the job script (kx_lake/spark_job.py) once per environment through the launcher's
Pipes client (builders/spark_launch.py). The job publishes the lake itself — files, rejects, state —
so what comes back is not staged data but a `PublishedRemotely` record per synced collection: the
step hands it to the lake IO manager, which records its metadata and publishes nothing. Collections
the job reports failed, or that a failed launch never reached, come back as failures naming the
environment and the collection, exactly as an in-process failure is reported, so the run summary,
the CLI and the e-mail count both paths alike.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

import dagster as dg

from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.lib.scrub import Scrubber
from kx_lake.lib.spark_launch.request import PublishedRemotely, SyncRequest

Failure = tuple[str, str, str, float]  # env, message, trace, seconds (collection_assets' shape)


def remote_launcher(project: ProjectConfig, env: str) -> str | None:
    """The environment's launcher if the sync runs outside this process, else None (`session`)."""
    launcher = project.environment(env).spark.launcher
    return None if launcher == "session" else launcher


def remote_outcomes(
    context: dg.AssetExecutionContext, specs: list[CollectionSpec], scope: dict[str, list[date]], project: ProjectConfig,
) -> dict[tuple[str, str], tuple[list[PublishedRemotely], list[Failure]]]:
    """Launch every environment of `scope` on its launcher; per (database, collection): what the job
    published and what failed. Nothing is raised: the step fails afterwards, listing every failure."""
    scrub = Scrubber.for_project(project)
    out: dict[tuple[str, str], tuple[list[PublishedRemotely], list[Failure]]] = {
        (s.database, s.collection): ([], []) for s in specs}
    for env, dates in scope.items():
        launcher = remote_launcher(project, env)
        started = time.monotonic()
        try:
            outcome = _launch(context, project, env, launcher, specs, dates)
        except Exception as exc:  # the job never reported: every collection of this environment failed
            message = scrub(f"spark.launcher {launcher}: {type(exc).__name__}: {exc}")[:2000]
            for spec in specs:
                out[(spec.database, spec.collection)][1].append((env, message, "", _since(started)))
            continue
        seen: set[tuple[str, str]] = set()
        for result in outcome.results:
            database, collection = result.asset_key.path[-2:]
            metadata = {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
            out[(database, collection)][0].append(
                PublishedRemotely(env, database, collection, launcher,
                                  {**metadata, **outcome.metadata, "launcher": launcher}))
            seen.add((database, collection))
        for failure in outcome.failures:
            key = (failure["database"], failure["collection"])
            out[key][1].append((env, scrub(failure["message"])[:2000], "", _since(started)))
            seen.add(key)
        for key in out.keys() - seen:  # a collection the job neither published nor reported failed
            out[key][1].append((env, f"spark.launcher {launcher}: the job reported nothing for it", "",
                                _since(started)))
    return out


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


def _launch(context: dg.AssetExecutionContext, project: ProjectConfig, env: str, launcher: str,
            specs: list[CollectionSpec], dates: list[date]) -> Any:
    from kx_lake.builders import spark_launch  # dagster-aws's Pipes clients: remote-launcher runs only

    spec = project.environment(env)
    if launcher == "submit":  # a local or reachable master: the job may use this machine's local source
        request = SyncRequest.build(project, env, specs, dates, local_home=True)
        return spark_launch.launch_submit(context, request, spark_launch.submit_command(spec))
    import boto3

    s3 = boto3.client("s3", region_name=spec.aws_region)
    if launcher == "glue":
        glue = spec.spark.glue
        request = SyncRequest.build(project, env, specs, dates, secrets_prefix=glue.secrets_prefix)
        client = spark_launch.glue_client(glue, boto3.client("glue", region_name=spec.aws_region), s3)
        return spark_launch.launch_glue(context, request, glue, client)
    emr = spec.spark.emr
    request = SyncRequest.build(project, env, specs, dates, secrets_prefix=emr.secrets_prefix)
    client = spark_launch.emr_client(emr, boto3.client("emr", region_name=spec.aws_region), s3)
    return spark_launch.launch_emr(context, request, emr, client)
