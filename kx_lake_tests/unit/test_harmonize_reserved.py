"""Reserved columns: a top-level key whose column name is a partition column (`date`, an id column)
is stored in `<name>_`, identically at inference, conversion and in the round-trip proof, and the
value survives the storage layer (which drops data columns named like partition columns)."""

from __future__ import annotations

import datetime as dt
import random
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bson import SON, Decimal128, ObjectId
from zoneinfo import ZoneInfo

from kx_lake.lib.harmonize import Converter, HarmonizeError, SchemaAccumulator, check_round_trip, from_json
from kx_lake.lib.harmonize.columns import _split_one_by_one, split_objects
from kx_lake.lib.harmonize.names import OVERFLOW_FIELD, plan_keys, reserved_names, top_column_name
from kx_lake.lib.harmonize.types import INT64, JSON, STRING, TIMESTAMP, StructType
from kx_lake.lib.storage import LakeStorage

IST = ZoneInfo("Asia/Kolkata")
T0 = datetime(2026, 1, 1, 20, 0)
RESERVED = ("date", "facility_id")
S = StructType.of


def harmonize(docs, *, reserved=RESERVED, ts="updated_at", schema=None):
    acc = SchemaAccumulator(ts, schema=schema, reserved_columns=reserved)
    acc.observe_many(docs)
    conv = Converter(acc.schema, IST, ts, reserved_columns=reserved)
    batch = conv.convert(docs)
    assert batch.schema == acc.schema.to_arrow_schema()
    return acc.schema, batch


def check(docs, schema, batch, *, reserved=RESERVED, ts="updated_at"):
    return check_round_trip(docs, batch, schema, tz=IST, timestamp_column=ts, reserved_columns=reserved)


def attendance(i: int, **extra) -> dict:
    """Like hims_hr.attendance: a top-level `date` field; `facility_id` already popped by the pipeline."""
    return {"_id": ObjectId(), "updated_at": T0 + timedelta(minutes=i), "staff_id": f"S{i}", **extra}


# --- the naming rule ---------------------------------------------------------------------------


def test_top_level_reserved_names_get_a_suffix():
    reserved = reserved_names(RESERVED)
    assert top_column_name("date", reserved) == "date_"
    assert top_column_name("Date", reserved) == "date_"
    assert top_column_name("DATE", reserved) == "date_"
    assert top_column_name("Facility_ID", reserved) == "facility_id_"
    assert top_column_name("facility id", reserved) == "facility_id_"
    assert top_column_name("facility-id", reserved) == "facility_id_"
    assert top_column_name("date_", reserved) == "date_"  # not reserved itself: unchanged
    assert top_column_name("dates", reserved) == "dates"
    assert top_column_name("date", frozenset()) == "date"


def test_reserved_names_are_validated_and_compared_as_column_names():
    assert reserved_names(["facilityId", "date"]) == {"facilityid", "date"}  # as Glue lowercases
    assert reserved_names(()) == frozenset()
    with pytest.raises(TypeError):
        reserved_names("date")  # a string is not a list of names
    for bad in ("_id", "_kx_overflow", "_kx_value", "", "x" * 255):
        with pytest.raises(ValueError):
            reserved_names([bad])
    with pytest.raises(TypeError):
        SchemaAccumulator("updated_at", reserved_columns="date")


def test_plan_keys_collisions_after_the_suffix():
    reserved = reserved_names(RESERVED)
    # a real `date_` key equals the column name: it wins, `date` goes to _kx_overflow
    plan = plan_keys(("date", "date_"), None, reserved)
    assert plan.names == (None, "date_") and plan.losers == ("date",)
    # `Date` and `date` both map to `date_`: the smallest key by code point wins, as for any collision
    plan = plan_keys(("date", "Date"), None, reserved)
    assert plan.names == (None, "date_") and plan.losers == ("date",)
    # `<name>_` reserved too: the key goes to _kx_overflow; a `date_` key moves on to `date__`
    both = reserved_names(["date", "date_"])
    plan = plan_keys(("date", "date_", "x"), None, both)
    assert plan.names == (None, "date__", "x") and plan.losers == ("date",)
    # the timestamp key wins a collision on its column
    plan = plan_keys(("date", "date_"), "date", reserved)
    assert plan.names == ("date_", None) and plan.losers == ("date_",)
    # without reserved columns nothing changes
    assert plan_keys(("date", "date_")).names == ("date", "date_")


@pytest.mark.parametrize("reserved", [("date",), ("date", "date_"), ("date", "facility_id", "a")])
@pytest.mark.parametrize("layout", ["uniform", "reordered", "wide", "mixed"])
@pytest.mark.parametrize("seed", range(4))
def test_split_objects_fast_paths_agree_with_the_plan(reserved, layout, seed):
    keys = ["date", "Date", "date_", "DATE_", "facility_id", "Facility ID", "a", "A", "_kx_value"]
    rng = random.Random(seed)
    if layout == "uniform":
        fixed = rng.sample(keys, 4)
        objects = [{k: rng.randrange(5) for k in fixed} for _ in range(50)]
    elif layout == "reordered":
        fixed = rng.sample(keys, 4)
        objects = [{k: rng.randrange(5) for k in rng.sample(fixed, 4)} for _ in range(50)]
    elif layout == "wide":
        objects = [{k: rng.randrange(5) for k in keys} for _ in range(50)]
    else:
        objects = [{k: rng.choice([None, 1, "s"]) for k in rng.sample(keys, rng.randrange(0, 6))} for _ in range(50)]
    names = reserved_names(reserved)
    for prefer in (None, "date", "Date"):
        want = _split_one_by_one(objects, prefer, names)
        assert split_objects(objects, prefer, reserved=names) == want
        assert split_objects([SON(o) for o in objects], prefer, reserved=names) == want
        assert not set(want[0]) & names  # no reserved column is ever produced


# --- inference, conversion, round trip ---------------------------------------------------------


def test_date_key_is_stored_in_date_():
    docs = [attendance(0, date="2026-01-01"), attendance(1, date="2026-01-02", shift={"date": "nested is fine"})]
    schema, batch = harmonize(docs)
    assert "date" not in schema.names and schema.get("date_") == STRING
    assert schema.get("shift") == S({"date": STRING})  # only the top level is affected
    rows = batch.to_pylist()
    assert [r["date_"] for r in rows] == ["2026-01-01", "2026-01-02"]
    assert rows[1]["shift"] == {"date": "nested is fine"}
    assert check(docs, schema, batch) == []


def test_without_reserved_columns_nothing_changes():
    docs = [attendance(0, date="2026-01-01")]
    schema, batch = harmonize(docs, reserved=())
    assert schema.get("date") == STRING and "date_" not in schema.names
    assert check(docs, schema, batch, reserved=()) == []


def test_date_like_and_id_like_keys():
    docs = [
        attendance(0, Date=datetime(2026, 1, 1, 0, 0)),
        attendance(1, Facility_ID="F1"),
        attendance(2, **{"facility id": 7}),
        attendance(3, **{"DATE": "text", "facility-ID": None}),
    ]
    schema, batch = harmonize(docs)
    assert not {"date", "facility_id"} & set(schema.names)
    assert schema.get("date_") == STRING  # a date and a string: widened as usual
    assert schema.get("facility_id_") == STRING
    rows = batch.to_pylist()
    assert rows[0]["date_"] == "2026-01-01T00:00:00.000Z"
    assert [r["facility_id_"] for r in rows] == [None, "F1", "7", None]
    assert check(docs, schema, batch) == []


def test_collision_with_an_existing_date_underscore_key():
    docs = [
        attendance(0, date="D", date_="U"),  # `date_` is the name itself: it wins; `date` -> overflow
        attendance(1, date="only"),
        attendance(2, Date="upper", date="lower"),  # both map to date_: `Date` (smaller) wins
        attendance(3, date_=5),
    ]
    schema, batch = harmonize(docs)
    assert schema.get("date_") == STRING and schema.get(OVERFLOW_FIELD) == JSON
    rows = batch.to_pylist()
    assert [r["date_"] for r in rows] == ["U", "only", "upper", "5"]
    assert [r[OVERFLOW_FIELD] for r in rows] == ['{"date":"D"}', None, '{"date":"lower"}', None]
    assert check(docs, schema, batch) == []


def test_suffixed_name_reserved_too_goes_to_overflow():
    docs = [attendance(0, date=1, date_=2), attendance(1, date=3)]
    reserved = ("date", "date_")
    schema, batch = harmonize(docs, reserved=reserved)
    assert not {"date", "date_"} & set(schema.names)
    assert schema.get("date__") == INT64
    rows = batch.to_pylist()
    assert [r["date__"] for r in rows] == [2, None]
    assert [r[OVERFLOW_FIELD] for r in rows] == ['{"date":1}', '{"date":3}']
    assert check(docs, schema, batch, reserved=reserved) == []


def test_timestamp_column_named_like_a_reserved_column():
    docs = [{"_id": 1, "date": T0, "date_": "kept"}, {"_id": 2, "date": T0 + timedelta(days=1)}]
    schema, batch = harmonize(docs, ts="date")
    assert schema.get("date_") == TIMESTAMP and "date" not in schema.names
    rows = batch.to_pylist()
    assert rows[0]["date_"] == datetime(2026, 1, 2, 1, 30)  # wall clock in IST
    assert rows[0][OVERFLOW_FIELD] == '{"date_":"kept"}'  # the timestamp key wins its column
    assert check(docs, schema, batch, ts="date") == []
    with pytest.raises(HarmonizeError, match="reserved"):
        SchemaAccumulator("date", reserved_columns=("date", "date_"))
    with pytest.raises(HarmonizeError, match="reserved"):
        Converter(S({"_id": STRING}), IST, "date", reserved_columns=("date", "date_"))


def test_round_trip_needs_the_same_rule_and_catches_a_dropped_value():
    docs = [attendance(i, date=f"2026-01-0{i + 1}", Facility_ID=f"F{i}") for i in range(3)]
    schema, batch = harmonize(docs)
    assert check(docs, schema, batch) == []
    assert check(docs, schema, batch, reserved=()) != []  # checked under another rule: not found
    tampered = batch.set_column(batch.schema.get_field_index("date_"), "date_", pa.array([None, "x", "2026-01-03"]))
    problems = check(docs, schema, tampered)
    assert len(problems) == 2 and all("date" in p for p in problems)


def test_random_documents_with_reserved_keys_round_trip():
    rng = random.Random(11)
    keys = ["date", "Date", "date_", "facility_id", "Facility ID", "facility_id_", "x"]
    values = [None, 1, 2.5, "s", T0, Decimal128("1.50"), {"date": 1}, [1, "a"], {}]
    docs = []
    for i in range(300):
        doc = attendance(i)
        for key in rng.sample(keys, rng.randrange(0, len(keys))):
            doc[key] = rng.choice(values)
        docs.append(doc)
    for reserved in (RESERVED, ("date", "date_", "facility_id")):
        schema, batch = harmonize(docs, reserved=reserved)
        assert not set(schema.names) & reserved_names(reserved)
        assert check(docs, schema, batch, reserved=reserved) == []


def test_schema_persisted_before_the_rule_still_loads():
    docs = [attendance(0, date="2026-01-01")]
    old_schema, _ = harmonize(docs, reserved=())
    stored = from_json(old_schema.to_json())  # as persisted by the lake state before the change
    assert stored.get("date") == STRING
    # a converter for the old schema can be built; the new rule's column isn't in it yet: stale
    with pytest.raises(HarmonizeError, match="not in the schema"):
        Converter(stored, IST, "updated_at", reserved_columns=RESERVED).convert(docs)
    # the accumulator widens it: `date_` added, the old `date` kept (inference never narrows), all null
    schema, batch = harmonize(docs, schema=stored)
    assert schema.get("date_") == STRING and schema.get("date") == STRING
    assert batch.column("date").null_count == 1 and batch.column("date_").to_pylist() == ["2026-01-01"]
    assert check(docs, schema, batch) == []


# --- through the storage layer -----------------------------------------------------------------


def test_without_the_rule_storage_drops_the_date_values(tmp_path):
    """Why the rule exists: a data column named like a partition column is dropped by storage."""
    docs = [attendance(0, date="2026-01-01")]
    schema, batch = harmonize(docs, reserved=())
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    [file] = storage.write_partition("env1", "hims_hr", "attendance", dt.date(2026, 1, 2), {(): batch}, batch.schema)
    assert "date" not in pq.read_schema(file.path).names


def test_date_underscore_values_survive_storage(tmp_path):
    raw = [
        {**attendance(0, date="2026-01-01", status="present"), "facility_id": "F1"},
        {**attendance(1, date="2026-01-01", Facility_ID="legacy", status="absent"), "facility_id": "F1"},
        {**attendance(2, Date=T0, status="present"), "facility_id": "F2"},
    ]
    reserved = ("date", "facility_id")
    acc = SchemaAccumulator("updated_at", reserved_columns=reserved)
    leaves: dict[tuple[str], list[dict]] = {}
    for doc in raw:  # as the pipeline does: the exact partition key is popped first
        doc = dict(doc)
        leaves.setdefault((doc.pop("facility_id"),), []).append(doc)
    for docs in leaves.values():
        acc.observe_many(docs)
    conv = Converter(acc.schema, IST, "updated_at", reserved_columns=reserved)
    storage = LakeStorage.from_root(str(tmp_path / "lake"))
    day = dt.date(2026, 1, 2)
    written = storage.write_partition(
        "env1", "hims_hr", "attendance", day,
        {key: conv.convert(docs) for key, docs in leaves.items()},
        conv.arrow_schema, id_columns=["facility_id"],
    )
    assert len(written) == 2
    # every harmonized column is in the files: nothing was dropped as a partition column
    for file in written:
        assert pq.read_schema(file.path).names == conv.arrow_schema.names  # a local path
    table = storage.read_table("env1", "hims_hr", "attendance").sort_by("updated_at")
    assert table.column("date_").to_pylist() == ["2026-01-01", "2026-01-01", "2026-01-01T20:00:00.000Z"]
    assert table.column("facility_id_").to_pylist() == [None, "legacy", None]
    assert table.column("date").to_pylist() == [day] * 3  # the partition columns, from the path
    assert table.column("facility_id").to_pylist() == ["F1", "F1", "F2"]
    # and the round trip holds on what was read back
    docs = [d for docs in leaves.values() for d in docs]
    data = table.select(conv.arrow_schema.names)
    index = {v: i for i, v in enumerate(data.column("_id").to_pylist())}
    rows = data.take([index[str(d["_id"])] for d in docs])
    assert check_round_trip(docs, rows, acc.schema, tz=IST, timestamp_column="updated_at", reserved_columns=reserved) == []
