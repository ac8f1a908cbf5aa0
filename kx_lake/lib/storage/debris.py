"""Which leftover files a writer may sweep: never a temp file that a live sync may still commit.

Re-writing a date deletes every file under it that it did not just write: older files, leaves whose
rows moved, and temp files (`.part-00000.parquet.<uuid>.tmp`) of crashed writers. A temp file can
also be another run's in-flight write, about to be renamed into place; deleting it fails that run.
Every sync holds its environment's lease (lib/lake/lease.py) in the lake's state area, so the rule
is: while a lease record exists, a temp file modified at or after the moment its holder took the
lease belongs to a writer that may be live (the holder, or one that lost the lease while stalled)
and is spared; one modified before it is debris of a writer that ended earlier. With no lease record
there is no live sync, and every temp file is debris. Only the lease's start time is read here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import fsspec

from kx_lake.lib.storage import fsio
from kx_lake.lib.storage.models import LakeStorageError


def sweepable(fs: fsspec.AbstractFileSystem, paths: list[str], read_lease: Callable[[], Any]) -> list[str]:
    """`paths` minus the temp files a live writer may still own; `read_lease` is called only if there are temps."""
    temps = [p for p in paths if fsio.is_temp_name(p.rsplit("/", 1)[-1])]
    if not temps:
        return paths
    try:
        lease = read_lease()
        since = datetime.fromisoformat(lease["started_at"]).timestamp() if lease else None
    except (LakeStorageError, KeyError, TypeError, ValueError):
        since = float("-inf")  # an unreadable lease: assume a live writer, spare every temp file
    spared = set()
    for path in temps:
        modified = fsio.modified_at(fs, path)
        if modified is None or (since is not None and modified >= since):
            spared.add(path)  # gone already (renamed into place), or possibly a live writer's
    return [p for p in paths if p not in spared]
