"""Data-quality asset checks on every collection asset, one multi_asset_check per database.

Batched per database (like the extract step) so a sync of all 102 collections adds 11 check steps,
not 500. Because checks target the collection assets, Dagster runs the selected collections' checks
in every `sync_collections` run, right after they materialize — and, since they run inside the sync
and must never fail it, every measurement error becomes a failed (WARN) result, never an exception.

Which environments: the run's own (partition or range tags); a check-only run from the UI checks
every active environment (or the one in its `kx_lake/env` tag). Results of several environments are
combined into one per check (failed if any failed) with per-environment metadata.

Where they read: the catalog backend of the environment (`kx_catalog`: the DuckDB file opened
read-only, Athena in glue/crawler mode, or Trino), in Athena SQL; a missing catalog or view is a WARN.
How much they read: a sync run's checks read only the dates the run covered (its partition range)
and the source's documents of that window, so an hourly cycle costs in proportion to what changed;
a run from the first partition (a full load) and a check-only run (the `quality_checks` job, daily
schedule `quality_checks_daily`, stopped by default) check all dates. lib/ops/catalog_checks.py has
the measurements and the exact inequalities.
"""


from collections import defaultdict
from contextlib import ExitStack

import dagster as dg

from kx_lake.builders.catalog_resource import CatalogResource
from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.notify_resources import project_scrubber
from kx_lake.builders.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    ZoneGroup,
    partition_scope,
    run_env,
    zone_groups,
)
from kx_lake.builders.resources import MongoSourceResource, ProjectResource
from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.backend import CatalogBackend
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.ops import catalog_checks, quality
from kx_lake.lib.ops.catalog_checks import Scope
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake.lib.ops.quality import Measurement

COLLECTION_CHECKS = {
    "reconciliation": "MongoDB vs the lake, rejects (R) and tombstones counted. All dates: M ≤ L + R and L ≤ T "
                      "(M: documents before the synced point, T: all documents, L: _ids in _latest = identities "
                      "in the table − tombstoned). A sync's own dates: M_w ≤ L_w + R (M_w: documents modified "
                      "in the run's window, L_w: non-tombstone _ids in those partitions)",
    "id_unique": "no (_id, timestamp) version stored twice in the table, one _latest row per _id (a sync: its "
                 "dates only, without _latest)",
    "freshness": "newest date partition not older than the configured lag",
    "schema_drift": "new or widened fields vs the previous schema version",
}
FACILITY_CHECK = "facility_names"
QUALITY_JOB = "quality_checks"
QUALITY_SCHEDULE = "quality_checks_daily"
DAILY_CRON = "0 4 * * *"  # 04:00 in the environments' timezone, after the night's quiet hours


def run_envs(tags: dict[str, str], project: ProjectConfig) -> list[EnvironmentSpec]:
    """The run's environment (partition or range tags, or a check-only run's kx_lake/env), else all active ones."""
    env = run_env(tags)
    return [project.environment(env)] if env else list(project.active_environments)


def run_scope(tags: dict[str, str], project: ProjectConfig) -> Scope | None:
    """The dates a sync run covers (its partition or partition range), or None for all dates: a
    check-only run, or a range from the first partition (a full load checks everything anyway)."""
    keys = [tags[k] for k in (RANGE_START_TAG, RANGE_END_TAG, PARTITION_TAG) if "|" in tags.get(k, "")]
    if not keys:
        return None
    (days,) = partition_scope(keys).values()
    if days[0] <= project.partitions_start:
        return None
    return Scope(days[0], days[-1])


class _Measurer:
    """Measurements of one environment, sharing its catalog backend and MongoDB client."""

    def __init__(self, project: ProjectConfig, env: EnvironmentSpec, mongo: MongoSourceResource, ops: OperationsConfig,
                 backend: CatalogBackend | None, backend_error: str | None, scope: Scope | None):
        self.project, self.env, self.mongo, self.ops, self.scope = project, env, mongo, ops, scope
        self.storage = storage_for(project, env)
        self.backend, self.backend_error = backend, backend_error
        self._relations: set[str] | None = None

    @property
    def relations(self) -> set[str]:
        if self._relations is None:
            self._relations = {f"{s}.{n}" for s, n in self.backend.relations()}
        return self._relations

    def _need(self, relation: str) -> Measurement | None:
        if self.backend is None:
            return Measurement(False, f"no catalog: {self.backend_error}", quality.WARN)
        if relation not in self.relations:
            return Measurement(False, f"{relation} is not in the catalog; run `kx-lake catalog refresh "
                                      f"--env {self.env.name}`", quality.WARN)
        return None

    def measure(self, check: str, spec: CollectionSpec) -> Measurement:
        state = CollectionState.read(self.storage, self.env.name, spec.database, spec.collection)
        if state.schema is None:
            return Measurement(True, "not loaded yet", quality.WARN, {"loaded": False})
        db = names.glue_database(self.env, spec.database)
        if check == "freshness":
            return quality.freshness(self.storage, self.env, spec, state, self.ops.checks.freshness_max_lag_hours)
        if check == "schema_drift":
            return quality.schema_drift(state)
        if check == "reconciliation":
            rejected = read_rejects(self.storage, self.env.name, spec.database, spec.collection).num_rows
            return self._need(f"{db}.{names.latest_view_name(spec)}") or catalog_checks.reconciliation(
                self.mongo.client(self.env.name), self.backend, self.env, spec, state, rejected, self.scope)
        if check == "id_unique":
            return self._need(f"{db}.{names.latest_view_name(spec)}") or catalog_checks.id_unique(
                self.backend, self.env, spec, state, self.scope)
        if check == FACILITY_CHECK:
            return self._facility_names(db)
        raise ValueError(f"unknown check {check!r}")

    def _facility_names(self, db: str) -> Measurement:
        fc = self.ops.checks.facility_names
        dim = f"{db}.{fc.view}"
        specs = [self.project.collection(ref.split(".", 1)[1]) for ref in fc.spellings_from]
        latest = [f"{names.glue_database(self.env, s.database)}.{names.latest_view_name(s)}" for s in specs]
        for rel in (dim, *latest):
            missing = self._need(rel)
            if missing:
                return missing
        if self.scope is None:
            sources = latest
        else:  # the transactions written in the run's dates; facility_id as its partition value
            sources = [self.backend.partition_scan(s, self.scope.first, self.scope.last) for s in specs]
        m = catalog_checks.facility_names(self.backend, dim, sources, fc.max_spellings)
        m.metadata["scope"] = str(self.scope) if self.scope else "all dates"
        return m


def _combine(per_env: dict[str, Measurement]) -> tuple[bool, dg.AssetCheckSeverity, str, dict]:
    passed = all(m.passed for m in per_env.values())
    failing = [m for m in per_env.values() if not m.passed]
    severity = dg.AssetCheckSeverity.ERROR if any(m.severity == quality.ERROR for m in failing) else dg.AssetCheckSeverity.WARN
    description = "; ".join(f"{env}: {m.description}" for env, m in per_env.items())
    if len(per_env) == 1:
        (env, m), = per_env.items()
        metadata = {"env": env, **m.metadata}
    else:
        metadata = {f"{env}.{k}": v for env, m in per_env.items() for k, v in m.metadata.items()}
    return passed, severity, description, metadata


def _database_checks(database: str, specs: list[CollectionSpec], ops: OperationsConfig) -> dg.AssetChecksDefinition:
    by_key = {collection_key(s): s for s in specs}
    facility = tuple(ops.checks.facility_names.asset.split(".", 1))
    check_specs = [dg.AssetCheckSpec(name, asset=collection_key(s), description=desc)
                   for s in specs for name, desc in COLLECTION_CHECKS.items()]
    check_specs += [dg.AssetCheckSpec(FACILITY_CHECK, asset=collection_key(s),
                                      description=f"one canonical name per facility_id ({ops.checks.facility_names.view})")
                    for s in specs if (s.database, s.collection) == facility]

    @dg.multi_asset_check(name=f"quality_{database}", specs=check_specs, can_subset=True)
    def _checks(context: dg.AssetCheckExecutionContext, kx_project: ProjectResource, mongo: MongoSourceResource,
                kx_catalog: CatalogResource):
        project = kx_project.project
        scrub = project_scrubber(kx_project.config_dir)
        keys = sorted(context.selected_asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name))
        results: dict[dg.AssetCheckKey, dict[str, Measurement]] = defaultdict(dict)
        scope = run_scope(context.run.tags, project)
        for env in run_envs(context.run.tags, project):
            with ExitStack() as stack:
                try:  # read-only: a check never takes DuckDB's writer lock from a catalog refresh
                    backend, error = stack.enter_context(kx_catalog.backend(env.name, read_only=True)), None
                except Exception as exc:  # no catalog yet, Trino not startable...: each check warns
                    backend, error = None, scrub(f"{type(exc).__name__}: {exc}")[:300]
                measurer = _Measurer(project, env, mongo, ops, backend, error, scope)
                for key in keys:
                    try:
                        m = measurer.measure(key.name, by_key[key.asset_key])
                    except Exception as exc:  # a check that cannot measure reports it; it never fails the sync
                        m = Measurement(False, scrub(f"could not measure: {type(exc).__name__}: {exc}")[:500],
                                        quality.WARN)
                    results[key][env.name] = m
        for key in keys:
            passed, severity, description, metadata = _combine(results[key])
            if not passed:
                # info, not warning: the result itself is the signal (UI, e-mail); a first sync before any
                # catalog exists would otherwise flood the console with expected failures
                context.log.info(f"check {key.asset_key.to_user_string()}:{key.name} failed: {description}")
            yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=passed,
                                      severity=severity, description=description[:2000], metadata=metadata)

    return _checks


def build_collection_checks(cfg: ProjectConfig, ops: OperationsConfig) -> list[dg.AssetChecksDefinition]:
    if not ops.checks.enabled:
        return []
    by_db: dict[str, list[CollectionSpec]] = defaultdict(list)
    for spec in cfg.enabled_collections:
        by_db[spec.database].append(spec)
    return [_database_checks(db, specs, ops) for db, specs in sorted(by_db.items())]


def build_quality_job():  # noqa: ANN201 - define_asset_job's type is not public
    """Every data-quality check over all dates, without syncing: the full comparison on its own cadence."""
    return dg.define_asset_job(QUALITY_JOB, selection=dg.AssetSelection.all_asset_checks(),
                               description="All data-quality checks over all dates (no sync).")


def build_quality_schedules(cfg: ProjectConfig, cron: str = DAILY_CRON) -> list[dg.ScheduleDefinition]:
    """Daily, STOPPED by default; one per timezone of the active environments, like the sync schedules.
    Why a cadence of its own: the full reconciliation counts the source before the synced point (a
    collection scan on FerretDB) and reads every date's files; hourly syncs check only the dates they
    touched."""
    return [_quality_schedule(group, cron) for group in zone_groups(cfg)]


def _quality_schedule(group: ZoneGroup, cron: str) -> dg.ScheduleDefinition:
    tz, envs = group.timezone, group.envs

    @dg.schedule(name=group.name(QUALITY_SCHEDULE), cron_schedule=cron, job_name=QUALITY_JOB,
                 execution_timezone=tz, default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"All data-quality checks over all dates of {', '.join(e.name for e in envs)} "
                             f"({cron}, {tz}).")
    def _schedule(context: dg.ScheduleEvaluationContext):
        key = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else None
        return [dg.RunRequest(run_key=f"{env.name}:{key}" if key else None,
                              tags={"kx_lake/env": env.name, "kx_lake/source": "schedule"})
                for env in envs]

    return _schedule
