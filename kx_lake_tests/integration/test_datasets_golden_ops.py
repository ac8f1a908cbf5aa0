"""Golden tests of the operations datasets and two finance ones: a tiny hospital written BY HAND into
env1's real local FerretDB (real collection names and document shapes, after kx_lake/lib/synth), synced
through the Dagster assets into a scratch lake, the DuckDB catalog refreshed, and each dataset's rows
compared with values computed by hand from the documents below (the arithmetic is in the comments).

Covered here: ops_opd_waiting, ops_bed_occupancy, ops_adt, ops_length_of_stay, ops_emergency,
ops_ot_utilization, fin_insurance_claims, fin_pharmacy_sales.

Timestamps are UTC; the lake holds IST wall clock (+05:30), so an instant at 18:30Z or later is on the
NEXT IST day. Every dataset has at least one such instant near midnight on purpose, and a document
updated after the first sync whose old version is left in an older partition (only `_latest` is
right), and, where the dataset casts numbers, a number stored as a string. Facility names: F1's
master name "Apollo Care, Pune" wins over the encounters' "Apolo Care Pune"; F3 has no master row and
takes its most frequent observed spelling "Lotus Hospital" (2 uses) over "Lotus Hosp" (1).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from kx_lake_tests.fixtures.golden_hospital import Update, golden_fixtures, utc

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a scratch lake, a sync and a catalog each

ENV = "env1"
DATASETS = ("ops_opd_waiting", "ops_bed_occupancy", "ops_adt", "ops_length_of_stay", "ops_emergency",
            "ops_ot_utilization", "fin_insurance_claims", "fin_pharmacy_sales")
F1, F2, F3 = "Apollo Care, Pune", "Sunrise Clinic", "Lotus Hospital"
MASTER_AT = utc(2026, 1, 1, 1)


def ms(moment: datetime) -> int:
    """Epoch milliseconds (queue_tokens and drug_master keep instants as int64 millis, mess M09)."""
    return int(moment.timestamp() * 1000)


def d(day: int) -> date:
    return date(2026, 1, day)


DOCS: dict[tuple[str, str], list[dict]] = {
    # ---------------------------------------------------------------- masters
    ("hims_masters", "facilities"): [
        {"_id": "F1", "name": "Apollo Care, Pune", "updated_at": MASTER_AT},
        {"_id": "F2", "name": "Sunrise Clinic", "updated_at": MASTER_AT},
    ],
    ("hims_masters", "departments"): [
        {"_id": "DEP1", "facility_id": "F1", "name": "General Medicine", "updated_at": MASTER_AT},
        {"_id": "DEP2", "facility_id": "F1", "name": "Orthopaedics", "updated_at": MASTER_AT},
        {"_id": "DEP3", "facility_id": "F2", "name": "Paediatrics", "updated_at": MASTER_AT},
    ],
    ("hims_masters", "specialties"): [
        {"_id": "SPC-ORT", "code": "ORT", "name": "Orthopaedics", "updated_at": MASTER_AT},
        {"_id": "SPC-GS", "code": "GS", "name": "General Surgery", "updated_at": MASTER_AT},
    ],
    ("hims_masters", "doctors"): [
        {"_id": "D1", "facility_id": "F1", "department_id": "DEP1", "specialty_id": "SPC-GM", "name": "Dr. Asha Rao",
         "updated_at": MASTER_AT},
        {"_id": "D2", "facility_id": "F1", "department_id": "DEP2", "specialty_id": "SPC-ORT", "name": "Dr. Vikram Shah",
         "updated_at": MASTER_AT},
        {"_id": "D3", "facility_id": "F1", "department_id": "DEP1", "specialty_id": "SPC-GS", "name": "Dr. Meera Iyer",
         "updated_at": MASTER_AT},
    ],
    ("hims_masters", "wards"): [
        {"_id": "W1", "facility_id": "F1", "name": "General Ward A", "category": "GEN", "floor": 1, "bed_count": 3,
         "updated_at": MASTER_AT},
        {"_id": "W2", "facility_id": "F1", "name": "ICU", "category": "ICU", "floor": 2, "bed_count": 1,
         "updated_at": MASTER_AT},
        {"_id": "W3", "facility_id": "F2", "name": "Day Care", "category": "DAYCARE", "floor": 0, "bed_count": 0,
         "updated_at": MASTER_AT},  # no beds in the bed master: beds_total 0, occupancy_rate NULL
    ],
    ("hims_masters", "beds"): [
        {"_id": "BD1", "facility_id": "F1", "ward_id": "W1", "bed_no": "GEN-101", "category": "GEN", "updated_at": MASTER_AT},
        {"_id": "BD2", "facility_id": "F1", "ward_id": "W1", "bed_no": "GEN-102", "category": "GEN", "updated_at": MASTER_AT},
        {"_id": "BD3", "facility_id": "F1", "ward_id": "W1", "bed_no": "GEN-103", "category": "GEN", "updated_at": MASTER_AT},
        {"_id": "BD4", "facility_id": "F1", "ward_id": "W2", "bed_no": "ICU-201", "category": "ICU", "updated_at": MASTER_AT},
    ],
    ("hims_masters", "payers"): [
        {"_id": "INS-X", "name": "Star Health", "type": "insurer", "updated_at": MASTER_AT},
        {"_id": "TPA-M", "name": "Medi Assist", "type": "tpa", "updated_at": MASTER_AT},
        {"_id": "GOV-P", "name": "PMJAY", "type": "government", "updated_at": MASTER_AT},
    ],
    ("hims_masters", "drug_master"): [
        {"_id": "DM1", "drug_code": "D001", "generic_name": "Paracetamol", "category": "analgesic", "mrp": 2.0,
         "modifiedAt": ms(MASTER_AT)},
        {"_id": "DM2", "drug_code": "D002", "generic_name": "Amoxicillin", "category": "antibiotic", "mrp": 20.0,
         "modifiedAt": ms(MASTER_AT)},
    ],
    # dim_facility's observed spellings: F1 misspelt (the master wins); F3 only observed, 2 × "Lotus Hospital"
    # against 1 × "Lotus Hosp"
    ("hims_patient", "encounters"): [
        {"_id": "E1", "facility_id": "F1", "facility_name": "Apolo Care Pune", "updated_at": utc(2026, 1, 10, 4)},
        {"_id": "E2", "facility_id": "F3", "facility_name": "Lotus Hospital", "updated_at": utc(2026, 1, 12, 9)},
        {"_id": "E3", "facility_id": "F3", "facility_name": "Lotus Hospital", "updated_at": utc(2026, 1, 12, 9, 30)},
    ],
    ("hims_billing", "bills"): [
        {"_id": "BL1", "facility_id": "F3", "facility_name": "Lotus Hosp", "updated_at": utc(2026, 1, 12, 10)},
        {"_id": "BL2", "facility_id": "F2", "facility_name": "Sunrise Clinic", "updated_at": utc(2026, 1, 12, 10)},
    ],
    # ---------------------------------------------------------------- OPD queue
    ("hims_scheduling", "queue_tokens"): [
        {"_id": "T1", "token_no": "G-001", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "appointment_id": "A1", "issued_at_ms": ms(utc(2026, 1, 11, 4)), "called_at_ms": ms(utc(2026, 1, 11, 4, 12)),
         "status": "served", "modifiedAt": ms(utc(2026, 1, 11, 4, 30))},  # waited 12 min
        {"_id": "T2", "token_no": "G-002", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "appointment_id": None, "issued_at_ms": ms(utc(2026, 1, 11, 5)), "called_at_ms": ms(utc(2026, 1, 11, 5, 30)),
         "status": "served", "modifiedAt": ms(utc(2026, 1, 11, 5, 45))},  # waited 30 min
        # T3: first version still waiting (not called); called later (second version, next IST day)
        {"_id": "T3", "token_no": "G-003", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "appointment_id": None, "issued_at_ms": ms(utc(2026, 1, 11, 6)), "called_at_ms": None,
         "status": "waiting", "modifiedAt": ms(utc(2026, 1, 11, 6))},
        # T4: issued 18:45Z = 00:15 IST on 2026-01-12; waited 10 min
        {"_id": "T4", "token_no": "G-004", "facility_id": "F1", "department_id": "DEP1", "doctor_id": "D1",
         "appointment_id": None, "issued_at_ms": ms(utc(2026, 1, 11, 18, 45)),
         "called_at_ms": ms(utc(2026, 1, 11, 18, 55)), "status": "served", "modifiedAt": ms(utc(2026, 1, 11, 19, 10))},
        # T5: F2, cancelled, never called
        {"_id": "T5", "token_no": "P-001", "facility_id": "F2", "department_id": "DEP3", "doctor_id": "D9",
         "appointment_id": "A9", "issued_at_ms": ms(utc(2026, 1, 11, 8)), "called_at_ms": None,
         "status": "cancelled", "modifiedAt": ms(utc(2026, 1, 11, 8, 20))},
        # T6: a department not in the master → 'unknown'; waited 20 min
        {"_id": "T6", "token_no": "X-001", "facility_id": "F1", "department_id": "DEP-X", "doctor_id": "D1",
         "appointment_id": None, "issued_at_ms": ms(utc(2026, 1, 12, 4)), "called_at_ms": ms(utc(2026, 1, 12, 4, 20)),
         "status": "served", "modifiedAt": ms(utc(2026, 1, 12, 4, 40))},
    ],
    # ---------------------------------------------------------------- beds and stays
    ("hims_adt", "bed_assignments"): [
        # BA1: BD1 10:30 IST 01-10 → 11:30 IST 01-12; BA2: BD1 refilled 15:00 IST 01-12, still open
        {"_id": "BA1", "facility_id": "F1", "admission_id": "ADM1", "ward_id": "W1", "bed_id": "BD1",
         "from": utc(2026, 1, 10, 5), "to": utc(2026, 1, 12, 6), "reason": "admission", "updated_at": utc(2026, 1, 12, 6)},
        {"_id": "BA2", "facility_id": "F1", "admission_id": "ADM5", "ward_id": "W1", "bed_id": "BD1",
         "from": utc(2026, 1, 12, 9, 30), "to": None, "reason": "admission", "updated_at": utc(2026, 1, 12, 9, 30)},
        # BA3: BD4 (ICU) from 18:45Z = 00:15 IST on 01-12 (not 01-11) to 09:30 IST 01-13
        {"_id": "BA3", "facility_id": "F1", "admission_id": "ADM2", "ward_id": "W2", "bed_id": "BD4",
         "from": utc(2026, 1, 11, 18, 45), "to": utc(2026, 1, 13, 4), "reason": "admission",
         "updated_at": utc(2026, 1, 13, 4)},
        # BA4: BD2 from 13:30 IST 01-10, first version open; closed 13:30 IST 01-11 (second version)
        {"_id": "BA4", "facility_id": "F1", "admission_id": "ADM3", "ward_id": "W1", "bed_id": "BD2",
         "from": utc(2026, 1, 10, 8), "to": None, "reason": "admission", "updated_at": utc(2026, 1, 10, 8)},
    ],
    ("hims_adt", "admissions"): [
        # ADM1: first version admitted in GEN; discharged after a transfer to ICU (second version)
        {"_id": "ADM1", "facility_id": "F1", "department_id": "DEP1", "admitting_doctor_id": "D1", "source": "ER",
         "admitted_at": utc(2026, 1, 10, 5), "bed_category": "GEN", "status": "admitted", "discharge": None,
         "updated_at": utc(2026, 1, 10, 5)},
        # ADM2: 18:45Z = 00:15 IST on 2026-01-12
        {"_id": "ADM2", "facility_id": "F1", "department_id": "DEP2", "admitting_doctor_id": "D2",
         "source": "elective", "admitted_at": utc(2026, 1, 11, 18, 45), "bed_category": "ICU",
         "status": "discharged", "updated_at": utc(2026, 1, 13, 18, 40)},
        # ADM3: department not in the master, no source
        {"_id": "ADM3", "facility_id": "F1", "department_id": "DEP-X", "admitting_doctor_id": "D1", "source": None,
         "admitted_at": utc(2026, 1, 10, 8), "bed_category": "GEN", "status": "admitted",
         "updated_at": utc(2026, 1, 10, 8)},
        {"_id": "ADM4", "facility_id": "F2", "department_id": "DEP3", "admitting_doctor_id": "D9", "source": "OPD",
         "admitted_at": utc(2026, 1, 11, 4), "bed_category": "GEN", "status": "discharged",
         "updated_at": utc(2026, 1, 13, 5)},
        {"_id": "ADM5", "facility_id": "F1", "department_id": "DEP1", "admitting_doctor_id": "D1", "source": "ER",
         "admitted_at": utc(2026, 1, 11, 6), "bed_category": "ICU", "status": "discharged",
         "updated_at": utc(2026, 1, 12, 12)},
    ],
    ("hims_adt", "discharges"): [
        {"_id": "DIS1", "facility_id": "F1", "admission_id": "ADM1", "discharged_at": utc(2026, 1, 12, 6),
         "disposition": "home", "los_days": 2.04, "updated_at": utc(2026, 1, 12, 6)},
        # DIS2: 18:40Z = 00:10 IST on 2026-01-14; first recorded 'home', corrected to 'lama' (second version)
        {"_id": "DIS2", "facility_id": "F1", "admission_id": "ADM2", "discharged_at": utc(2026, 1, 13, 18, 40),
         "disposition": "home", "los_days": 2.0, "updated_at": utc(2026, 1, 13, 18, 40)},
        {"_id": "DIS3", "facility_id": "F2", "admission_id": "ADM4", "discharged_at": utc(2026, 1, 13, 5),
         "disposition": "referred", "los_days": 2.04, "updated_at": utc(2026, 1, 13, 5)},
        # DIS4: its admission is not in the lake
        {"_id": "DIS4", "facility_id": "F1", "admission_id": "ADM-MISSING", "discharged_at": utc(2026, 1, 13, 7),
         "disposition": "death", "los_days": 3.0, "updated_at": utc(2026, 1, 13, 7)},
        {"_id": "DIS5", "facility_id": "F1", "admission_id": "ADM5", "discharged_at": utc(2026, 1, 12, 12),
         "disposition": "home", "los_days": 1.25, "updated_at": utc(2026, 1, 12, 12)},
    ],
    ("hims_adt", "transfers"): [
        {"_id": "TR1", "facility_id": "F1", "admission_id": "ADM1",
         "from": {"ward_id": "W1", "bed_id": "BD1", "category": "GEN"},
         "to": {"ward_id": "W2", "bed_id": "BD4", "category": "ICU"},
         "reason": "clinical deterioration", "transferred_at": utc(2026, 1, 11, 10), "updated_at": utc(2026, 1, 11, 10)},
        {"_id": "TR2", "facility_id": "F1", "admission_id": "ADM2",
         "from": {"ward_id": "W2", "bed_id": "BD4", "category": "ICU"},
         "to": {"ward_id": "W9", "bed_id": "BD9", "category": "SEMI"},
         "reason": "step-down", "transferred_at": utc(2026, 1, 13, 3), "updated_at": utc(2026, 1, 13, 3)},
    ],
    # ---------------------------------------------------------------- emergency
    ("hims_adt", "er_visits"): [
        {"_id": "ER1", "facility_id": "F2", "arrival_mode": "ambulance", "arrived_at": utc(2026, 1, 11, 10),
         "triage": {"level": 2, "colour": "orange", "at": utc(2026, 1, 11, 10, 3)},
         "seen_at": utc(2026, 1, 11, 10, 7, 30), "disposition": "admitted", "disposition_at": utc(2026, 1, 11, 12),
         "door_to_doctor_minutes": 7, "updated_at": utc(2026, 1, 11, 12)},  # d2d 7.5 min, ER LOS 120 min
        {"_id": "ER2", "facility_id": "F2", "arrival_mode": "ambulance", "arrived_at": utc(2026, 1, 11, 11),
         "triage": {"level": 2, "colour": "orange", "at": utc(2026, 1, 11, 11, 2)},
         "seen_at": utc(2026, 1, 11, 11, 10), "disposition": "admitted", "disposition_at": utc(2026, 1, 11, 11, 50),
         "door_to_doctor_minutes": 10, "updated_at": utc(2026, 1, 11, 11, 50)},  # d2d 10, LOS 50
        # ER3: arrived 18:35Z = 00:05 IST on 2026-01-12; triage level stored as the string "4"; first version
        # not yet seen, no disposition; seen and discharged in the second version
        {"_id": "ER3", "facility_id": "F2", "arrival_mode": "walk_in", "arrived_at": utc(2026, 1, 11, 18, 35),
         "triage": {"level": "4", "colour": "green", "at": utc(2026, 1, 11, 18, 40)},
         "seen_at": None, "disposition": None, "disposition_at": None, "updated_at": utc(2026, 1, 11, 18, 40)},
        # ER4: not triaged, not seen, still in the ER
        {"_id": "ER4", "facility_id": "F2", "arrival_mode": "private_vehicle", "arrived_at": utc(2026, 1, 12, 6),
         "triage": None, "seen_at": None, "disposition": None, "disposition_at": None,
         "updated_at": utc(2026, 1, 12, 6)},
        # ER5: F3 (no master row: observed name); d2d 15, LOS 45
        {"_id": "ER5", "facility_id": "F3", "arrival_mode": "walk_in", "arrived_at": utc(2026, 1, 12, 9),
         "triage": {"level": 3, "colour": "yellow", "at": utc(2026, 1, 12, 9, 5)},
         "seen_at": utc(2026, 1, 12, 9, 15), "disposition": "lama", "disposition_at": utc(2026, 1, 12, 9, 45),
         "updated_at": utc(2026, 1, 12, 9, 45)},
    ],
    # ---------------------------------------------------------------- operation theatres
    ("hims_adt", "ot_bookings"): [
        # OT1: booked days before; completed (second version) with actual_minutes 135
        {"_id": "OT1", "facility_id": "F1", "admission_id": "ADM2", "procedure_code": "TKR", "surgeon_id": "D2",
         "ot_room": "OT-1", "scheduled_at": utc(2026, 1, 12, 4), "expected_minutes": 120, "status": "scheduled",
         "updated_at": utc(2026, 1, 8, 5)},
        {"_id": "OT2", "facility_id": "F1", "admission_id": "ADM1", "procedure_code": "APPX", "surgeon_id": "D3",
         "ot_room": "OT-1", "scheduled_at": utc(2026, 1, 12, 8), "expected_minutes": 60, "status": "cancelled",
         "updated_at": utc(2026, 1, 12, 7)},
        # OT3: scheduled 18:40Z = 00:10 IST on 2026-01-12; expected_minutes stored as the string "90"
        {"_id": "OT3", "facility_id": "F1", "admission_id": "ADM5", "procedure_code": "LAPCHOLE", "surgeon_id": "D3",
         "ot_room": "OT-2", "scheduled_at": utc(2026, 1, 11, 18, 40), "expected_minutes": "90", "status": "completed",
         "actual_minutes": 80, "updated_at": utc(2026, 1, 11, 20, 30)},
        # OT5: OT2's procedure rebooked for 10:30 IST 01-13 in OT-2 and done (surgery S2): the surgery belongs
        # to this booking, not to the cancelled OT2 with the same (admission_id, procedure_code)
        {"_id": "OT5", "facility_id": "F1", "admission_id": "ADM1", "procedure_code": "APPX", "surgeon_id": "D3",
         "ot_room": "OT-2", "scheduled_at": utc(2026, 1, 13, 5), "expected_minutes": 60, "status": "completed",
         "actual_minutes": 55, "updated_at": utc(2026, 1, 13, 7)},
        # OT4: still scheduled, no surgery yet
        {"_id": "OT4", "facility_id": "F1", "admission_id": "ADM3", "procedure_code": "ORIF", "surgeon_id": "D2",
         "ot_room": "OT-1", "scheduled_at": utc(2026, 1, 12, 10), "expected_minutes": 150, "status": "scheduled",
         "updated_at": utc(2026, 1, 9, 5)},
    ],
    ("hims_adt", "surgeries"): [
        {"_id": "S1", "facility_id": "F1", "admission_id": "ADM2", "procedure_code": "TKR", "surgeon_id": "D2",
         "timeline": {"in_ot": utc(2026, 1, 12, 3, 40), "incision": utc(2026, 1, 12, 4),
                      "closure": utc(2026, 1, 12, 6, 15), "out_ot": utc(2026, 1, 12, 6, 30)},
         "status": "completed", "updated_at": utc(2026, 1, 12, 6, 50)},  # in OT 03:40 → 06:30 = 170 min
        {"_id": "S2", "facility_id": "F1", "admission_id": "ADM1", "procedure_code": "APPX", "surgeon_id": "D3",
         "timeline": {"in_ot": utc(2026, 1, 13, 4, 45), "incision": utc(2026, 1, 13, 5),
                      "closure": utc(2026, 1, 13, 5, 55), "out_ot": utc(2026, 1, 13, 6, 5)},
         "status": "completed", "updated_at": utc(2026, 1, 13, 6, 30)},  # 04:45 → 06:05 = 80 min
        {"_id": "S3", "facility_id": "F1", "admission_id": "ADM5", "procedure_code": "LAPCHOLE", "surgeon_id": "D3",
         "timeline": {"in_ot": utc(2026, 1, 11, 18, 30), "incision": utc(2026, 1, 11, 18, 45),
                      "closure": utc(2026, 1, 11, 20, 5), "out_ot": utc(2026, 1, 11, 20, 10)},
         "status": "completed", "updated_at": utc(2026, 1, 11, 20, 30)},  # 18:30 → 20:10 = 100 min
    ],
    # ---------------------------------------------------------------- claims
    ("hims_billing", "insurance_claims"): [
        # C1: first version submitted; settled 10 days later for 45000 (second version)
        {"_id": "C1", "facility_id": "F1", "payer_id": "INS-X", "claimed_amount": 50000.0,
         "submitted_at": utc(2026, 1, 12, 7), "status": "submitted",
         "adjudication": {"lines": [], "disallowed": 5000.0, "tpa_remarks": None}, "updated_at": utc(2026, 1, 12, 7)},
        # C2: claimed_amount as the string "20000.50"; settled 5.5 days after submission
        {"_id": "C2", "facility_id": "F1", "payer_id": "INS-X", "claimed_amount": "20000.50",
         "submitted_at": utc(2026, 1, 12, 9), "status": "settled", "settled_amount": 18000.25,
         "decided_at": utc(2026, 1, 17, 21), "adjudication": {"lines": [], "disallowed": 2000.25, "tpa_remarks": None},
         "updated_at": utc(2026, 1, 17, 21)},
        # C3: submitted 18:40Z = 00:10 IST on 2026-01-14; denied (settled amount 0, no settlement days)
        {"_id": "C3", "facility_id": "F1", "payer_id": "TPA-M", "claimed_amount": 30000.0,
         "submitted_at": utc(2026, 1, 13, 18, 40), "status": "denied", "decided_at": utc(2026, 1, 20, 5),
         "adjudication": {"lines": [], "disallowed": 1500.0, "tpa_remarks": "documents missing"},
         "updated_at": utc(2026, 1, 20, 5)},
        {"_id": "C4", "facility_id": "F2", "payer_id": "GOV-P", "claimed_amount": 12000.0,
         "submitted_at": utc(2026, 1, 13, 5), "status": "submitted",
         "adjudication": {"lines": [], "disallowed": 0.0, "tpa_remarks": None}, "updated_at": utc(2026, 1, 13, 5)},
        # C5: payer not in the master, no adjudication
        {"_id": "C5", "facility_id": "F2", "payer_id": "INS-UNK", "claimed_amount": 8000.0,
         "submitted_at": utc(2026, 1, 13, 6), "status": "submitted", "adjudication": None,
         "updated_at": utc(2026, 1, 13, 6)},
    ],
    # ---------------------------------------------------------------- pharmacy
    ("hims_pharmacy", "pharmacy_sales"): [
        # PS1: gross 20 + 120 = 140, net 126 (10% off) spread pro rata: D001 126·20/140 = 18, D002 126·120/140 = 108
        {"_id": "PS1", "facility_id": "F1", "sale_type": "OP", "prescription_id": "RX1",
         "items": [{"drug_code": "D001", "name": "Paracetamol", "qty": 10, "mrp": 2.0, "amount": 20.0},
                   {"drug_code": "D002", "name": "Amoxicillin", "qty": 6, "mrp": 20.0, "amount": 120.0}],
         "gross_amount": 140.0, "net_amount": 126.0, "payment_mode": "upi",
         "created_at": utc(2026, 1, 12, 5), "updated_at": utc(2026, 1, 12, 5)},
        # PS2: 18:35Z = 00:05 IST on 2026-01-13; net_amount as the string "10.00"
        {"_id": "PS2", "facility_id": "F1", "sale_type": "OTC", "prescription_id": None,
         "items": [{"drug_code": "D001", "name": "Paracetamol", "qty": 5, "mrp": 2.0, "amount": 10.0}],
         "gross_amount": 10.0, "net_amount": "10.00", "payment_mode": "cash",
         "created_at": utc(2026, 1, 12, 18, 35), "updated_at": utc(2026, 1, 12, 18, 35)},
        # PS3: two lines of equal amount (50, 50): the sale counts on the FIRST (D003, not in the drug master);
        # a second version (has_return) lands two days later: without _latest the sale would count twice
        {"_id": "PS3", "facility_id": "F1", "sale_type": "OP", "prescription_id": "RX3",
         "items": [{"drug_code": "D003", "name": "Unlisted", "qty": 1, "mrp": 50.0, "amount": 50.0},
                   {"drug_code": "D001", "name": "Paracetamol", "qty": 25, "mrp": 2.0, "amount": 50.0}],
         "gross_amount": 100.0, "net_amount": 100.0, "payment_mode": "card",
         "created_at": utc(2026, 1, 12, 7), "updated_at": utc(2026, 1, 12, 7)},
    ],
    ("hims_pharmacy", "pharmacy_returns"): [
        {"_id": "PR1", "facility_id": "F1", "sale_id": "PS1", "drug_code": "D002", "qty": 3, "refund_amount": 60.0,
         "reason": "course changed", "created_at": utc(2026, 1, 14, 6), "updated_at": utc(2026, 1, 14, 6)},
        # its sale is not in the lake → sale_type 'unknown'
        {"_id": "PR2", "facility_id": "F1", "sale_id": "PS-MISSING", "drug_code": "D001", "qty": 2,
         "refund_amount": 4.0, "reason": "excess purchase", "created_at": utc(2026, 1, 14, 7),
         "updated_at": utc(2026, 1, 14, 7)},
    ],
}

# second versions, each on a later IST day than its first (the first stays in its older partition)
UPDATES = [
    Update("hims_scheduling", "queue_tokens", "T3", {  # called at 06:45Z: waited 45 min
        "status": "served", "called_at_ms": ms(utc(2026, 1, 11, 6, 45)), "modifiedAt": ms(utc(2026, 1, 12, 2))}),
    Update("hims_adt", "bed_assignments", "BA4", {"to": utc(2026, 1, 11, 8), "updated_at": utc(2026, 1, 11, 8)}),
    Update("hims_adt", "admissions", "ADM1", {"status": "discharged", "bed_category": "ICU",
                                              "discharged_at": utc(2026, 1, 12, 6), "updated_at": utc(2026, 1, 12, 6)}),
    Update("hims_adt", "discharges", "DIS2", {"disposition": "lama", "updated_at": utc(2026, 1, 15, 5)}),
    Update("hims_adt", "er_visits", "ER3", {  # seen 18:55Z (20 min), discharged 20:05Z (90 min after arrival)
        "seen_at": utc(2026, 1, 11, 18, 55), "disposition": "discharged", "disposition_at": utc(2026, 1, 11, 20, 5),
        "updated_at": utc(2026, 1, 12, 20, 10)}),
    Update("hims_adt", "ot_bookings", "OT1", {"status": "completed", "actual_minutes": 135,
                                              "updated_at": utc(2026, 1, 12, 7)}),
    Update("hims_billing", "insurance_claims", "C1", {"status": "settled", "settled_amount": 45000.0,
                                                      "decided_at": utc(2026, 1, 22, 7), "updated_at": utc(2026, 1, 22, 7)}),
    Update("hims_pharmacy", "pharmacy_sales", "PS3", {"has_return": True, "updated_at": utc(2026, 1, 14, 6)}),
]


golden_lake, golden = golden_fixtures("datasets-golden-ops", DOCS, env=ENV, updates=UPDATES, datasets=DATASETS)


def test_old_versions_are_really_in_the_tables(golden) -> None:
    """Each updated document has two rows in its table (so the datasets must read _latest)."""
    for db, coll, n in (("hims_scheduling", "queue_tokens", 6), ("hims_adt", "bed_assignments", 4),
                        ("hims_adt", "admissions", 5), ("hims_adt", "discharges", 5), ("hims_adt", "er_visits", 5),
                        ("hims_adt", "ot_bookings", 5), ("hims_billing", "insurance_claims", 5),
                        ("hims_pharmacy", "pharmacy_sales", 3)):
        assert golden.rows(f"SELECT count(*), count(DISTINCT _id) FROM kx_env1_{db}.{coll}") == [(n + 1, n)], coll


def test_every_dataset_of_this_module_was_created(golden) -> None:
    assert set(DATASETS) <= golden.created_datasets


def test_ops_opd_waiting(golden) -> None:
    # F1 General Medicine 2026-01-11: T1 (appointment) 04:00 → 04:12 = 12 min;
    #   walk-ins T2 05:00 → 05:30 = 30 min and T3 06:00 → 06:45 = 45 min (latest version; the first was
    #   uncalled): sum 75, avg 37.5, max 45; p90 of two values on DuckDB's t-digest = the larger, 45.
    # T4 issued 18:45Z = 00:15 IST → 2026-01-12, 10 min. T6 (DEP-X → unknown) 20 min.
    # F2 T5 cancelled, never called: 1 token, 0 served, 0 waited, sum 0, avg/p90/max NULL.
    assert golden.rows(f"""SELECT facility_id, facility_name, day, department, visit_kind, token_count, served_count,
                           waited_count, waiting_minutes_sum, avg_waiting_minutes, p90_waiting_minutes,
                           max_waiting_minutes FROM {golden.analytics}.ops_opd_waiting ORDER BY 1, 3, 4, 5""") == [
        ("F1", F1, d(11), "General Medicine", "appointment", 1, 1, 1, 12.0, 12.0, 12.0, 12.0),
        ("F1", F1, d(11), "General Medicine", "walk_in", 2, 2, 2, 75.0, 37.5, 45.0, 45.0),
        ("F1", F1, d(12), "General Medicine", "walk_in", 1, 1, 1, 10.0, 10.0, 10.0, 10.0),
        ("F1", F1, d(12), "unknown", "walk_in", 1, 1, 1, 20.0, 20.0, 20.0, 20.0),
        ("F2", F2, d(11), "Paediatrics", "appointment", 1, 0, 0, 0.0, None, None, None),
    ]


def test_ops_bed_occupancy(golden) -> None:
    # calendar: first assignment day 01-10 (BA1, BA4) to as-of = max(latest start 01-12, latest end 01-13) = 01-13.
    # W1 (3 beds): BD1 BA1 01-10..01-12 and BA2 01-12..01-13 (open → as-of), counted once on 01-12;
    #   BD2 BA4 01-10..01-11 (latest version closed 13:30 IST 01-11; the open first version would run to 01-13).
    #   occupied 01-10: BD1, BD2 = 2; 01-11: 2; 01-12: BD1 = 1; 01-13: 1 → rates 2/3, 2/3, 1/3, 1/3.
    # W2 (1 bed): BA3 from 18:45Z = 00:15 IST 01-12 to 01-13 → 0, 0, 1, 1.
    # W3 (F2, no beds): 0 occupied, rate NULL on each day.
    got = golden.rows(f"""SELECT facility_id, facility_name, day, ward_id, ward_name, ward_type, beds_total,
                          beds_occupied, beds_available, occupancy_rate
                          FROM {golden.analytics}.ops_bed_occupancy ORDER BY 4, 3""")
    w1 = [("F1", F1, d(day), "W1", "General Ward A", "GEN", 3, occ, 3 - occ, round(occ / 3, 6))
          for day, occ in ((10, 2), (11, 2), (12, 1), (13, 1))]
    w2 = [("F1", F1, d(day), "W2", "ICU", "ICU", 1, occ, 1 - occ, float(occ))
          for day, occ in ((10, 0), (11, 0), (12, 1), (13, 1))]
    w3 = [("F2", F2, d(day), "W3", "Day Care", "DAYCARE", 0, 0, 0, None) for day in (10, 11, 12, 13)]
    assert got == w1 + w2 + w3


def test_ops_adt(golden) -> None:
    # admissions on their admission day whatever their status: ADM1 (ER, 01-10), ADM3 (no source, DEP-X → unknown,
    # 01-10), ADM5 (ER, 01-11), ADM2 at 18:45Z = 00:15 IST → 01-12, ADM4 (F2, OPD, 01-11).
    # discharges (department from the admission): DIS1 + DIS5 home 01-12 (General Medicine) → 2; DIS2 at 18:40Z
    # = 00:10 IST → 01-14, 'lama' (latest version; first said home); DIS3 F2 referred 01-13; DIS4's admission is
    # missing → unknown, death 01-13.
    # transfers: TR1 GEN->ICU 15:30 IST 01-11 (ADM1, General Medicine); TR2 ICU->SEMI 01-13 (ADM2, Orthopaedics).
    assert golden.rows(f"""SELECT facility_id, facility_name, day, department, event_type, detail, admissions_count,
                           discharges_count, transfers_count FROM {golden.analytics}.ops_adt
                           ORDER BY 1, 3, 5, 4, 6""") == [
        ("F1", F1, d(10), "General Medicine", "admission", "ER", 1, 0, 0),
        ("F1", F1, d(10), "unknown", "admission", "unknown", 1, 0, 0),
        ("F1", F1, d(11), "General Medicine", "admission", "ER", 1, 0, 0),
        ("F1", F1, d(11), "General Medicine", "transfer", "GEN->ICU", 0, 0, 1),
        ("F1", F1, d(12), "Orthopaedics", "admission", "elective", 1, 0, 0),
        ("F1", F1, d(12), "General Medicine", "discharge", "home", 0, 2, 0),
        ("F1", F1, d(13), "unknown", "discharge", "death", 0, 1, 0),
        ("F1", F1, d(13), "Orthopaedics", "transfer", "ICU->SEMI", 0, 0, 1),
        ("F1", F1, d(14), "Orthopaedics", "discharge", "lama", 0, 1, 0),
        ("F2", F2, d(11), "Paediatrics", "admission", "OPD", 1, 0, 0),
        ("F2", F2, d(13), "Paediatrics", "discharge", "referred", 0, 1, 0),
    ]


def test_ops_length_of_stay(golden) -> None:
    # DIS1: ADM1 01-10 05:00Z → 01-12 06:00Z = 2 d 1 h = 2 + 1/24 = 2.041667 d, bed category ICU (ADM1's latest
    #   version, after its transfer; the first said GEN); DIS5: ADM5 01-11 06:00Z → 01-12 12:00Z = 1.25 d, ICU.
    #   Same group: count 2, sum 3.291667, avg 1.645833, max 2.041667; median of two values: any value between
    #   them is one — DuckDB's t-digest interpolates to the midpoint 1.645833, Trino's (Athena's) approx_percentile
    #   returns a value of the input, 2.041667; so the median is checked to lie in [1.25, 2.041667] (below).
    # DIS2: ADM2 01-11 18:45Z → 01-13 18:40Z = 2 d − 5 min = 2 − 5/1440 = 1.996528 d, day 01-14 (00:10 IST), lama.
    # DIS3 (F2): 01-11 04:00Z → 01-13 05:00Z = 2.041667 d, GEN.
    # DIS4: admission missing → counted, no LOS: sum 0, avg/median/max NULL; department/bed category unknown.
    got = golden.rows(f"""SELECT facility_id, facility_name, day, department, discharge_type, bed_category,
                          discharge_count, los_days_sum, avg_los_days, median_los_days, max_los_days
                          FROM {golden.analytics}.ops_length_of_stay ORDER BY 1, 3, 4""")
    assert 1.25 <= got[0][9] <= 2.041667, got[0]
    assert [r[:9] + (None if i == 0 else r[9],) + r[10:] for i, r in enumerate(got)] == [
        ("F1", F1, d(12), "General Medicine", "home", "ICU", 2, 3.291667, 1.645833, None, 2.041667),
        ("F1", F1, d(13), "unknown", "death", "unknown", 1, 0.0, None, None, None),
        ("F1", F1, d(14), "Orthopaedics", "lama", "ICU", 1, 1.996528, 1.996528, 1.996528, 1.996528),
        ("F2", F2, d(13), "Paediatrics", "referred", "GEN", 1, 2.041667, 2.041667, 2.041667, 2.041667),
    ]


def test_ops_emergency(golden) -> None:
    # F2 01-11, level 2 orange, admitted by ambulance: ER1 d2d 7.5 (10:00 → 10:07:30), LOS 120; ER2 d2d 10, LOS 50
    #   → 2 visits, 2 admitted, 2 seen, d2d sum 17.5 avg 8.75, LOS sum 170 avg 85.
    # ER3 arrived 18:35Z = 00:05 IST → 01-12; level "4" (text) → '4'; latest version seen 18:55 (20 min),
    #   discharged 20:05 (90 min); the first version would have been 'in_er' and unseen.
    # ER4 untriaged, unseen, in the ER: 1 visit, sums 0, averages NULL.
    # ER5 at F3 (observed name "Lotus Hospital"): d2d 15, LOS 45, lama.
    assert golden.rows(f"""SELECT facility_id, facility_name, day, triage_level, triage_colour, disposition,
                           arrival_mode, visit_count, admitted_count, seen_count, door_to_doctor_minutes_sum,
                           avg_door_to_doctor_minutes, er_los_minutes_sum, avg_er_los_minutes
                           FROM {golden.analytics}.ops_emergency ORDER BY 1, 3, 4""") == [
        ("F2", F2, d(11), "2", "orange", "admitted", "ambulance", 2, 2, 2, 17.5, 8.75, 170.0, 85.0),
        ("F2", F2, d(12), "4", "green", "discharged", "walk_in", 1, 0, 1, 20.0, 20.0, 90.0, 90.0),
        ("F2", F2, d(12), "untriaged", "untriaged", "in_er", "private_vehicle", 1, 0, 0, 0.0, None, 0.0, None),
        ("F3", F3, d(12), "3", "yellow", "lama", "walk_in", 1, 0, 1, 15.0, 15.0, 45.0, 45.0),
    ]


def test_ops_ot_utilization(golden) -> None:
    # F1. 2026-01-12: OT-1 Orthopaedics (surgeon D2 → SPC-ORT): OT1 completed (latest version;
    #   first said scheduled) 120 expected, 135 actual, surgery S1 in OT 170 min; OT4 scheduled 150, no surgery
    #   → 2 bookings, 1 completed, scheduled 120 + 150 = 270, actual 135, in-OT 170, 1 surgery.
    # OT-1 General Surgery (D3 → SPC-GS): OT2 cancelled → scheduled 0 (excluded), no actual, and no surgery:
    #   the appendicectomy S2 (same admission and procedure) was done on the rebooking OT5, on 01-13 in OT-2.
    # OT-2 General Surgery: OT3 at 18:40Z = 00:10 IST 01-12, expected "90" (text) → 90, actual 80, S3 100 min.
    # 01-13 OT-2 General Surgery: OT5 expected 60, actual 55, S2 04:45 → 06:05 = 80 min.
    assert golden.rows(f"""SELECT facility_id, facility_name, day, ot_room, specialty, booking_count, completed_count,
                           cancelled_count, scheduled_minutes, actual_minutes, in_ot_minutes, surgery_count
                           FROM {golden.analytics}.ops_ot_utilization ORDER BY 3, 4, 5""") == [
        ("F1", F1, d(12), "OT-1", "General Surgery", 1, 0, 1, 0.0, 0.0, 0.0, 0),
        ("F1", F1, d(12), "OT-1", "Orthopaedics", 2, 1, 0, 270.0, 135.0, 170.0, 1),
        ("F1", F1, d(12), "OT-2", "General Surgery", 1, 1, 0, 90.0, 80.0, 100.0, 1),
        ("F1", F1, d(13), "OT-2", "General Surgery", 1, 1, 0, 60.0, 55.0, 80.0, 1),
    ]


def test_fin_insurance_claims(golden) -> None:
    # F1 01-12 Star Health settled: C1 (latest version settled 45000; first was pending) claimed 50000,
    #   disallowed 5000, 01-12 07:00Z → 01-22 07:00Z = 10 d; C2 claimed "20000.50" → 20000.5, settled 18000.25,
    #   disallowed 2000.25, 01-12 09:00Z → 01-17 21:00Z = 5.5 d.
    #   → 2 claims, 2 settled, claimed 70000.5, settled 63000.25, disallowed 7000.25, days 15.5, avg 7.75.
    # C3 submitted 18:40Z = 00:10 IST → 01-14, denied: settled 0, disallowed 1500, no settlement days.
    # C4 (PMJAY) and C5 (payer not in the master → type 'unknown', name = its id; no adjudication → 0) pending.
    assert golden.rows(f"""SELECT facility_id, facility_name, day, payer_type, payer_id, payer_name, status,
                           claim_count, settled_count, denied_count, pending_count, claimed_amount, settled_amount,
                           disallowed_amount, settlement_days_sum, avg_settlement_days
                           FROM {golden.analytics}.fin_insurance_claims ORDER BY 1, 3, 4""") == [
        ("F1", F1, d(12), "insurer", "INS-X", "Star Health", "settled", 2, 2, 0, 0, 70000.5, 63000.25, 7000.25,
         15.5, 7.75),
        ("F1", F1, d(14), "tpa", "TPA-M", "Medi Assist", "denied", 1, 0, 1, 0, 30000.0, 0.0, 1500.0, 0.0, None),
        ("F2", F2, d(13), "government", "GOV-P", "PMJAY", "submitted", 1, 0, 0, 1, 12000.0, 0.0, 0.0, 0.0, None),
        ("F2", F2, d(13), "unknown", "INS-UNK", "INS-UNK", "submitted", 1, 0, 0, 1, 8000.0, 0.0, 0.0, 0.0, None),
    ]


def test_fin_pharmacy_sales(golden) -> None:
    # 01-12 OP analgesic: PS1 D001 (qty 10, gross 20, net 18) + PS3 D001 (qty 25, gross 50, net 100·50/100 = 50);
    #   neither is its sale's counting line → sale_count 0, qty 35, gross 70, net 68.
    # 01-12 OP antibiotic: PS1 D002 (largest line): 1 sale, qty 6, gross 120, net 108.
    # 01-12 OP unknown: PS3 D003 (first of two equal lines): 1 sale, qty 1, gross 50, net 50 (once: latest version).
    # 01-13 OTC analgesic: PS2 at 18:35Z = 00:05 IST, net "10.00" → 10: 1 sale, qty 5, gross 10, net 10.
    # 01-14 OP antibiotic: return PR1 of PS1 (type OP), 3 units, 60 → net after returns −60.
    # 01-14 unknown analgesic: return PR2 of a sale not in the lake, 2 units, 4 → −4.
    assert golden.rows(f"""SELECT facility_id, facility_name, day, sale_type, drug_category, sale_count, sold_qty,
                           gross_sales_amount, net_sales_amount, return_count, returned_qty, return_amount,
                           net_after_returns_amount FROM {golden.analytics}.fin_pharmacy_sales
                           ORDER BY 1, 3, 4, 5""") == [
        ("F1", F1, d(12), "OP", "analgesic", 0, 35, 70.0, 68.0, 0, 0, 0.0, 68.0),
        ("F1", F1, d(12), "OP", "antibiotic", 1, 6, 120.0, 108.0, 0, 0, 0.0, 108.0),
        ("F1", F1, d(12), "OP", "unknown", 1, 1, 50.0, 50.0, 0, 0, 0.0, 50.0),
        ("F1", F1, d(13), "OTC", "analgesic", 1, 5, 10.0, 10.0, 0, 0, 0.0, 10.0),
        ("F1", F1, d(14), "OP", "antibiotic", 0, 0, 0.0, 0.0, 1, 3, 60.0, -60.0),
        ("F1", F1, d(14), "unknown", "analgesic", 0, 0, 0.0, 0.0, 1, 2, 4.0, -4.0),
    ]
