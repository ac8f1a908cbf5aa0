"""Golden tests of the dashboard datasets: a tiny hospital written BY HAND into env1's real local
FerretDB (real collection names and document shapes), synced through the Dagster assets into a
scratch lake, the DuckDB catalog refreshed, and each dataset's numbers compared with values
computed by hand from the documents below (the arithmetic is in the comments).

Covered here: fin_revenue_daily, fin_payer_mix, fin_collections_outstanding, fin_revenue_leakage,
ops_appointments. The other datasets are checked on seeded data (test_datasets_seeded.py) only.

Timestamps are UTC; the lake holds IST wall clock (+05:30), so a bill at 20:00Z is on the NEXT day.
The messes on purpose: bills.total_amount as a string ("900.00"), an int (500) and a double (300.0);
F1's name spelled "Apolo Care Pune" in its bills (the master's "Apollo Care, Pune" must win); bill
B2 and appointment A3 updated after a first sync, their old versions left in older partitions
(only `_latest` gives the right answer); a failed payment (excluded), a cancelled and a no-show
appointment.
"""

from __future__ import annotations

from datetime import date

import pytest

from kx_lake_tests.fixtures.golden_hospital import Update, golden_fixtures, utc

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a scratch lake, a sync and a catalog each

ENV = "env1"
A = "kx_env1_analytics"


def line(cat: str, amount: float) -> dict:
    return {"service_id": f"S-{cat}", "code": cat.upper(), "name": cat, "category": cat, "qty": 1,
            "unit_price": amount, "amount": amount}


DOCS: dict[tuple[str, str], list[dict]] = {
    ("hims_masters", "facilities"): [
        {"_id": "F1", "name": "Apollo Care, Pune", "updated_at": utc(2026, 1, 1, 1)},
        {"_id": "F2", "name": "Sunrise Clinic", "updated_at": utc(2026, 1, 1, 1)},
    ],
    ("hims_masters", "departments"): [
        {"_id": "DEP1", "facility_id": "F1", "name": "General Medicine", "updated_at": utc(2026, 1, 1, 1)},
        {"_id": "DEP2", "facility_id": "F2", "name": "Paediatrics", "updated_at": utc(2026, 1, 1, 1)},
    ],
    ("hims_masters", "doctors"): [
        {"_id": "D1", "facility_id": "F1", "department_id": "DEP1", "name": "Dr. Asha Rao", "updated_at": utc(2026, 1, 1, 1)},
        {"_id": "D2", "facility_id": "F2", "department_id": "DEP2", "name": "Dr. Ravi Nair", "updated_at": utc(2026, 1, 1, 1)},
    ],
    ("hims_masters", "payers"): [
        {"_id": "CASH", "name": "Self pay (cash)", "type": "cash", "updated_at": utc(2026, 1, 1, 1)},
        {"_id": "INS-X", "name": "Star Health", "type": "insurer", "updated_at": utc(2026, 1, 1, 1)},
    ],
    ("hims_patient", "encounters"): [
        {"_id": "E1", "facility_id": "F1", "facility_name": "Apolo Care Pune", "updated_at": utc(2026, 1, 1, 4)},
    ],
    ("hims_billing", "bills"): [
        # B1: day 2026-01-01 (04:00Z = 09:30 IST); gross 600 + 400 = 1000, discount 100, total "900.00" (string)
        {"_id": "B1", "facility_id": "F1", "facility_name": "Apolo Care Pune", "bill_type": "OP", "doctor_id": "D1",
         "payer": {"payer_id": "CASH", "category": "cash"},
         "items": [line("consultation", 600.0), line("laboratory", 400.0)],
         "gross_amount": 1000.0, "discount": 100.0, "total_amount": "900.00", "paid_amount": 900.0, "balance": 0.0,
         "status": "paid", "created_at": utc(2026, 1, 1, 4), "updated_at": utc(2026, 1, 1, 4, 10)},
        # B2: created 20:00Z = 01:30 IST on 2026-01-02; insurance; total 500 (int); first version unpaid
        {"_id": "B2", "facility_id": "F1", "facility_name": "Apollo Care, Pune", "bill_type": "LAB", "doctor_id": None,
         "payer": {"payer_id": "INS-X", "category": "insurance"}, "items": [line("laboratory", 500.0)],
         "gross_amount": 500.0, "discount": None, "total_amount": 500, "paid_amount": 0.0, "balance": 500.0,
         "status": "unpaid", "created_at": utc(2026, 1, 1, 20), "updated_at": utc(2026, 1, 1, 20, 5)},
        # B3: day 2026-01-02, F2, total 300.0 (double)
        {"_id": "B3", "facility_id": "F2", "facility_name": "Sunrise Clinic", "bill_type": "OP", "doctor_id": "D2",
         "payer": {"payer_id": "CASH", "category": "cash"}, "items": [line("consultation", 300.0)],
         "gross_amount": 300.0, "discount": None, "total_amount": 300.0, "paid_amount": 300.0, "balance": 0.0,
         "status": "paid", "created_at": utc(2026, 1, 2, 6), "updated_at": utc(2026, 1, 2, 6, 15)},
    ],
    ("hims_billing", "payments"): [
        {"_id": "P1", "facility_id": "F1", "bill_id": "B1", "amount": 900.0, "mode": "upi", "status": "success",
         "paid_at": utc(2026, 1, 1, 4, 5), "updated_at": utc(2026, 1, 1, 4, 5)},
        {"_id": "P2", "facility_id": "F1", "bill_id": "B2", "amount": 200.0, "mode": "card", "status": "success",
         "paid_at": utc(2026, 1, 3, 5), "updated_at": utc(2026, 1, 3, 5)},
        {"_id": "P3", "facility_id": "F2", "bill_id": "B3", "amount": 300.0, "mode": "cash", "status": "success",
         "paid_at": utc(2026, 1, 2, 6, 10), "updated_at": utc(2026, 1, 2, 6, 10)},
        {"_id": "P4", "facility_id": "F2", "bill_id": "B3", "amount": 50.0, "mode": "cash", "status": "failed",
         "paid_at": utc(2026, 1, 2, 6, 12), "updated_at": utc(2026, 1, 2, 6, 12)},
    ],
    ("hims_billing", "discounts"): [
        {"_id": "DS1", "facility_id": "F1", "bill_id": "B1", "amount": 100.0, "reason": "senior citizen",
         "created_at": utc(2026, 1, 1, 4), "updated_at": utc(2026, 1, 1, 4)},
    ],
    ("hims_billing", "credit_notes"): [
        {"_id": "CN1", "facility_id": "F2", "bill_id": "B3", "amount": 60.0, "reason": "tariff correction",
         "created_at": utc(2026, 1, 4, 5), "updated_at": utc(2026, 1, 4, 5)},
    ],
    ("hims_billing", "refunds"): [
        {"_id": "R1", "facility_id": "F2", "bill_id": "B3", "credit_note_id": "CN1", "amount": 60.0, "status": "processed",
         "created_at": utc(2026, 1, 4, 5, 15), "updated_at": utc(2026, 1, 4, 5, 15)},
    ],
    ("hims_billing", "write_offs"): [
        {"_id": "W1", "facility_id": "F1", "bill_id": "B9", "amount": 25.5, "reason": "unrecoverable after 90 days",
         "created_at": utc(2026, 1, 3, 6), "updated_at": utc(2026, 1, 3, 6)},
    ],
    ("hims_scheduling", "appointments"): [
        # all four due on 2026-01-05 IST at F1 with D1 (General Medicine), new / in_person / front_desk
        {"_id": "A1", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1", "patient_name": "X",
         "slot": {"start": utc(2026, 1, 5, 4)}, "visit_type": "new", "mode": "in_person", "channel": "front_desk",
         "status": "completed", "check_in_at": utc(2026, 1, 5, 3, 50), "consult_start_at": utc(2026, 1, 5, 4, 2),
         "updated_at": utc(2026, 1, 5, 4, 20)},  # waited 12 min
        {"_id": "A2", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "slot": {"start": utc(2026, 1, 5, 5)}, "visit_type": "new", "mode": "in_person", "channel": "front_desk",
         "status": "no_show", "updated_at": utc(2026, 1, 5, 6)},
        {"_id": "A3", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "slot": {"start": utc(2026, 1, 5, 6)}, "visit_type": "new", "mode": "in_person", "channel": "front_desk",
         "status": "booked", "updated_at": utc(2026, 1, 2, 3)},  # cancelled later (second version)
        {"_id": "A4", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "slot": {"start": utc(2026, 1, 5, 7)}, "visit_type": "new", "mode": "in_person", "channel": "front_desk",
         "status": "completed", "check_in_at": utc(2026, 1, 5, 6, 55), "consult_start_at": utc(2026, 1, 5, 7, 25, 30),
         "updated_at": utc(2026, 1, 5, 7, 40)},  # waited 30.5 min
    ],
}


UPDATES = [
    # second versions: B2 part-paid, A3 cancelled; only their new dates are re-synced, so the old
    # versions stay in date=2026-01-02 and the tables hold two rows for each
    Update("hims_billing", "bills", "B2", {"paid_amount": 200.0, "balance": 300.0, "status": "partially_paid",
                                           "updated_at": utc(2026, 1, 3, 5)}),
    Update("hims_scheduling", "appointments", "A3", {"status": "cancelled", "updated_at": utc(2026, 1, 4, 9)}),
]


golden_lake, golden = golden_fixtures(
    "datasets-golden", DOCS, env=ENV, updates=UPDATES,
    datasets=["fin_revenue_daily", "fin_payer_mix", "fin_collections_outstanding", "fin_revenue_leakage",
              "ops_appointments"])


def rows(golden, sql: str) -> list[tuple]:
    return golden.rows(sql)


def test_old_versions_are_really_in_the_tables(golden) -> None:
    assert rows(golden, "SELECT count(*) FROM kx_env1_hims_billing.bills") == [(4,)]  # B2 twice
    assert rows(golden, "SELECT count(*) FROM kx_env1_hims_scheduling.appointments") == [(5,)]  # A3 twice


def test_fin_revenue_daily(golden) -> None:
    # B1 (net 900 = "900.00"): consultation share 600/1000 → net 540, discount 60; laboratory 400 → 360, 40;
    # bill_count on its largest line (consultation). B2 (IST 2026-01-02, no doctor → Unassigned): 500 net 500.
    # B3 (F2, Paediatrics): 300.
    assert rows(golden, f"""SELECT facility_id, facility_name, day, department, bill_type, service_category,
                         line_count, bill_count, gross_amount, discount_amount, net_amount
                         FROM {A}.fin_revenue_daily ORDER BY 1, 3, 6""") == [
        ("F1", "Apollo Care, Pune", date(2026, 1, 1), "General Medicine", "OP", "consultation", 1, 1, 600.0, 60.0, 540.0),
        ("F1", "Apollo Care, Pune", date(2026, 1, 1), "General Medicine", "OP", "laboratory", 1, 0, 400.0, 40.0, 360.0),
        ("F1", "Apollo Care, Pune", date(2026, 1, 2), "Unassigned", "LAB", "laboratory", 1, 1, 500.0, 0.0, 500.0),
        ("F2", "Sunrise Clinic", date(2026, 1, 2), "Paediatrics", "OP", "consultation", 1, 1, 300.0, 0.0, 300.0),
    ]


def test_fin_payer_mix_uses_the_latest_bill_version(golden) -> None:
    # B2's latest version: paid 200, balance 300 (the first version said 0 / 500)
    assert rows(golden, f"""SELECT facility_id, day, payer_group, payer_type, payer_id, payer_name, bill_count,
                         gross_amount, net_amount, paid_amount, balance_amount
                         FROM {A}.fin_payer_mix ORDER BY 1, 2""") == [
        ("F1", date(2026, 1, 1), "self_pay", "cash", "CASH", "Self pay (cash)", 1, 1000.0, 900.0, 900.0, 0.0),
        ("F1", date(2026, 1, 2), "insurance", "insurer", "INS-X", "Star Health", 1, 500.0, 500.0, 200.0, 300.0),
        ("F2", date(2026, 1, 2), "self_pay", "cash", "CASH", "Self pay (cash)", 1, 300.0, 300.0, 300.0, 0.0),
    ]


def test_fin_collections_outstanding(golden) -> None:
    # collections: P1 900 upi (01-01), P2 200 card (01-03, IST 10:30), P3 300 cash (F2 01-02); P4 failed → out.
    # outstanding: only B2 (balance 300), raised 2026-01-02; as-of = newest bill update = B2's 2026-01-03
    # 10:30 IST → 1 day old → '0-30'.
    assert rows(golden, f"""SELECT facility_id, day, row_type, payment_mode, payer_group, ageing_bucket,
                         payment_count, collected_amount, outstanding_bill_count, outstanding_amount
                         FROM {A}.fin_collections_outstanding ORDER BY 1, 2, 3""") == [
        ("F1", date(2026, 1, 1), "collection", "upi", "self_pay", "n/a", 1, 900.0, 0, 0.0),
        ("F1", date(2026, 1, 2), "outstanding", "n/a", "insurance", "0-30", 0, 0.0, 1, 300.0),
        ("F1", date(2026, 1, 3), "collection", "card", "insurance", "n/a", 1, 200.0, 0, 0.0),
        ("F2", date(2026, 1, 2), "collection", "cash", "self_pay", "n/a", 1, 300.0, 0, 0.0),
    ]


def test_fin_revenue_leakage(golden) -> None:
    # the refund takes its credit note's reason
    assert rows(golden, f"""SELECT facility_id, facility_name, day, leakage_type, reason, event_count, amount
                         FROM {A}.fin_revenue_leakage ORDER BY 1, 3, 4""") == [
        ("F1", "Apollo Care, Pune", date(2026, 1, 1), "discount", "senior citizen", 1, 100.0),
        ("F1", "Apollo Care, Pune", date(2026, 1, 3), "write_off", "unrecoverable after 90 days", 1, 25.5),
        ("F2", "Sunrise Clinic", date(2026, 1, 4), "credit_note", "tariff correction", 1, 60.0),
        ("F2", "Sunrise Clinic", date(2026, 1, 4), "refund", "tariff correction", 1, 60.0),
    ]


def test_ops_appointments(golden) -> None:
    # 4 booked for 2026-01-05: A1, A4 completed, A2 no-show, A3 cancelled (latest version; first said booked)
    # waiting: A1 03:50 → 04:02 = 12 min, A4 06:55:00 → 07:25:30 = 30.5 min; sum 42.5, avg 21.25
    # no_show_rate = 1 / (4 booked − 1 cancelled) = 0.333333
    assert rows(golden, f"""SELECT facility_id, facility_name, day, department, doctor_id, doctor_name, visit_type,
                         mode, channel, booked_count, completed_count, cancelled_count, no_show_count, open_count,
                         waiting_minutes_sum, avg_waiting_minutes, no_show_rate FROM {A}.ops_appointments""") == [
        ("F1", "Apollo Care, Pune", date(2026, 1, 5), "General Medicine", "D1", "Dr. Asha Rao", "new", "in_person",
         "front_desk", 4, 2, 1, 1, 0, 42.5, 21.25, 0.333333),
    ]
