"""The local Dagster instance: where `kx-lake sync` and `make dev` record runs.

Its dagster.yaml selects the batching SQLite event store (batching_event_log) when
`batching_problems()` finds nothing wrong: the pinned Dagster release it was verified against and
every private member it calls. Otherwise it writes the stock configuration and warns — a slower
full load, never a silently incomplete event log. A dagster.yaml the user wrote is kept as is.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dagster as dg

from kx_lake.builders.partitions import ENV_PARTITION_TAG, ENV_TAG

# The release whose SqlEventLogStorage.store_event the batched branch reproduces (requirements.lock).
# Bumping Dagster means re-reading that method and `batching_event_log`, then this constant.
VERIFIED_DAGSTER_VERSION = "1.13.27"
EVENT_BATCH_SIZE = "1000"
_MARKER = "# Written by kx-lake"

# One sync per environment: queued runs carrying the same environment tag start one at a time
# (kx_lake/env on the CLI's, schedule's and sensor's runs; dagster/partition/env on a UI launch of
# one partition). In-process runs skip the queue: the lake's lease (builders/run_lease.py) binds them.
_COMMON_YAML = f"""\
telemetry:
  enabled: false
concurrency:
  runs:
    tag_concurrency_limits:
      - key: {ENV_TAG}
        value:
          applyLimitPerUniqueValue: true
        limit: 1
      - key: {ENV_PARTITION_TAG}
        value:
          applyLimitPerUniqueValue: true
        limit: 1
"""
_BATCHING_YAML = f"""\
{_MARKER}: the stock SQLite storage with batched asset-event writes.
event_log_storage:
  module: kx_lake.builders.batching_event_log
  class: BatchingSqliteEventLogStorage
  config:
    base_dir: {{base_dir}}
""" + _COMMON_YAML
_STOCK_YAML = f"""\
{_MARKER}: stock storage (batching disabled: {{reason}}).
""" + _COMMON_YAML


def batching_problems() -> list[str]:
    """Why the batching event store can't be trusted in this process (empty: it can)."""
    if dg.__version__ != VERIFIED_DAGSTER_VERSION:
        return [f"verified with Dagster {VERIFIED_DAGSTER_VERSION}, running {dg.__version__}"]
    try:
        from kx_lake.builders import batching_event_log
    except ImportError as exc:  # a private module moved
        return [f"Dagster internals moved: {exc}"]
    return [f"SqliteEventLogStorage has no {m}" for m in batching_event_log.missing_members()]


def ensure_dagster_home(path: Path) -> Path:
    """Create the instance directory with kx-lake's dagster.yaml (kept if the user wrote their own)
    and enable event batching for this process."""
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists() or config.read_text().startswith(_MARKER):
        problems = batching_problems()
        if problems:
            warnings.warn(f"kx-lake: stock SQLite event storage ({'; '.join(problems)})", stacklevel=2)
            text = _STOCK_YAML.format(reason="; ".join(problems))
        else:
            text = _BATCHING_YAML.format(base_dir=path / "history" / "runs")
        if not config.exists() or config.read_text() != text:
            config.write_text(text)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    # One "planned" event per asset for a partition-range run instead of one per partition.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    return path
