"""Deliberate messes: the type conflicts, gaps and oddities a real HIMS's MongoDB accumulates over
years of app versions, migrations and integrations, injected on purpose so the lake is tested on them.

Each mess is injected by a helper here (called by the domain module that builds that field) and
declared in MESSES with a checker. A checker gets `fetch(collection) -> documents` and returns True
when the documents show the mess, so the same list tests generated documents and seeded MongoDB.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson import ObjectId
from bson.decimal128 import Decimal128
from bson.int64 import Int64

from kx_lake.lib.synth.world import alt_spelling

Fetch = Callable[[str], Iterable[dict[str, Any]]]
INT32_MAX = 2**31 - 1
LEGACY_ALLERGY_P = 0.3      # patients migrated from the old HIMS keep allergies as plain strings
LEGACY_DIAGNOSIS_P = 0.06   # encounters written by the v1 mobile app: ICD codes only
AMOUNT_STRING_P = 0.04      # bills.total_amount as text (CSV import), and as whole-rupee longs
PHONE_LONG_P = 0.25         # phone numbers stored as 12-digit longs by the kiosk app
STRING_PAYMENT_ID_P = 0.03  # payments imported from the old cash module keep "PAY-..." ids
SPRING_CLASS_P = 0.5        # documents written by the Java scheduling service carry _class


# FerretDB v1 (the local source) cannot store Decimal128; runs against it write those amounts as doubles.
DECIMAL128: ContextVar[bool] = ContextVar("synth_decimal128", default=True)


def money(x: float) -> Decimal128 | float:
    """An amount as Decimal128 (M16/M17), or a double where the server cannot store Decimal128."""
    return Decimal128(Decimal(f"{x:.2f}")) if DECIMAL128.get() else round(x, 2)


def supports_decimal128(build_info: dict[str, Any]) -> bool:
    """False for FerretDB 1.x (its SQLite backend drops the connection on Decimal128)."""
    version = build_info.get("ferretdbVersion")
    return version is None or str(version).lstrip("v").startswith("2")


def allergies_value(rng: random.Random, items: list[dict[str, Any]]) -> list[Any]:
    """M01: array<string> in legacy documents, array<struct> otherwise."""
    if items and rng.random() < LEGACY_ALLERGY_P:
        return [a["substance"] for a in items]
    return items


def diagnoses_value(rng: random.Random, items: list[dict[str, Any]]) -> list[Any]:
    """M02: array<struct> normally, array<string> of bare ICD-10 codes from the v1 app."""
    if items and rng.random() < LEGACY_DIAGNOSIS_P:
        return [d["code"] for d in items]
    return items


def instructions_value(rng: random.Random, dose: str, freq: str, days: int, route: str) -> Any:
    """M03: free text in some prescriptions, a struct in others."""
    if rng.random() < 0.35:
        return f"{dose} {freq} x {days} days ({route})"
    return {"dose": dose, "frequency": freq, "duration_days": days, "route": route}


def amount_value(rng: random.Random, x: float) -> Any:
    """M04: double mostly; a string in some bills, a whole-rupee long in others."""
    r = rng.random()
    if r < AMOUNT_STRING_P:
        return f"{x:.2f}"
    if r < 2 * AMOUNT_STRING_P:
        return Int64(round(x))
    return round(x, 2)


def phone_value(rng: random.Random, national: int) -> Any:
    """M05: '+91 98xxxxxxxx' text, or the 12-digit long 9198xxxxxxxx (beyond int32)."""
    if rng.random() < PHONE_LONG_P:
        return Int64(910000000000 + national)
    return f"+91 {national}"


def facility_name(rng: random.Random, fac: Any, mess_facility_id: str) -> str:
    """M19: the first facility's name is sometimes denormalised with a second spelling."""
    if fac.id == mess_facility_id and rng.random() < 0.35:
        return alt_spelling(fac.name)
    return fac.name


def _values(fetch: Fetch, coll: str, path: str) -> Iterable[Any]:
    for doc in fetch(coll):
        yield from _walk(doc, path.split("."))


def _walk(node: Any, parts: list[str]) -> Iterable[Any]:
    if not parts:
        yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, parts)
    elif isinstance(node, dict) and parts[0] in node:
        yield from _walk(node[parts[0]], parts[1:])


def _types(fetch: Fetch, coll: str, path: str, elements: bool = False) -> set[str]:
    out: set[str] = set()
    for value in _values(fetch, coll, path):
        items = value if elements and isinstance(value, list) else [value]
        for v in items:
            out.add("long" if isinstance(v, Int64) else type(v).__name__)
    return out


def _has_all(*wanted: str, coll: str, path: str, elements: bool = False) -> Callable[[Fetch], bool]:
    return lambda fetch: set(wanted) <= _types(fetch, coll, path, elements)


def _big_int(coll: str, path: str) -> Callable[[Fetch], bool]:
    return lambda fetch: any(isinstance(v, int) and v > INT32_MAX for v in _values(fetch, coll, path))


def _present_and_absent(coll: str, field: str) -> Callable[[Fetch], bool]:
    def check(fetch: Fetch) -> bool:
        seen = [field in doc for doc in fetch(coll)]
        return any(seen) and not all(seen)
    return check


def _null(coll: str, field: str) -> Callable[[Fetch], bool]:
    return lambda fetch: any(field in d and d[field] is None for d in fetch(coll))


def _empty_array(coll: str, field: str) -> Callable[[Fetch], bool]:
    return lambda fetch: any(d.get(field) == [] for d in fetch(coll))


def _name_variants(fetch: Fetch) -> bool:
    master = {d["_id"]: d["name"] for d in fetch("facilities")}
    return any(d.get("facility_name") not in (None, master.get(d["facility_id"])) for d in fetch("encounters"))


def _mixed_ids(fetch: Fetch) -> bool:
    kinds = {type(d["_id"]) for d in fetch("payments")}
    return {ObjectId, str} <= kinds


def _iso_offsets(fetch: Fetch) -> bool:
    vals = [v for v in _values(fetch, "payer_settlements", "settled_on") if isinstance(v, str)]
    return any(v.endswith("Z") for v in vals) and any(v.endswith("+05:30") for v in vals)


@dataclass(frozen=True)
class Mess:
    id: str
    collection: str
    field: str
    description: str
    check: Callable[[Fetch], bool]
    needs_decimal128: bool = False  # absent on servers without Decimal128 (FerretDB 1.x): doubles there


MESSES: tuple[Mess, ...] = (
    Mess("M01", "patients", "allergies", "array<string> (legacy migration) in some documents, "
         "array<struct{substance,reaction,severity,noted_on}> in others", _has_all("str", "dict", coll="patients",
                                                                                   path="allergies", elements=True)),
    Mess("M02", "encounters", "diagnoses", "array<struct{code,description,type,...}> normally, array<string> of "
         "bare ICD-10 codes from the v1 app",
         _has_all("str", "dict", coll="encounters", path="diagnoses", elements=True)),
    Mess("M03", "prescriptions", "medicines.instructions", "free-text string in some prescriptions, "
         "struct{dose,frequency,duration_days,route} in others",
         _has_all("str", "dict", coll="prescriptions", path="medicines.instructions")),
    Mess("M04", "bills", "total_amount", "double in most bills, string ('12345.50') in some, int64 in others",
         _has_all("float", "str", "long", coll="bills", path="total_amount")),
    Mess("M05", "patients", "phone", "string '+91 98...' in most documents, 12-digit int64 (beyond int32) in others",
         _has_all("str", "long", coll="patients", path="phone")),
    Mess("M06", "patients", "uhid", "12-digit integer ids beyond int32 (int64)", _big_int("patients", "uhid")),
    Mess("M07", "lab_samples", "barcode", "10-digit sample barcodes as int64", _big_int("lab_samples", "barcode")),
    Mess("M08", "patients", "date_of_birth", "BSON date in most documents, 'YYYY-MM-DD' string in legacy ones",
         _has_all("datetime", "str", coll="patients", path="date_of_birth")),
    Mess("M09", "vitals", "recorded_at_ms", "timestamp column as int64 epoch millis (also bed_status_events.event_ts, "
         "audit_logs.ts, queue_tokens/drug_master/drug_batches.modifiedAt)", _big_int("vitals", "recorded_at_ms")),
    Mess("M10", "payer_settlements", "settled_on", "timestamp column as ISO-8601 text, with '+05:30' in most "
         "documents and 'Z' in some (also visit_checkins.lastModified)", _iso_offsets),
    Mess("M11", "patients", "email", "missing in some documents, null in others, a string in the rest",
         lambda f: _present_and_absent("patients", "email")(f) and _null("patients", "email")(f)),
    Mess("M12", "appointments", "_class", "extra field written only by the Java scheduling service",
         _present_and_absent("appointments", "_class")),
    Mess("M13", "discharges", "follow_up_on", "null when no follow-up is advised", _null("discharges", "follow_up_on")),
    Mess("M14", "bills", "payments", "empty array on waived follow-ups (status no_charge) and on credit bills not "
         "yet settled", _empty_array("bills", "payments")),
    Mess("M15", "insurance_claims", "adjudication.lines.deductions.reason.code", "deep nesting: 5 levels of "
         "struct/array", lambda f: any(True for _ in _values(f, "insurance_claims",
                                                              "adjudication.lines.deductions.reason.code"))),
    Mess("M16", "payments", "amount", "Decimal128 amounts (also refunds, deposits, claims, pre-authorisations, "
         "insurance plans, payroll totals)", _has_all("Decimal128", coll="payments", path="amount"), True),
    Mess("M17", "pharmacy_sales", "net_amount", "Decimal128 from the new POS in some facilities, double elsewhere",
         _has_all("Decimal128", "float", coll="pharmacy_sales", path="net_amount"), True),
    Mess("M18", "payments", "_id", "ObjectId _ids mostly, 'PAY-...' string _ids for imported legacy payments "
         "(patients and all masters use string _ids throughout)", _mixed_ids),
    Mess("M19", "encounters", "facility_name", "one facility_id carries a second spelling of its name in "
         "denormalised facility_name (encounters and bills) besides the facilities master's", _name_variants),
)
