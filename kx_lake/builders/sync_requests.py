"""Run requests for sync groups: what the schedule and the new-data sensor submit.

Both plan from the collections' state (lib/lake/plan.py, as `kx-lake sync` does), so the first run
after an outage starts where the last sync reached, not at a fixed "today minus look-back". A group
holding every enabled collection runs the whole job (no asset selection), so the usual hourly cycle
stays one run per environment.
"""

from __future__ import annotations

import dagster as dg

from kx_lake.builders.collection_assets import collection_key
from kx_lake.builders.partitions import FULL_LOAD_TAG, SOURCE_TAG, range_tags
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.lake.plan import SyncGroup


def group_request(cfg: ProjectConfig, group: SyncGroup, *, source: str, run_key: str) -> dg.RunRequest:
    everything = {c.collection for c in cfg.enabled_collections} == {c.collection for c in group.collections}
    return dg.RunRequest(
        run_key=f"{group.env}:{group.first}..{group.last}:{run_key}",
        asset_selection=None if everything else [collection_key(c) for c in group.collections],
        tags={**range_tags(group.env, group.first, group.last), SOURCE_TAG: source,
              **({FULL_LOAD_TAG: "true"} if group.full_load else {})},
    )
