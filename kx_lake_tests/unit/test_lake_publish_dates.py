"""Which dates a publication rewrites: a date with nothing new under an unchanged schema is left alone."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pyarrow as pa

from kx_lake.lib.lake.pipeline import StagedCollection, _dates_to_write
from kx_lake.lib.storage import LakeStorage

D1, D2, D3, D4 = (dt.date(2024, 3, d) for d in (9, 10, 11, 12))


def staged(**kw) -> StagedCollection:
    fields = dict(schema_changed=False, rewrite_dates=[], rows_by_date={}, requested_dates=[D1, D2, D3])
    fields.update(kw)
    ns = SimpleNamespace(**fields)
    ns.dates = sorted(set(ns.requested_dates) | set(ns.rewrite_dates))
    return ns  # type: ignore[return-value]


def unlisted() -> set[str]:
    raise AssertionError("the lake is listed only when the schema changed")


def test_nothing_new_under_the_same_schema_writes_no_date():
    assert _dates_to_write(staged(), unlisted) == []


def test_only_dates_with_documents_or_rewrites_are_written():
    assert _dates_to_write(staged(rows_by_date={D2: 3}, rewrite_dates=[D4]), unlisted) == [D2, D4]


def test_a_changed_schema_also_rewrites_the_requested_dates_that_have_files(tmp_path):
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    assert storage.date_dirs("env1", "hims", "visits") == set()
    schema = pa.schema([("visit_id", pa.string())])
    storage.write_partition("env1", "hims", "visits", D3, {(): [pa.record_batch([pa.array(["v1"])], schema=schema)]}, schema)
    assert storage.date_dirs("env1", "hims", "visits") == {"date=2024-03-11"}
    existing = lambda: storage.date_dirs("env1", "hims", "visits")  # noqa: E731
    assert _dates_to_write(staged(schema_changed=True, rows_by_date={D2: 1}), existing) == [D2, D3]
