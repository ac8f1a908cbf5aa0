"""Throughput of schema inference and conversion on realistic nested HIS documents, single core.

    .venv/bin/python benchmarks/harmonize_bench.py [--docs 50000] [--batch 10000] [--seed 7] [--reserved date,facility_id]

Documents look like pymongo's output for an encounter collection: ObjectId `_id`, BSON dates,
nested vitals, arrays of diagnoses/medications/bill items, Decimal128 amounts, optional fields,
nulls, a PIN code that is sometimes an int and sometimes a string, occasional mixed-case keys.
Inference runs over all documents first (as a full load does), then conversion per batch.
Documents are BSON-encoded and decoded first, so keys are fresh strings as pymongo yields them
(literal-key documents would flatter the numbers). Times are CPU time (process_time), best of
--repeat runs, to be robust on a shared machine. The target is >= 50k docs/s for infer + convert.
`--reserved` are the reserved (partition) columns, as the lake pipeline passes them (`--reserved ""`:
none, the numbers before reserved columns existed).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import bson
from bson import Decimal128, Int64, ObjectId

WARDS = ["ICU", "GEN", "ORTHO", "PEDS", "MATERNITY", "ONCO"]
DRUGS = ["paracetamol", "amoxicillin", "metformin", "atorvastatin", "pantoprazole", "ceftriaxone"]
ICD = ["E11.9", "I10", "J18.9", "N39.0", "K21.9", "A09", "R50.9"]


def make_doc(rng: random.Random, i: int, base: datetime) -> dict:
    modified = base + timedelta(milliseconds=rng.randrange(0, 30 * 86_400_000))
    doc: dict = {
        "_id": ObjectId(),
        "modifiedAt": modified,
        "createdAt": modified - timedelta(days=rng.randrange(0, 30)),
        "hospitalId": rng.randrange(1, 40),
        "patientId": f"P{rng.randrange(10**7):07d}",
        "encounterNo": Int64(rng.randrange(10**12)),
        "status": rng.choice(["OPEN", "CLOSED", "BILLED", "CANCELLED"]),
        "ward": rng.choice(WARDS),
        "isEmergency": rng.random() < 0.1,
        "vitals": {
            "bp": {"systolic": rng.randrange(90, 180), "diastolic": rng.randrange(60, 110)},
            "temperature": round(rng.uniform(36.0, 40.0), 1),
            "pulse": rng.randrange(50, 140),
            "spo2": rng.choice([95, 96, 97, 98, 99, 100, None]),
        },
        "diagnoses": [
            {"code": rng.choice(ICD), "primary": j == 0, "notedAt": modified - timedelta(hours=j)}
            for j in range(rng.randrange(0, 4))
        ],
        "medications": [
            {
                "drug": rng.choice(DRUGS),
                "doseMg": rng.choice([250, 500, 650, 1000]),
                "route": rng.choice(["PO", "IV", "IM"]),
                "frequency": rng.choice(["OD", "BD", "TDS", "QID"]),
            }
            for _ in range(rng.randrange(0, 5))
        ],
        "billing": {
            "total": Decimal128(f"{rng.randrange(100, 500000)}.{rng.randrange(100):02d}"),
            "currency": "INR",
            "items": [
                {"code": f"SVC{rng.randrange(999):03d}", "qty": rng.randrange(1, 5), "price": rng.randrange(50, 5000) / 4}
                for _ in range(rng.randrange(1, 4))
            ],
        },
        "address": {"city": rng.choice(["Pune", "Mumbai", "Delhi"]), "pin": rng.choice([411001, "411 001", 400001])},
        "tags": rng.sample(["followup", "insured", "vip", "referral", "camp"], rng.randrange(0, 3)),
        "notes": None if rng.random() < 0.7 else "patient stable",
    }
    if rng.random() < 0.2:
        doc["attendingDoctor"] = {"name": "Dr. " + rng.choice(["Rao", "Shah", "Iyer"]), "regNo": rng.randrange(10**6)}
    if rng.random() < 0.05:
        doc["Ward"] = doc["ward"].lower()  # a legacy writer's mixed-case duplicate key
    return doc


def make_docs(n: int, seed: int = 7) -> list[dict]:
    """Documents as pymongo returns them: BSON-encoded then decoded (fresh key strings, naive UTC dates)."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1)
    return bson.decode_all(b"".join(bson.encode(make_doc(rng, i, base)) for i in range(n)))


def leaves(doc: object) -> int:
    if isinstance(doc, dict):
        return sum(leaves(v) for v in doc.values()) or 1
    if isinstance(doc, list):
        return sum(leaves(v) for v in doc) or 1
    return 1


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed
    from kx_lake.lib.harmonize import Converter, SchemaAccumulator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=10_000, help="documents per call (inside, 1000-document slices)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reserved", default="date,facility_id", help="comma-separated reserved columns")
    args = parser.parse_args()
    docs = make_docs(args.docs, args.seed)
    reserved = tuple(c for c in args.reserved.split(",") if c)
    batches = [docs[i : i + args.batch] for i in range(0, len(docs), args.batch)]
    print(f"{len(docs)} docs, {sum(map(leaves, docs[:1000])) / 1000:.1f} leaves/doc, batch {args.batch}, reserved {reserved}")
    best_infer = best_convert = float("inf")
    for _ in range(args.repeat):
        t0 = time.process_time()
        acc = SchemaAccumulator("modifiedAt", reserved_columns=reserved)
        for batch in batches:
            acc.observe_many(batch)
        t1 = time.process_time()
        converter = Converter(acc.schema, ZoneInfo("Asia/Kolkata"), "modifiedAt", reserved_columns=reserved)
        rows = sum(converter.convert(batch).num_rows for batch in batches)
        t2 = time.process_time()
        assert rows == len(docs)
        best_infer, best_convert = min(best_infer, t1 - t0), min(best_convert, t2 - t1)
    n = len(docs)
    print(f"columns: {len(acc.schema.fields)}  schema fingerprint {acc.schema.fingerprint[:12]}")
    print(f"infer:   {n / best_infer:>10,.0f} docs/s")
    print(f"convert: {n / best_convert:>10,.0f} docs/s")
    print(f"both:    {n / (best_infer + best_convert):>10,.0f} docs/s")


if __name__ == "__main__":
    main()
