"""Per collection × environment state kept beside the data: the lake schema and the watermark.

`<lake_root>/<env>/_kx_state/<database>/<collection>.json`, replaced atomically, written only after
the partitions it describes are published. No state means "never loaded": the next sync is a full
load. The watermark is the newest modified timestamp written (UTC epoch millis, plus its ISO form
for people), so a type or timezone mix-up cannot silently move it. `synced_until` is the end of the
newest window extracted (capped at the time of extraction): anything new or modified since then
carries a later timestamp, give or take late commits, so the next incremental sync starts there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kx_lake.lib.harmonize import StructType, from_json
from kx_lake.lib.storage import LakeStorage

STATE_FORMAT = 1


def state_relpath(database: str, collection: str) -> str:
    return f"{database}/{collection}.json"


def iso_ms(ms: int | None) -> str | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class CollectionState:
    schema: StructType | None = None
    schema_version: int = 0
    watermark_ms: int | None = None
    synced_until_ms: int | None = None
    updated_at: str | None = None

    @classmethod
    def read(cls, storage: LakeStorage, env: str, database: str, collection: str) -> CollectionState:
        raw = storage.read_json(env, state_relpath(database, collection))
        if raw is None:
            return cls()
        schema = from_json(raw["schema"]) if raw.get("schema") else None
        if schema is not None and not isinstance(schema, StructType):
            raise ValueError(f"{env}/{database}.{collection}: stored lake schema is not a struct")
        return cls(
            schema, int(raw.get("schema_version", 0)), raw.get("watermark_ms"), raw.get("synced_until_ms"),
            raw.get("updated_at"),
        )

    def write(self, storage: LakeStorage, env: str, database: str, collection: str) -> None:
        storage.write_json_atomic(
            env,
            state_relpath(database, collection),
            {
                "format": STATE_FORMAT,
                "env": env,
                "database": database,
                "collection": collection,
                "schema": self.schema.to_json() if self.schema else None,
                "schema_fingerprint": self.schema.fingerprint if self.schema else None,
                "schema_version": self.schema_version,
                "watermark_ms": self.watermark_ms,
                "watermark": iso_ms(self.watermark_ms),
                "synced_until_ms": self.synced_until_ms,
                "synced_until": iso_ms(self.synced_until_ms),
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
