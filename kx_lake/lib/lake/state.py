"""Per collection × environment state kept beside the data: the lake schema and the watermark.

`<lake_root>/<env>/_kx_state/<database>/<collection>.json`, replaced atomically, written only after
the partitions it describes are published. No state means "never loaded": the next sync is a full
load. The watermark is the newest modified timestamp written (UTC epoch millis, plus its ISO form
for people), so a type or timezone mix-up cannot silently move it — capped at the time of extraction
plus FUTURE_SKEW_MS: a document stamped later today (placeable: it is before tomorrow) must not carry
it hours ahead, where the new-data sensor, looking past it, would miss what is written meanwhile. `synced_until` is the end of the
newest window extracted (capped at the time of extraction): anything new or modified since then
carries a later timestamp, give or take late commits, so the next incremental sync starts there.

Schema history (for the schema-drift check): when a write changes the schema's fingerprint, the
schema it replaces is kept as `previous_schema` (with its version), `schema_changed_at` is set to
the write's time and `schema_changed_in_last_write` to true; writes that keep the schema carry the
first two over and set the flag to false. Older state files without them read
as "no previous schema".

`published_dates` ({date: record}, lake/unchanged.py) says, for the newest dates published, which
documents they were published from and which files that left; a date still matching both is not
rewritten by a cycle that extracts the same documents again. A state without it skips nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from kx_lake.lib.harmonize import StructType, from_json
from kx_lake.lib.storage import LakeStorage

STATE_FORMAT = 1
FUTURE_SKEW_MS = 10 * 60 * 1000  # how far past "now" a watermark or the sensor's cursor may reach (host clock skew)


def capped_watermark(watermark_ms: int | None, now_ms: int) -> int | None:
    """The watermark to store: never past `now_ms` + FUTURE_SKEW_MS."""
    return None if watermark_ms is None else min(watermark_ms, now_ms + FUTURE_SKEW_MS)


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
    previous_schema: StructType | None = None
    previous_schema_version: int | None = None
    schema_changed_at: str | None = None
    schema_changed_in_last_write: bool = False
    published_dates: dict[str, str] = field(default_factory=dict)

    @classmethod
    def read(cls, storage: LakeStorage, env: str, database: str, collection: str) -> CollectionState:
        raw = storage.read_json(env, state_relpath(database, collection))
        if raw is None:
            return cls()
        schema = from_json(raw["schema"]) if raw.get("schema") else None
        if schema is not None and not isinstance(schema, StructType):
            raise ValueError(f"{env}/{database}.{collection}: stored lake schema is not a struct")
        previous = from_json(raw["previous_schema"]) if raw.get("previous_schema") else None
        return cls(
            schema, int(raw.get("schema_version", 0)), raw.get("watermark_ms"), raw.get("synced_until_ms"),
            raw.get("updated_at"),
            previous_schema=previous if isinstance(previous, StructType) else None,
            previous_schema_version=raw.get("previous_schema_version"),
            schema_changed_at=raw.get("schema_changed_at"),
            schema_changed_in_last_write=bool(raw.get("schema_changed_in_last_write")),
            published_dates=_records(raw.get("published_dates")),
        )

    def write(self, storage: LakeStorage, env: str, database: str, collection: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        old = storage.read_json(env, state_relpath(database, collection)) or {}
        new_fp = self.schema.fingerprint if self.schema else None
        if old.get("schema") and old.get("schema_fingerprint") != new_fp:
            history = {"previous_schema": old["schema"], "previous_schema_version": old.get("schema_version"),
                       "schema_changed_at": now, "schema_changed_in_last_write": True}
        else:
            history = {k: old.get(k) for k in ("previous_schema", "previous_schema_version", "schema_changed_at")}
            history["schema_changed_in_last_write"] = False
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
                "updated_at": now,
                "published_dates": self.published_dates,
                **history,
            },
        )


def _records(raw: object) -> dict[str, str]:
    """The stored records, or none when the field is absent or not what this version writes."""
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
