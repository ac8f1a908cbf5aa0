"""One software-defined asset per configured collection, built from collections.csv.

Assets are keyed [database, collection] (where the data lives), grouped by database, and share the
env × date partitions. Collections of one database run as one multi-asset step (can_subset), which
keeps per-collection lineage and partitions while paying Dagster's per-step cost once per database
instead of once per collection. Inside a step each collection is isolated: a failing collection is
reported (log, observation, step failure listing it) and the others still materialize.

Backfills use BackfillPolicy.single_run(): Dagster groups a multi-partition range by environment,
so a full load is one run per environment, each collection reading its whole range in one query.
"""


import time
import traceback
from collections import defaultdict
from collections.abc import Iterator

import dagster as dg

from kx_lake.components.partitions import partition_scope
from kx_lake.components.resources import MongoSourceResource, ProjectResource
from kx_lake.lib.config import CollectionSpec, ProjectConfig
from kx_lake.components.lake_metadata import staged_metadata
from kx_lake.lib.lake.pipeline import stage_collection
from kx_lake.lib.source.uri import redact_uri

LAKE_IO_MANAGER = "lake_io_manager"


def collection_key(spec: CollectionSpec) -> dg.AssetKey:
    return dg.AssetKey([spec.database, spec.collection])


def _spec(spec: CollectionSpec, partitions: dg.PartitionsDefinition) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=collection_key(spec),
        description=spec.description or f"{spec.database}.{spec.collection} from MongoDB",
        group_name=spec.database,
        kinds={"mongodb", "parquet"},
        partitions_def=partitions,
        skippable=True,
        tags={"subject_area": spec.subject_area} if spec.subject_area else None,
        metadata={
            "timestamp_column": spec.timestamp_column,
            "timestamp_encoding": spec.timestamp_encoding.value,
            "partition_columns": ";".join(spec.partition_columns) or "(date only)",
        },
    ).with_io_manager_key(LAKE_IO_MANAGER)


def build_collection_assets(cfg: ProjectConfig, partitions: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    by_db: dict[str, list[CollectionSpec]] = defaultdict(list)
    for spec in cfg.enabled_collections:
        by_db[spec.database].append(spec)
    return [_database_asset(db, specs, partitions) for db, specs in sorted(by_db.items())]


def _database_asset(
    database: str, specs: list[CollectionSpec], partitions: dg.PartitionsDefinition
) -> dg.AssetsDefinition:
    by_key = {collection_key(s): s for s in specs}

    @dg.multi_asset(
        name=f"extract_{database}",
        specs=[_spec(s, partitions) for s in specs],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
    )
    def _extract(
        context: dg.AssetExecutionContext, kx_project: ProjectResource, mongo: MongoSourceResource
    ) -> Iterator[dg.MaterializeResult]:
        scope = partition_scope(context.partition_keys)
        failures: list[str] = []
        for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
            spec = by_key[key]
            staged = []
            for env, dates in scope.items():
                started = time.monotonic()
                try:
                    staged.append(
                        stage_collection(
                            client=mongo.client(env),
                            project=kx_project.project,
                            env=env,
                            spec=spec,
                            dates=dates,
                            staging_dir=kx_project.staging_dir(context.run.run_id),
                            log=context.log,
                        )
                    )
                except Exception as exc:  # isolation: one collection never stops the others
                    message = redact_uri(f"{type(exc).__name__}: {exc}")
                    failures.append(f"{env}/{database}.{spec.collection}: {message}")
                    context.log.error(
                        f"{env}/{database}.{spec.collection} failed: {message}\n"
                        + redact_uri("".join(traceback.format_exception(exc)[-6:]))
                    )
                    context.log_event(
                        dg.AssetObservation(
                            asset_key=key,
                            metadata={
                                "status": "failed",
                                "env": env,
                                "error": message,
                                "duration_s": round(time.monotonic() - started, 3),
                            },
                        )
                    )
            if staged:
                yield dg.MaterializeResult(asset_key=key, value=staged, metadata=staged_metadata(staged))
        if failures:
            raise dg.Failure(
                description=f"{len(failures)} collection(s) failed in {database}",
                metadata={"failed": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
            )

    return _extract
