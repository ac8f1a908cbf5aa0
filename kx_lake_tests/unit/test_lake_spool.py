"""The per-date spool reads back what it was given and leaves no directories behind."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import bson

from kx_lake.lib.lake.spool import DateSpool


def test_spool_round_trip_and_cleanup(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    spool = DateSpool(staging / "run-1" / "env1" / "hims_billing" / "bills", keep=staging)
    other = DateSpool(staging / "run-1" / "env1" / "hims_billing" / "payments", keep=staging)
    docs = [{"_id": i, "n": i} for i in range(7)]
    for doc in docs:
        spool.append(date(2026, 1, 1 + doc["_id"] % 2), bson.encode(doc))
    other.append(date(2026, 1, 1), bson.encode({"_id": 1}))
    assert spool.dates() == [date(2026, 1, 1), date(2026, 1, 2)]
    read = [d for chunk in spool.read(date(2026, 1, 1), chunk_docs=2) for d in chunk]
    assert read == [d for d in docs if d["_id"] % 2 == 0]

    spool.remove()  # the sibling still spools: shared parents stay
    assert not spool.directory.exists() and other.directory.exists()
    other.remove()  # last one out removes the run's empty directories, never the staging root
    assert staging.exists() and list(staging.iterdir()) == []
