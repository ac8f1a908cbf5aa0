"""Lake layout and Hive-style partition escaping (pure functions, no filesystem)."""

from __future__ import annotations

import datetime as dt

import pytest

from kx_lake.lib.storage.paths import (
    DEFAULT_PARTITION,
    LakeLayoutError,
    escape_partition_value,
    leaf_relpath,
    parse_leaf,
    state_relpath,
    table_relpath,
    unescape_partition_value,
)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("plain-value_1.2 with space", "plain-value_1.2 with space"),
        ("a/b", "a%2Fb"),
        ("k=v", "k%3Dv"),
        ("100%", "100%25"),
        ("12:30", "12%3A30"),
        ("q\"#'*?\\{[]^", "q%22%23%27%2A%3F%5C%7B%5B%5D%5E"),
        ("tab\tnl\n\x7f", "tab%09nl%0A%7F"),
        ("ಕನ್ನಡ", "ಕನ್ನಡ"),  # non-ASCII is kept, as Hive does
        (42, "42"),
        (None, DEFAULT_PARTITION),
        ("", DEFAULT_PARTITION),
    ],
)
def test_escape_matches_hive(value, escaped):
    assert escape_partition_value(value) == escaped


@pytest.mark.parametrize("value", ["a/b=c%d:e", "%%", "%2", "x%", "100%25", "ಕನ್ನಡ/1", "\x01\x1f", "..", " "])
def test_escape_round_trip(value):
    assert unescape_partition_value(escape_partition_value(value)) == value


def test_unescape_leaves_malformed_percent_alone_and_maps_default_to_none():
    assert unescape_partition_value("a%zzb%4") == "a%zzb%4"
    assert unescape_partition_value("a%2fb") == "a/b"  # lower-case hex, as other writers may emit
    assert unescape_partition_value(DEFAULT_PARTITION) is None


@pytest.mark.parametrize("value", [True, 1.5, b"x", dt.date(2024, 1, 1)])
def test_escape_refuses_other_types(value):
    with pytest.raises(LakeLayoutError, match="partition value"):
        escape_partition_value(value)


def test_layout_is_exact():
    assert table_relpath("env1", "hims", "patients") == "env1/hims/patients"
    assert leaf_relpath("env1", "hims", "patients", dt.date(2024, 3, 9)) == "env1/hims/patients/date=2024-03-09"
    ids = [("site", "BLR/1"), ("ward", None)]
    assert (
        leaf_relpath("env1", "hims", "patients", "2024-03-09", ids)
        == "env1/hims/patients/date=2024-03-09/site=BLR%2F1/ward=__HIVE_DEFAULT_PARTITION__"
    )


def test_parse_leaf_inverts_the_layout():
    date, ids = parse_leaf("date=2024-03-09/site=BLR%2F1/ward=__HIVE_DEFAULT_PARTITION__")
    assert date == dt.date(2024, 3, 9)
    assert ids == (("site", "BLR/1"), ("ward", None))
    assert parse_leaf("date=2024-03-09") == (dt.date(2024, 3, 9), ())


@pytest.mark.parametrize("relpath", ["site=a", "date=2024-13-01", "date=2024-01-01/noequals", ""])
def test_parse_leaf_rejects_foreign_paths(relpath):
    with pytest.raises(LakeLayoutError):
        parse_leaf(relpath)


@pytest.mark.parametrize(
    ("env", "db", "coll"),
    [("env/1", "db", "c"), ("env1", "..", "c"), ("env1", "db", "_hidden"), ("env1", "db", ".c"), ("", "db", "c")],
)
def test_names_that_would_break_the_layout_are_refused(env, db, coll):
    with pytest.raises(LakeLayoutError, match="not a plain lake path segment"):
        table_relpath(env, db, coll)


@pytest.mark.parametrize("date", ["2024-1-01", "20240101", "2024-02-30", dt.datetime(2024, 1, 1), None])
def test_bad_dates_are_refused(date):
    with pytest.raises(LakeLayoutError, match="partition date"):
        leaf_relpath("env1", "db", "c", date)


def test_hidden_partition_column_is_refused():
    with pytest.raises(LakeLayoutError, match="_site"):
        leaf_relpath("env1", "db", "c", "2024-01-01", [("_site", "a")])


def test_state_paths_stay_under_the_env_state_dir():
    assert state_relpath("env1", "hims/patients/watermark.json") == "env1/_kx_state/hims/patients/watermark.json"
    for bad in ["/etc/passwd", "../x.json", "a//b.json", "a/./b.json", ""]:
        with pytest.raises(LakeLayoutError, match="state path"):
            state_relpath("env1", bad)
