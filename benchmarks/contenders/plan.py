"""The plan handed to a contender: which collections, over which partition-date windows.

All contenders read the same windows: the full load is [partitions_start, today] in the environment's
timezone; the incremental windows are the ones kx-lake plans from its state (its look-back included),
so the ceiling reads exactly what kx-lake reads. dlt keeps its own cursor instead (its documented way).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Item:
    database: str
    collection: str
    timestamp_column: str
    timestamp_encoding: str
    first: str
    last: str


@dataclass(frozen=True)
class Plan:
    env: str
    phase: str  # "full" | "incremental"
    items: list[Item]

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"env": self.env, "phase": self.phase, "items": [asdict(i) for i in self.items]}))
        return path

    @classmethod
    def read(cls, path: Path) -> Plan:
        raw = json.loads(Path(path).read_text())
        return cls(raw["env"], raw["phase"], [Item(**i) for i in raw["items"]])

    @property
    def collections(self) -> list[str]:
        return [i.collection for i in self.items]


def build_plan(project, env: str, specs, phase: str) -> Plan:  # noqa: ANN001 - kx_lake config objects
    """Windows kx-lake itself would plan now (full: no state yet; incremental: from the lake's state)."""
    from kx_lake.lib.lake.plan import plan_sync

    items = []
    for group in plan_sync(project, env, list(specs)):
        for s in group.collections:
            items.append(Item(s.database, s.collection, s.timestamp_column, s.timestamp_encoding.value,
                              group.first.isoformat(), group.last.isoformat()))
    return Plan(env, phase, sorted(items, key=lambda i: (i.database, i.collection)))


def window_of(project, env: str, item: Item):  # noqa: ANN001, ANN201
    from kx_lake.lib.extract.windows import Window

    return Window(date.fromisoformat(item.first), date.fromisoformat(item.last), project.environment(env).tz)
