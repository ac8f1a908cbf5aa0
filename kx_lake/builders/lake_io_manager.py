"""The lake IO manager: publishes a collection's staged Parquet into the lake, atomically per file.

An asset's output is a StagedCollection per environment — Parquet files already written on local
staging disk, one per leaf partition — not an in-memory table, so memory stays bounded whatever the
collection's size and the same object serves one day or a single-run backfill of a whole year.
Publishing replaces each date partition (one file per leaf directory, stale leaves removed), then
persists the lake schema and advances the watermark: the watermark only moves once data is safe.
An error while publishing leaves scrubbed (lib/scrub.errors_scrubbed): Dagster records and prints
what handle_output raises, chain included. Before raising, a failing environment is recorded as a
failure observation (as a staging failure is), so no summary leaves the collection out; the other
environments of the run still publish.

A collection synced by a Spark job (`spark.launcher` submit, glue or emr) arrives as a
`PublishedRemotely` record: the job already published its files, rejects and state, so nothing is
published again; its metadata, reported by the job, is already the step's and joins this manager's
only when the same collection was also published here for another environment of the run.

Nothing loads a collection asset as an input: the catalog assets downstream name them in `deps`
and read the lake's own state and files, so `load_input` only refuses (Dagster requires the method).
"""

from __future__ import annotations

import time

import dagster as dg

from kx_lake.builders.lake_metadata import combined, published_metadata
from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.lake.pipeline import StagedCollection, publish_staged
from kx_lake.lib.scrub import Scrubber, errors_scrubbed
from kx_lake.lib.spark_launch.request import PublishedRemotely


class LakeParquetIOManager(dg.ConfigurableIOManager):
    """Writes collection assets as Hive-partitioned Parquet under each environment's lake root."""

    kx_project: ProjectResource

    def handle_output(self, context: dg.OutputContext, obj: list[StagedCollection | PublishedRemotely]) -> None:
        if obj is None:
            return
        project = self.kx_project.project
        scrubber = Scrubber.for_project(project)
        published, failed = [], []
        remote = [o for o in obj if isinstance(o, PublishedRemotely)]
        for done in remote:
            context.log.info(f"{done.name}: published by the Spark job (spark.launcher {done.launcher})")
        with errors_scrubbed(lambda: scrubber):
            for staged in (o for o in obj if not isinstance(o, PublishedRemotely)):  # environments publish
                # independently: one failing does not stop the others
                started = time.monotonic()
                try:
                    published.append(publish_staged(project, staged, log=context.log))
                except Exception as exc:  # noqa: BLE001 - recorded as this collection's failure, then raised
                    message = scrubber(f"{type(exc).__name__}: {exc}")[:2000]
                    context.log.error(f"{staged.name} failed while publishing: {message}")
                    # the same failure observation a staging failure logs, so the run summary, the CLI
                    # and the e-mail count this collection as failed rather than leaving it out
                    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={
                        "status": "failed", "env": staged.env, "error": f"publishing: {message}",
                        "duration_s": round(time.monotonic() - started, 3)}))
                    failed.append(exc)
            if published:
                mine = published_metadata(published)
                context.add_output_metadata(combined([mine, *({k: r.metadata[k] for k in mine if k in r.metadata}
                                                               for r in remote)]))
            if failed:
                raise failed[0]

    def load_input(self, context: dg.InputContext) -> None:
        raise dg.DagsterInvariantViolationError(
            f"{context.asset_key.to_user_string()}: collection assets are not loaded as inputs; "
            "depend on them with `deps` and read the lake or the catalog"
        )
