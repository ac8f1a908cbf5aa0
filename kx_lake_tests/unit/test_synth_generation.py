"""One tiny generated year of env1 (pure, no MongoDB), checked for what the lake and the dashboards
rely on: every configured collection has documents, timestamps in the configured column and encoding
inside the simulated window, partition columns, unique _ids, references that resolve, and every
deliberate mess in MESSES actually present."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bson import ObjectId
from bson.decimal128 import Decimal128
from kx_lake.lib.config import ProjectConfig, TimestampEncoding
from kx_lake.lib.synth import MESSES, PRODUCERS, generate_environment
from kx_lake.lib.synth.sink import created_column

pytestmark = pytest.mark.slow  # a generated year of env1 (~20 s)
SCALE = 0.002
# (collection, field) -> collection whose _id it references (None values are allowed: optional refs)
REFERENCES = {
    "facility_id": "facilities", "patient_id": "patients", "doctor_id": "doctors", "department_id": "departments",
    "ward_id": "wards", "bed_id": "beds", "bill_id": "bills", "encounter_id": "encounters",
    "admission_id": "admissions", "appointment_id": "appointments", "staff_id": "staff", "payer_id": "payers",
    "prescription_id": "prescriptions", "sale_id": "pharmacy_sales", "study_id": "radiology_studies",
    "result_id": "lab_results", "group_id": "hospital_groups", "vendor_id": "vendors", "po_id": "purchase_orders",
    "unit_id": "blood_bank_units", "claim_id": "insurance_claims", "service_id": "services",
    "er_visit_id": "er_visits", "user_id": "users", "payment_id": "payments", "credit_note_id": "credit_notes",
}
ORDER_REFS = {"lab_samples": "lab_orders", "lab_results": "lab_orders", "lab_reports": "lab_orders",
              "microbiology_cultures": "lab_orders", "radiology_studies": "radiology_orders",
              "radiology_reports": "radiology_orders", "modality_worklist": "radiology_orders"}


@pytest.fixture(scope="module")
def project(repo_project: ProjectConfig) -> ProjectConfig:
    return repo_project


def full_year_as_of(project: ProjectConfig) -> date:
    """A fixed as-of date, moved later if needed so the whole year lies after the partitions start."""
    start = getattr(project, "partitions_start", None)
    return max(date(2026, 3, 1), start + timedelta(days=365)) if start else date(2026, 3, 1)


@pytest.fixture(scope="module")
def docs(project: ProjectConfig) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for batch in generate_environment(project, "env1", scale=SCALE, seed=42, as_of=full_year_as_of(project)):
        assert not batch.updates, "a fresh seed writes final documents, never updates"
        out[batch.collection].extend(batch.docs)
    return dict(out)


def test_every_configured_collection_has_a_producer_and_documents(project, docs):
    names = {c.collection for c in project.collections}
    assert set(PRODUCERS) == names
    empty = sorted(n for n in names if not docs.get(n))
    assert not empty, f"no documents generated for {empty}"
    assert len(docs["facilities"]) == 30 and len(docs["hospital_groups"]) == 5


def _ms(value, encoding: TimestampEncoding) -> int:
    if encoding is TimestampEncoding.EPOCH_MS:
        assert isinstance(value, int) and value > 2**31
        return value
    if encoding is TimestampEncoding.ISO_STRING:
        assert isinstance(value, str) and (value.endswith("Z") or value[-6] in "+-")
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    assert isinstance(value, datetime)
    return int(value.replace(tzinfo=value.tzinfo or UTC).timestamp() * 1000)


def test_timestamps_follow_the_config_and_stay_inside_the_window(project, docs):
    tz, as_of = ZoneInfo("Asia/Kolkata"), full_year_as_of(project)
    end = int(datetime.combine(as_of, datetime.min.time(), tz).timestamp() * 1000)
    start = int(datetime.combine(as_of - timedelta(days=365), datetime.min.time(), tz).timestamp() * 1000)
    for spec in project.enabled_collections:
        created_col = created_column(spec.timestamp_column)
        for doc in docs[spec.collection]:
            updated = _ms(doc[spec.timestamp_column], spec.timestamp_encoding)
            created = _ms(doc[created_col], spec.timestamp_encoding)
            assert start <= updated < end, (spec.collection, doc["_id"])
            assert created <= updated, (spec.collection, doc["_id"])
            for col in spec.partition_columns:
                assert isinstance(doc.get(col), str) and doc[col], (spec.collection, col)


def test_ids_are_unique_and_both_kinds_occur(docs):
    for coll, items in docs.items():
        ids = [d["_id"] for d in items]
        assert len(set(map(repr, ids))) == len(ids), coll
    assert all(isinstance(d["_id"], str) and d["_id"].startswith("PAT-") for d in docs["patients"])
    assert all(isinstance(d["_id"], ObjectId) for d in docs["encounters"])


def test_references_resolve(docs):
    ids = {c: {repr(d["_id"]) for d in items} for c, items in docs.items()}
    checked = 0
    for coll, items in docs.items():
        for field, target in {**REFERENCES, **({"order_id": ORDER_REFS[coll]} if coll in ORDER_REFS else {})}.items():
            if coll == target:
                continue
            for doc in items:
                value = doc.get(field)
                if value is None or (field == "user_id" and value == "U-SYSTEM"):
                    continue
                checked += 1
                assert repr(value) in ids[target], f"{coll}.{field}={value!r} not in {target}"
    assert checked > 10_000
    for enc in docs["encounters"]:  # diagnoses come from the ICD-10 master, structs or bare codes
        for dx in enc["diagnoses"]:
            assert repr(dx["code"] if isinstance(dx, dict) else dx) in ids["icd10_codes"]


def _nested_arrays(value) -> bool:
    if isinstance(value, dict):
        return any(_nested_arrays(v) for v in value.values())
    if isinstance(value, list):
        return any(isinstance(v, list) or _nested_arrays(v) for v in value)
    return False


def test_no_arrays_of_arrays_so_ferretdb_1x_accepts_every_document(docs):
    assert not [c for c, items in docs.items() if any(_nested_arrays(d) for d in items)]


@pytest.mark.parametrize("mess", MESSES, ids=lambda m: m.id)
def test_every_mess_is_present(mess, docs):
    assert mess.check(lambda coll: docs.get(coll, [])), f"{mess.id} {mess.collection}.{mess.field} not present"


def test_outpatient_outcomes_look_real(docs):
    status = [a["status"] for a in docs["appointments"]]
    done = [s for s in status if s in ("completed", "no_show", "cancelled")]
    assert len(done) > 30
    assert 0.03 < done.count("no_show") / len(done) < 0.2
    waits = [a["waiting_minutes"] for a in docs["appointments"] if a["status"] == "completed"]
    assert 5 < sorted(waits)[len(waits) // 2] < 40


def test_decimal128_can_be_turned_off_for_servers_without_it(project):
    batches = generate_environment(project, "env1", scale=SCALE, seed=42, as_of=full_year_as_of(project),
                                   decimal128=False)
    payments = [d for b in batches if b.collection == "payments" for d in b.docs]
    assert payments and not any(isinstance(d["amount"], Decimal128) for d in payments)
    assert {m.id for m in MESSES if m.needs_decimal128} == {"M16", "M17"}


def _values_at(node, parts: list[str]):
    """Every non-null value a dotted pii path reaches (through arrays), as kx_lake.lib.pii walks it."""
    if isinstance(node, list):
        for item in node:
            yield from _values_at(item, parts)
    elif isinstance(node, dict) and parts[0] in node:
        if len(parts) > 1:
            yield from _values_at(node[parts[0]], parts[1:])
        elif node[parts[0]] is not None:
            yield node[parts[0]]


def test_every_marked_pii_path_exists_and_tokenizes_away(project, docs):
    from kx_lake.lib.pii import PiiTokenizer

    for spec in project.enabled_collections:
        if not spec.pii_columns:
            continue
        tokenizer = PiiTokenizer(b"k" * 32, spec.pii_columns)
        sample = docs[spec.collection][:200]
        for path in spec.pii_columns:
            clear = [v for d in sample for v in _values_at(d, path.split("."))]
            assert clear, f"{spec.collection}.{path}: marked as PII but in no generated document"
            tokenized = [v for d in sample for v in _values_at(tokenizer(d), path.split("."))]
            assert all(isinstance(v, str) and v.startswith("kxpii:") for v in tokenized), (spec.collection, path)
