"""The `quarantine` asset check: a collection with documents in kx_rejects warns.

A quarantined document never fails a sync (it lands in the rejects table with its reason), so the
signal that someone should look at the source is this check: WARN with the number of rejected
documents per environment and the most common reasons, passed when the collection has none. It
reads the rejects files straight from the lake (no catalog needed, any catalog mode) and is one
multi-asset check over every collection, so a sync pays one extra step, not one per database. Kept
apart from checks.py (the quality checks, which go through the catalog backends).
"""


from collections import Counter

import dagster as dg

from kx_lake.builders.checks import run_envs
from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.notify_resources import project_scrubber
from kx_lake.builders.resources import ProjectResource
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.lake.pipeline import storage_for
from kx_lake.lib.lake.rejects import read_rejects
from kx_lake.lib.ops.config import OperationsConfig

CHECK_NAME = "quarantine"
_REASONS_SHOWN = 3


def build_rejects_check(cfg: ProjectConfig, ops: OperationsConfig) -> list[dg.AssetChecksDefinition]:
    if not ops.checks.enabled:
        return []
    specs = {collection_key(s): s for s in cfg.enabled_collections}
    if not specs:
        return []
    check_specs = [dg.AssetCheckSpec(CHECK_NAME, asset=key, description="no document of this collection is in "
                                     "the kx_rejects table (quarantined: undecodable, unplaceable, unconvertible)")
                   for key in specs]

    @dg.multi_asset_check(name="quarantined_documents", specs=check_specs, can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, kx_project: ProjectResource):
        project = kx_project.project
        scrub = project_scrubber(kx_project.config_dir)
        envs = run_envs(context.run.tags, project)
        storages = {env.name: storage_for(project, env) for env in envs}
        for key in sorted(context.selected_asset_check_keys, key=lambda k: k.asset_key.to_user_string()):
            spec = specs[key.asset_key]
            counts: dict[str, int] = {}
            reasons: Counter[str] = Counter()
            try:
                for env, storage in storages.items():
                    table = read_rejects(storage, env, spec.database, spec.collection)
                    counts[env] = table.num_rows
                    reasons.update(r.split(":")[0][:120] for r in table.column("reason").to_pylist())
            except Exception as exc:  # noqa: BLE001 - a check that cannot read reports it; it never fails the sync
                yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=CHECK_NAME, passed=False,
                                          severity=dg.AssetCheckSeverity.WARN,
                                          description=scrub(f"could not read kx_rejects: {type(exc).__name__}: {exc}")[:500])
                continue
            total = sum(counts.values())
            common = "; ".join(f"{n}× {r}" for r, n in reasons.most_common(_REASONS_SHOWN))
            description = (f"{total} document(s) quarantined in kx_rejects ({common})" if total
                           else "no document quarantined")
            yield dg.AssetCheckResult(
                asset_key=key.asset_key, check_name=CHECK_NAME, passed=total == 0,
                severity=dg.AssetCheckSeverity.WARN, description=scrub(description)[:2000],
                metadata={f"{env}.rejected": n for env, n in counts.items()},
            )

    return [_check]
