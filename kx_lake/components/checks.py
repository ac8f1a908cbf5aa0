"""Data-quality asset checks on every collection asset, one multi_asset_check per database.

Batched per database (like the extract step) so a sync of all 102 collections adds 11 check steps,
not 500. Because checks target the collection assets, Dagster runs the selected collections' checks
in every `sync_collections` run, right after they materialize — and, since they run inside the sync
and must never fail it, every measurement error becomes a failed (WARN) result, never an exception.

Which environments: the run's own (partition or range tags); a check-only run from the UI checks
every active environment. Results of several environments are combined into one per check (failed if
any failed) with per-environment metadata. Checks read the embedded DuckDB catalog
(`kx-lake catalog refresh` / the catalog assets create it); a missing catalog or view is a WARN.
The measurements themselves live in kx_lake/lib/ops/quality.py.
"""


from collections import defaultdict

import dagster as dg

from kx_lake.components.collection_assets import collection_key
from kx_lake.components.notify_resources import project_scrubber
from kx_lake.components.partitions import run_env
from kx_lake.components.resources import MongoSourceResource, ProjectResource
from kx_lake.lib.catalog import duckdb_catalog, names
from kx_lake.lib.config import CollectionSpec, EnvironmentSpec, ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.state import CollectionState
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.ops import quality
from kx_lake.lib.ops.config import OperationsConfig
from kx_lake.lib.ops.quality import Measurement

COLLECTION_CHECKS = {
    "reconciliation": "distinct _ids in _latest plus rejects vs MongoDB documents before the synced point "
                      "(M ≤ L + R, L ≤ T)",
    "id_unique": "_id unique in _latest; no version stored twice in the table",
    "freshness": "newest date partition not older than the configured lag",
    "schema_drift": "new or widened fields vs the previous schema version",
}
FACILITY_CHECK = "facility_names"


def _run_envs(tags: dict[str, str], project: ProjectConfig) -> list[EnvironmentSpec]:
    env = run_env(tags)  # kx_lake/env included: a check-only run for one env
    return [project.environment(env)] if env else list(project.active_environments)


def _relations(con) -> set[str]:
    return {f"{s}.{n}" for s, n in duckdb_catalog.existing_relations(con)} if con is not None else set()


class _Measurer:
    """Measurements of one environment, sharing its catalog connection and MongoDB client."""

    def __init__(self, project: ProjectConfig, env: EnvironmentSpec, mongo: MongoSourceResource, ops: OperationsConfig):
        self.project, self.env, self.mongo, self.ops = project, env, mongo, ops
        self.storage = storage_for(project, env)
        try:
            self.con = duckdb_catalog.connect(project, env.name)
            self.con_error = None
        except duckdb_catalog.CatalogError as exc:
            self.con, self.con_error = None, str(exc)
        self.relations = _relations(self.con)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()

    def _need(self, relation: str) -> Measurement | None:
        if self.con is None:
            return Measurement(False, f"no catalog: {self.con_error}", quality.WARN)
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
            return self._need(f"{db}.{names.latest_view_name(spec)}") or quality.reconciliation(
                self.mongo.client(self.env.name), self.con, self.env, spec, state, rejected)
        if check == "id_unique":
            return self._need(f"{db}.{names.latest_view_name(spec)}") or quality.id_unique(self.con, self.env, spec)
        if check == FACILITY_CHECK:
            fc = self.ops.checks.facility_names
            dim = f"{db}.{fc.view}"
            sources = []
            for ref in fc.spellings_from:
                sdb, scoll = ref.split(".", 1)
                sources.append(f"{names.glue_database(self.env, sdb)}.{scoll}{names.LATEST_SUFFIX}")
            for rel in (dim, *sources):
                missing = self._need(rel)
                if missing:
                    return missing
            return quality.facility_names(self.con, dim, sources, fc.max_spellings)
        raise ValueError(f"unknown check {check!r}")


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
    def _checks(context: dg.AssetCheckExecutionContext, kx_project: ProjectResource, mongo: MongoSourceResource):
        project = kx_project.project
        scrub = project_scrubber(kx_project.config_dir)
        keys = sorted(context.selected_asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name))
        results: dict[dg.AssetCheckKey, dict[str, Measurement]] = defaultdict(dict)
        for env in _run_envs(context.run.tags, project):
            measurer = _Measurer(project, env, mongo, ops)
            try:
                for key in keys:
                    try:
                        m = measurer.measure(key.name, by_key[key.asset_key])
                    except Exception as exc:  # a check that cannot measure reports it; it never fails the sync
                        m = Measurement(False, scrub(f"could not measure: {type(exc).__name__}: {exc}")[:500],
                                        quality.WARN)
                    results[key][env.name] = m
            finally:
                measurer.close()
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
