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


def test_interleaved_dates_read_back_in_append_order_across_a_reopen(tmp_path: Path) -> None:
    """Dates interleave when timestamp encodings do (numbers, then text, then dates): each date keeps
    its append order over several runs of the one spool file, also after a read closed the writer."""
    spool = DateSpool(tmp_path / "spool")
    days = [date(2026, 1, d) for d in (1, 2, 3)]
    expected: dict[date, list[dict]] = {d: [] for d in days}
    for i in range(60):
        day = days[(i // 4) % 3] if i < 40 else days[i % 2]
        doc = {"_id": i, "pad": "x" * (i % 9)}
        spool.append(day, bson.encode(doc))
        expected[day].append(doc)
        if i == 40:
            assert [d for c in spool.read(days[2], chunk_docs=3) for d in c] == expected[days[2]]
    for day in days:
        assert [d for c in spool.read(day, chunk_docs=7) for d in c] == expected[day]
    assert spool.counts == {d: len(v) for d, v in expected.items()}
    assert list(spool.read(date(2026, 2, 1))) == []
    assert [p.name for p in spool.directory.iterdir()] == ["spool.bson"]
