"""kx-lake end to end, exactly as `kx-lake sync --env E` runs it: plan from the lake's state, then
`run_sync` through the Dagster definitions, job, IO manager and instance (batching SQLite event
store in the benchmark's own DAGSTER_HOME). Full vs incremental is decided by the state, as for a user."""

from __future__ import annotations

from benchmarks.contenders.plan import Plan


def run(plan: Plan, profile: str | None = None) -> dict:
    from kx_lake.cli.sync_cmd import dagster_instance, load_definitions
    from kx_lake.builders.sync_runner import run_sync
    from kx_lake.defs.lake import SYNC_JOB
    from kx_lake.lib.config import ProjectConfig, Settings
    from kx_lake.lib.lake.plan import plan_sync

    project = ProjectConfig.load(Settings.resolve())
    wanted = set(plan.collections)
    specs = [s for s in project.enabled_collections if s.collection in wanted]
    groups = plan_sync(project, plan.env, specs)
    defs = load_definitions(project)
    instance = dagster_instance(project)
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    summary = run_sync(defs, SYNC_JOB, groups, instance=instance, log_level="WARNING")
    if profiler is not None:
        profiler.stop()
        with open(profile, "w") as fh:
            fh.write(profiler.output_text(unicode=True, color=False, show_all=False))
    return {
        "documents": summary.rows,
        "bytes": None,  # the same windows as the ceiling: the harness takes the ceiling's source bytes
        "collections": len(summary.results),
        "failed": {r.collection: (r.error or "")[:300] for r in summary.failed},
        "runs": len(summary.run_ids),
        "dates": sorted({f"{g.first}..{g.last}" for g in groups}),
        "lake_bytes": sum(r.bytes for r in summary.results),
    }
