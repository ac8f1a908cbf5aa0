"""The reconcile diff on small inputs: each class of document, on a real (temporary) DuckDB database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from kx_lake.lib.lake.reconcile import date_runs
from kx_lake.lib.lake.reconcile_diff import LAKE_SCHEMA, SOURCE_SCHEMA, KeyDiff



def lake_rows(*rows: tuple) -> pa.Table:
    """(id, type, ts, deleted, day) rows, leaf ['f1']."""
    return pa.Table.from_pylist([dict(zip(("id", "t", "ts", "deleted", "day"), r), leaf=["f1"]) for r in rows],
                                schema=LAKE_SCHEMA)


def diff_of(tmp_path: Path, source: list[tuple], lake: pa.Table) -> KeyDiff:
    diff = KeyDiff(tmp_path / "d")
    # two source chunks, as the stream sends them
    half = len(source) // 2
    for part in (source[:half], source[half:]):
        diff.add_source(pa.Table.from_pylist([dict(zip(("id", "t", "ts"), r)) for r in part], schema=SOURCE_SCHEMA))
    diff.add_lake(lake)
    return diff


def test_each_kind_is_counted_once(tmp_path: Path) -> None:
    d1, d2 = date(2026, 1, 1), date(2026, 1, 2)
    source = [
        ("same", "string", 2_000),
        ("newer", "string", 5_000),  # lake has 2_000 only: stale
        ("absent", "string", 3_000),  # not in the lake: missing
        ("1", "int", 2_000),  # the lake has "1" as text only: another document; this one is missing, that one gone
        ("no-ts", "string", None),  # rejected, not missing
        ("too-old", "string", None),  # rejected (before partitions_start: null from the source scan)
        ("back", "string", 4_000),  # tombstoned at 6_000, at the source again with an older time: withdraw
        ("reborn", "string", 9_000),  # tombstoned at 6_000, newer at the source: stale (shows again after sync)
    ]
    lake = lake_rows(
        ("same", "string", 1_500, None, d1), ("same", "string", 2_000, False, d2),
        ("newer", "string", 2_000, None, d1),
        ("1", "string", 2_000, None, d1),
        ("back", "string", 4_000, None, d1), ("back", "string", 6_000, True, d2),
        ("reborn", "string", 4_000, None, d1), ("reborn", "string", 6_000, True, d2),
        ("gone", "string", 2_500, None, d1),  # not at the source: deleted
        ("gone-before", "string", 2_500, None, d1), ("gone-before", "string", 7_000, True, d2),  # already tombstoned
    )
    diff = diff_of(tmp_path, source, lake)
    try:
        counts = diff.compare()
        assert counts.source_documents == 8
        assert counts.latest_ids == 4  # same, newer, "1" (text), gone
        assert (counts.missing, counts.stale, counts.deleted, counts.rejected, counts.withdrawn) == (2, 2, 2, 2, 1)
        assert sorted(diff.to_repair()) == [("1", "int", 2_000), ("absent", "string", 3_000),
                                            ("newer", "string", 5_000), ("reborn", "string", 9_000)]
        assert list(diff.gone()) == [("1", "string", 2_000, ["f1"]), ("gone", "string", 2_500, ["f1"])]
        assert list(diff.withdrawals()) == [("back", "string", 6_000, d2)]
        assert diff.repair_buckets() == [0]  # every repair time lies in the first quarter-hour
    finally:
        diff.close()


def test_repaired_counts_versions_at_least_as_new_as_the_source(tmp_path: Path) -> None:
    source = [("a", "string", 3_000), ("b", "string", 4_000), ("c", "string", 5_000)]
    diff = diff_of(tmp_path, source, lake_rows(("c", "string", 1_000, None, date(2026, 1, 1))))
    diff.compare()
    diff.close(remove=False)
    again = KeyDiff(tmp_path / "d", fresh=False)  # reopened after the repair, as reconcile_env does
    try:
        assert again.repaired() == 0
        again.add_after(pa.table({"id": ["a", "b", "c"], "t": ["string"] * 3, "ts": pa.array([3_000, 3_999, 1_000]),
                                  "deleted": pa.array([None, None, None], pa.bool_())}))
        assert again.repaired() == 1  # b's version is older than the source's, c was not re-written
    finally:
        again.close()
    assert not (tmp_path / "d" / "reconcile.duckdb").exists()


def test_rejects_settle_when_deleted_at_the_source_or_landed(tmp_path: Path) -> None:
    d1 = date(2026, 1, 1)
    source = [
        ("still-bad", "string", None),  # still unplaceable: the reject stays
        ("fixed-now", "string", 3_000),  # placeable, not in the lake yet: repaired below
        ("fixed-failed", "string", 3_000),  # placeable, but the repair did not land it: stays
        ("landed-before", "string", 2_000),  # an earlier sync landed it (ok)
    ]
    lake = lake_rows(("landed-before", "string", 2_000, None, d1), ("deleted", "string", 1_000, None, d1))
    diff = diff_of(tmp_path, source, lake)
    diff.compare()
    diff.add_rejects([("still-bad", "string"), ("fixed-now", "string"), ("fixed-failed", "string"),
                      ("landed-before", "string"), ("deleted", "string"), ("never-landed-gone", "objectId")])
    diff.close(remove=False)
    again = KeyDiff(tmp_path / "d", fresh=False)
    try:
        again.add_after(pa.table({"id": ["fixed-now"], "t": ["string"], "ts": pa.array([3_000]),
                                  "deleted": pa.array([None], pa.bool_())}))
        assert again.settled_rejects() == [("deleted", "string"), ("fixed-now", "string"),
                                           ("landed-before", "string"), ("never-landed-gone", "objectId")]
    finally:
        again.close()


def test_an_agreeing_lake_has_nothing_to_do(tmp_path: Path) -> None:
    diff = diff_of(tmp_path, [("a", "string", 2_000), ("b", "objectId", 3_000)],
                   lake_rows(("a", "string", 2_000, None, date(2026, 1, 1)),
                             ("b", "objectId", 3_000, False, date(2026, 1, 1))))
    try:
        counts = diff.compare()
        assert (counts.missing, counts.stale, counts.deleted, counts.rejected, counts.withdrawn) == (0, 0, 0, 0, 0)
        assert counts.latest_ids == counts.source_documents == 2
        assert not list(diff.to_repair()) and not list(diff.gone())
    finally:
        diff.close()


def test_date_runs_split_at_gaps() -> None:
    days = {date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 5), date(2026, 2, 1), date(2026, 1, 31)}
    assert date_runs(days) == [(date(2026, 1, 1), date(2026, 1, 2)), (date(2026, 1, 5), date(2026, 1, 5)),
                               (date(2026, 1, 31), date(2026, 2, 1))]
