"""Golden tests of the administration and inventory dashboard datasets: adm_registrations, adm_staff,
adm_patient_experience, inv_stock_expiry and inv_purchasing_consumption.

How (a hand-written hospital synced through the job, every row computed by hand in comments; UTC
timestamps on IST days, 18:30Z and later on the NEXT day): fixtures/golden_hospital.py. The messes on
purpose:
  * facility names F1/F2 as `two_facility_names` spells them (the master wins, else the commonest);
  * second versions after a first sync, their old versions left in older partitions, so only the
    `_latest` views give these numbers: patient P5 (moved: new first address), staff S3 (resigned),
    attendance AT4 (absent → regularised present), complaint C1 (open → closed), pharmacy stock PS2
    (sold out), purchase order PO1 (open → closed);
  * numbers stored as strings: attendance hours "7.75", a feedback rating "4", a stock value "1250.50",
    a PO line amount "2500.00" (their columns become text, the SQL casts them); date_of_birth as a
    BSON date in most patients and 'YYYY-MM-DD' text in a legacy one (M08);
  * attendance `date` is an IST-midnight instant (18:30Z the day before), stored as `date_`;
  * excluded statuses and rows: a resigned employee (out of the headcount, not out of attendance),
    PHARMACY-store and non-issue ledger rows, stock with nothing on hand, an employee, a vendor and
    an item missing from their masters.
"""

from __future__ import annotations

from datetime import date

import pytest
from bson import ObjectId
from bson.int64 import Int64

from kx_lake_tests.fixtures.golden_hospital import Update, golden_fixtures, two_facility_names, utc

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a scratch lake, a sync and a catalog each

A = "kx_env1_analytics"
F1, F1_NAME = "F1", "Apollo Care, Pune"
F2, F2_NAME = "F2", "Sunrise Clinic"
D2, D3, D4, D5, D6 = (date(2026, 1, d) for d in (2, 3, 4, 5, 6))
MASTER_TS = utc(2026, 1, 1, 1)
EPOCH_2026_01_01_01Z = 1_767_229_200_000  # 2026-01-01T00:00Z = 1_767_225_600 s, + 1 h, in ms


def address(kind: str, city: str, state: str) -> dict:
    return {"type": kind, "line1": "#12, MG Road", "locality": "Central", "city": city, "state": state,
            "pincode": "411001"}


def patient(pid: str, fac: str, gender, dob, addresses: list, registration, created, updated) -> dict:
    doc = {"_id": pid, "uhid": Int64(700_000_000_000 + int(pid[1:])), "facility_id": fac, "name": f"Patient {pid}",
           "gender": gender, "date_of_birth": dob, "phone": Int64(919_800_000_000 + int(pid[1:])),
           "addresses": addresses, "status": "active", "created_at": created, "updated_at": updated}
    if registration is not None:
        doc["registration"] = registration
    return doc


def staff(sid: str, fac: str, role: str, dept: str, status: str) -> dict:
    return {"_id": sid, "employee_no": int(sid[1:]), "facility_id": fac, "name": f"Staff {sid}", "role": role,
            "department_id": dept, "default_shift": "MOR", "status": status,
            "salary": {"gross_monthly": 30000, "ctc_annual": 424800.0}, "created_at": MASTER_TS,
            "updated_at": MASTER_TS}


def attendance(aid: str, fac: str, sid: str, day_utc, status: str, hours, late, updated) -> dict:
    """`day_utc` is the IST midnight of the working day, i.e. 18:30Z the day before (as the generator)."""
    present = status == "present"
    return {"_id": aid, "facility_id": fac, "staff_id": sid, "date": day_utc, "shift": "MOR", "status": status,
            "check_in": updated if present else None, "check_out": updated if present else None,
            "hours": hours, "late_minutes": late, "source": "biometric", "created_at": day_utc,
            "updated_at": updated}


def stock(sid: str, fac: str, store: str, code: str, qty: int, value, below: bool, expiry, updated) -> dict:
    return {"_id": sid, "facility_id": fac, "store": store, "code": code, "name": code, "qty_on_hand": qty,
            "reorder_level": 10, "stock_value": value, "below_reorder": below,
            "current_batch": {"batch_no": f"B-{code}", "expiry_date": expiry}, "last_movement_at": updated,
            "created_at": updated, "updated_at": updated}


def ledger(lid: str, fac: str, store: str, code: str, txn: str, qty: int, value: float, at) -> dict:
    return {"_id": lid, "facility_id": fac, "store": store, "item_type": "item", "item_code": code, "txn_type": txn,
            "qty": qty, "unit_cost": abs(value / qty), "value": value, "batch_no": "B1",
            "ref": {"collection": "material_requests", "id": "MR-1"}, "txn_at": at, "created_at": at,
            "updated_at": at}


DOCS = {
    **two_facility_names(F1, F2, MASTER_TS),  # F1 from the master, F2 observed (see the helper)
    ("hims_masters", "departments"): [
        {"_id": "DEP-GM", "facility_id": F1, "code": "GM", "name": "General Medicine", "kind": "clinical",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "DEP-LAB", "facility_id": F1, "code": "LAB", "name": "Laboratory", "kind": "diagnostic",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "DEP-PED", "facility_id": F2, "code": "PED", "name": "Paediatrics", "kind": "clinical",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    # --- adm_registrations
    ("hims_patient", "patients"): [
        # P1: registered 2026-01-02 10:30 IST; born 1990-05-11 (BSON date): 13 020 days / 365.25 = 35.6 → 18-39
        patient("P1", F1, "F", utc(1990, 5, 11), [address("home", "Pune", "Maharashtra")],
                {"source": "front_desk", "registered_at": utc(2026, 1, 2, 5)}, utc(2026, 1, 2, 5), utc(2026, 1, 2, 5)),
        # P2: legacy text date of birth 1988-08-20: 13 649 days / 365.25 = 37.4 → 18-39; same group as P1
        patient("P2", F1, "F", "1988-08-20", [address("home", "Pune", "Maharashtra"),
                                             address("work", "Mumbai", "Maharashtra")],
                {"source": "front_desk", "registered_at": utc(2026, 1, 2, 7)}, utc(2026, 1, 2, 7), utc(2026, 1, 2, 7)),
        # P3: registered 19:00Z = 00:30 IST on 2026-01-03; born 1950-03-01: 27 702 / 365.25 = 75.8 → 60+;
        # no address
        patient("P3", F1, "M", utc(1950, 3, 1), [], {"source": "kiosk", "registered_at": utc(2026, 1, 2, 19)},
                utc(2026, 1, 2, 19), utc(2026, 1, 2, 19)),
        # P4: no registration block → created_at 2026-01-03 11:30 IST; born 2015-06-15: 3 855 / 365.25 = 10.6
        patient("P4", F1, "M", utc(2015, 6, 15), [address("home", "Mumbai", "Maharashtra")], None,
                utc(2026, 1, 3, 6), utc(2026, 1, 3, 6)),
        # P5: no gender, no date of birth; lived in Bengaluru in the first version, Mysuru in the second
        patient("P5", F2, None, None, [address("home", "Bengaluru", "Karnataka")],
                {"source": "mobile_app", "registered_at": utc(2026, 1, 3, 4)}, utc(2026, 1, 3, 4), utc(2026, 1, 3, 4)),
    ],
    # --- adm_staff
    ("hims_hr", "staff"): [
        staff("S1", F1, "Staff Nurse", "DEP-GM", "active"),
        staff("S2", F1, "Staff Nurse", "DEP-GM", "active"),
        staff("S3", F1, "Staff Nurse", "DEP-GM", "active"),  # resigns (second version)
        staff("S4", F1, "Lab Technician", "DEP-LAB", "active"),
        staff("S5", F2, "Staff Nurse", "DEP-PED", "active"),
    ],
    ("hims_hr", "attendance"): [
        # working day 2026-01-02 IST: `date` = 2026-01-01T18:30Z
        attendance("AT1", F1, "S1", utc(2026, 1, 1, 18, 30), "present", 8.5, 0, utc(2026, 1, 2, 11, 30)),
        attendance("AT2", F1, "S2", utc(2026, 1, 1, 18, 30), "present", "7.75", 12, utc(2026, 1, 2, 11)),
        attendance("AT3", F1, "S3", utc(2026, 1, 1, 18, 30), "present", 8.0, 5, utc(2026, 1, 2, 11, 15)),
        # absent in the first version; regularised (present, 6 h, 20 min late) in the second
        attendance("AT4", F1, "S4", utc(2026, 1, 1, 18, 30), "absent", 0.0, None, utc(2026, 1, 2, 14, 30)),
        # working day 2026-01-03 IST: `date` = 2026-01-02T18:30Z
        attendance("AT5", F1, "S1", utc(2026, 1, 2, 18, 30), "on_leave", 0.0, None, utc(2026, 1, 3, 14, 30)),
        attendance("AT6", F2, "S5", utc(2026, 1, 2, 18, 30), "present", 9.0, 0, utc(2026, 1, 3, 12, 30)),
        attendance("AT7", F2, "S9", utc(2026, 1, 2, 18, 30), "absent", 0.0, None, utc(2026, 1, 3, 14, 30)),
    ],
    # --- adm_patient_experience
    ("hims_admin", "patient_feedback"): [
        {"_id": "FB1", "facility_id": F1, "patient_id": "P1", "encounter_id": "E1", "doctor_id": "D1",
         "channel": "whatsapp", "ratings": {"overall": 5, "doctor": 5, "waiting_time": 4, "cleanliness": 5},
         "nps": 10, "comment": "Good care", "created_at": utc(2026, 1, 2, 10), "updated_at": utc(2026, 1, 2, 10)},
        {"_id": "FB2", "facility_id": F1, "patient_id": "P2", "encounter_id": "E1", "doctor_id": "D1",
         "channel": "whatsapp", "ratings": {"overall": "4", "doctor": 4, "waiting_time": 3, "cleanliness": 4},
         "nps": 7, "comment": None, "created_at": utc(2026, 1, 2, 12), "updated_at": utc(2026, 1, 2, 12)},
        # 19:00Z = 00:30 IST on 2026-01-03
        {"_id": "FB3", "facility_id": F1, "patient_id": "P3", "encounter_id": "E1", "doctor_id": "D1",
         "channel": "whatsapp", "ratings": {"overall": 2, "doctor": 3, "waiting_time": 1, "cleanliness": 3},
         "nps": 3, "comment": "Waited too long", "created_at": utc(2026, 1, 2, 19), "updated_at": utc(2026, 1, 2, 19)},
        # no overall rating, no NPS
        {"_id": "FB4", "facility_id": F2, "patient_id": "P5", "encounter_id": "E2", "doctor_id": "D2",
         "channel": "sms", "ratings": {"overall": None, "cleanliness": 4}, "nps": None, "comment": None,
         "created_at": utc(2026, 1, 3, 5), "updated_at": utc(2026, 1, 3, 5)},
    ],
    ("hims_admin", "complaints"): [
        # C1: open in the first version; closed 2026-01-05T03:00Z in the second
        {"_id": "C1", "ticket_no": "CMP-1", "facility_id": F1, "patient_id": "P1", "encounter_id": "E1",
         "category": "long waiting time", "channel": "front_desk", "status": "open", "resolution": None,
         "created_at": utc(2026, 1, 2, 6), "updated_at": utc(2026, 1, 2, 6)},
        {"_id": "C2", "ticket_no": "CMP-2", "facility_id": F1, "patient_id": "P2", "encounter_id": "E1",
         "category": "billing discrepancy", "channel": "email", "status": "open", "resolution": None,
         "created_at": utc(2026, 1, 2, 8), "updated_at": utc(2026, 1, 2, 8)},
        {"_id": "C3", "ticket_no": "CMP-3", "facility_id": F1, "patient_id": "P3", "encounter_id": "E1",
         "category": "long waiting time", "channel": "front_desk", "status": "closed",
         "resolution": {"summary": "apologised and explained", "closed_at": utc(2026, 1, 2, 9, 30),
                        "closed_by": "U-S1"},
         "created_at": utc(2026, 1, 2, 7), "updated_at": utc(2026, 1, 2, 9, 30)},
    ],
    # --- inv_stock_expiry (+ masters shared with inv_purchasing_consumption)
    ("hims_inventory", "items"): [
        {"_id": "I-GLV", "code": "I-GLV", "name": "Examination gloves", "category": "consumable", "uom": "pair",
         "standard_cost": 3.0, "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "I-SYR", "code": "I-SYR", "name": "Syringe 5 ml", "category": "consumable", "uom": "piece",
         "standard_cost": 2.5, "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "I-REA", "code": "I-REA", "name": "CBC reagent pack", "category": "reagent", "uom": "pack",
         "standard_cost": 800.0, "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    ("hims_masters", "drug_master"): [
        {"_id": ObjectId("65c000000000000000000001"), "drug_code": "D001", "generic_name": "Paracetamol",
         "category": "analgesic", "mrp": 30.0, "createdAt": EPOCH_2026_01_01_01Z,
         "modifiedAt": EPOCH_2026_01_01_01Z},
        {"_id": ObjectId("65c000000000000000000002"), "drug_code": "D017", "generic_name": "Amlodipine",
         "category": "antihypertensive", "mrp": 45.0, "createdAt": EPOCH_2026_01_01_01Z,
         "modifiedAt": EPOCH_2026_01_01_01Z},
    ],
    # as-of day: the newest snapshot update is PS2's second version, 2026-01-05T19:00Z = 00:30 IST on
    # 2026-01-06; days to expiry count from 2026-01-06. Expiry dates are UTC midnights (05:30 IST, same day).
    ("hims_inventory", "stock_levels"): [
        # 2026-03-01: 25 (rest of January) + 28 (February) + 1 = 54 days → near expiry
        stock("F1-I-GLV", F1, "MAIN", "I-GLV", 120, 600.0, False, utc(2026, 3, 1), utc(2026, 1, 4, 10)),
        # 2027-06-30: 540 days → neither; value as text
        stock("F1-I-SYR", F1, "MAIN", "I-SYR", 500, "1250.50", False, utc(2027, 6, 30), utc(2026, 1, 4, 10)),
        # expires on the as-of day itself: 0 days → expired
        stock("F1-I-REA", F1, "MAIN", "I-REA", 4, 3200.0, True, utc(2026, 1, 6), utc(2026, 1, 4, 11)),
        # not in the items master; long expired but nothing on hand → not counted as expired
        stock("F1-I-XYZ", F1, "MAIN", "I-XYZ", 0, 0.0, True, utc(2025, 12, 1), utc(2026, 1, 4, 11)),
    ],
    ("hims_pharmacy", "pharmacy_stock"): [
        # 2026-04-06: 25 + 28 + 31 + 6 = 90 days → near expiry (≤ 90)
        stock("F1-D001", F1, "PHARMACY", "D001", 300, 450.0, False, utc(2026, 4, 6), utc(2026, 1, 4, 12)),
        # 100 on hand in the first version, sold out in the second (the as-of instant)
        stock("F1-D017", F1, "PHARMACY", "D017", 100, 800.0, False, utc(2026, 2, 1), utc(2026, 1, 3, 12)),
        # 2026-04-07: 91 days → not near
        stock("F2-D001", F2, "PHARMACY", "D001", 50, 75.0, False, utc(2026, 4, 7), utc(2026, 1, 4, 12)),
    ],
    # --- inv_purchasing_consumption
    ("hims_inventory", "vendors"): [
        {"_id": "VEN-001", "name": "MedSupply India Pvt Ltd", "category": "consumable", "city": "Pune",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "VEN-003", "name": "LabChem Reagents", "category": "reagent", "city": "Mumbai",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    ("hims_inventory", "purchase_orders"): [
        # PO1: 2026-01-02 10:30 IST; open in the first version, closed in the second
        {"_id": "PO1", "po_no": "PO/F1/1", "facility_id": F1, "vendor_id": "VEN-001",
         "lines": [{"item_code": "I-GLV", "qty": 200, "rate": 5.0, "amount": 1000.0, "gst_rate": 12},
                   {"item_code": "I-SYR", "qty": 1000, "rate": 2.5, "amount": "2500.00", "gst_rate": 12}],
         "total": 3920.0, "status": "open", "created_at": utc(2026, 1, 2, 5), "updated_at": utc(2026, 1, 2, 5, 30)},
        # PO2: 19:00Z = 00:30 IST on 2026-01-03
        {"_id": "PO2", "po_no": "PO/F1/2", "facility_id": F1, "vendor_id": "VEN-003",
         "lines": [{"item_code": "I-REA", "qty": 10, "rate": 800.0, "amount": 8000.0, "gst_rate": 12}],
         "total": 8960.0, "status": "open", "created_at": utc(2026, 1, 2, 19), "updated_at": utc(2026, 1, 2, 19, 30)},
        # PO3: vendor missing from the master → its id stands for the name
        {"_id": "PO3", "po_no": "PO/F2/1", "facility_id": F2, "vendor_id": "VEN-099",
         "lines": [{"item_code": "I-GLV", "qty": 50, "rate": 5.0, "amount": 250.0, "gst_rate": 12}],
         "total": 280.0, "status": "open", "created_at": utc(2026, 1, 3, 6), "updated_at": utc(2026, 1, 3, 6, 30)},
    ],
    ("hims_inventory", "goods_receipts"): [
        {"_id": "G1", "grn_no": "GRN-1", "facility_id": F1, "po_id": "PO1", "vendor_id": "VEN-001",
         "lines": [{"item_code": "I-GLV", "qty": 200, "batch_no": "B1", "expiry_date": utc(2027, 1, 1), "rejected": 0},
                   {"item_code": "I-SYR", "qty": 1000, "batch_no": "B2", "expiry_date": None, "rejected": 20}],
         "quality_check": {"passed": True}, "created_at": utc(2026, 1, 5, 5, 30), "updated_at": utc(2026, 1, 5, 5, 30)},
    ],
    ("hims_inventory", "stock_ledger"): [
        ledger("L1", F1, "MAIN", "I-GLV", "issue", -12, -36.0, utc(2026, 1, 3, 8)),
        ledger("L2", F1, "MAIN", "I-SYR", "issue", -30, -75.0, utc(2026, 1, 3, 9)),
        ledger("L3", F1, "MAIN", "I-GLV", "receipt", 200, 1000.0, utc(2026, 1, 5, 5, 30)),  # not an issue
        ledger("L4", F1, "PHARMACY", "D001", "sale", -4, -6.0, utc(2026, 1, 3, 10)),  # not the main store
        # 18:50Z = 00:20 IST on 2026-01-04
        ledger("L5", F1, "MAIN", "I-REA", "issue", -2, -1600.0, utc(2026, 1, 3, 18, 50)),
    ],
}

UPDATES = [
    Update("hims_patient", "patients", "P5", {
        "addresses": [address("home", "Mysuru", "Karnataka"), address("work", "Bengaluru", "Karnataka")],
        "updated_at": utc(2026, 1, 5, 6)}),
    Update("hims_hr", "staff", "S3", {"status": "resigned", "updated_at": utc(2026, 1, 5, 6)}),
    Update("hims_hr", "attendance", "AT4", {
        "status": "present", "hours": 6.0, "late_minutes": 20, "check_in": utc(2026, 1, 2, 3, 50),
        "check_out": utc(2026, 1, 2, 9, 50), "source": "manual", "updated_at": utc(2026, 1, 5, 7)}),
    Update("hims_admin", "complaints", "C1", {
        "status": "closed", "resolution": {"summary": "staff counselled", "closed_at": utc(2026, 1, 5, 3),
                                           "closed_by": "U-S2"}, "updated_at": utc(2026, 1, 5, 3)}),
    Update("hims_pharmacy", "pharmacy_stock", "F1-D017", {
        "qty_on_hand": 0, "stock_value": 0.0, "below_reorder": True, "last_movement_at": utc(2026, 1, 5, 19),
        "updated_at": utc(2026, 1, 5, 19)}),
    Update("hims_inventory", "purchase_orders", "PO1", {
        "status": "closed", "received_at": utc(2026, 1, 5, 5, 30), "updated_at": utc(2026, 1, 5, 5, 30)}),
]

DATASETS = ["adm_registrations", "adm_staff", "adm_patient_experience", "inv_stock_expiry",
            "inv_purchasing_consumption"]


golden_lake, golden = golden_fixtures("golden-admin-inventory", DOCS, updates=UPDATES, datasets=DATASETS)


def test_old_versions_are_really_in_the_tables(golden) -> None:
    # each updated document has both versions in its table: only the _latest views dedupe them
    for table, n in [("kx_env1_hims_patient.patients", 6), ("kx_env1_hims_hr.staff", 6),
                     ("kx_env1_hims_hr.attendance", 8), ("kx_env1_hims_admin.complaints", 4),
                     ("kx_env1_hims_pharmacy.pharmacy_stock", 4), ("kx_env1_hims_inventory.purchase_orders", 4)]:
        assert golden.rows(f"SELECT count(*) FROM {table}") == [(n,)], table


def test_adm_registrations(golden) -> None:
    # F1 2026-01-02: P1 + P2 (F, 18-39, first address Pune, front desk) → 2
    # F1 2026-01-03: P3 (M, 60+, no address → unknown, kiosk; 19:00Z = 00:30 IST) and P4 (M, 0-17, Mumbai,
    #   no registration block → created_at, source unknown)
    # F2 2026-01-03: P5, gender and age unknown, latest first address Mysuru (first version: Bengaluru)
    assert golden.rows(f"""SELECT facility_id, facility_name, day, gender, age_band, city, state, registration_source,
                           registration_count FROM {A}.adm_registrations ORDER BY 1, 3, 5""") == [
        (F1, F1_NAME, D2, "F", "18-39", "Pune", "Maharashtra", "front_desk", 2),
        (F1, F1_NAME, D3, "M", "0-17", "Mumbai", "Maharashtra", "unknown", 1),
        (F1, F1_NAME, D3, "M", "60+", "unknown", "unknown", "kiosk", 1),
        (F2, F2_NAME, D3, "unknown", "unknown", "Mysuru", "Karnataka", "mobile_app", 1),
    ]


def test_adm_staff(golden) -> None:
    # F1 2026-01-02 Staff Nurse / General Medicine: AT1 + AT2 + AT3 all present (S3 resigned since: still
    #   rostered that day, but not in today's headcount S1 + S2 = 2); late: AT2 (12) and AT3 (5) = 2;
    #   hours 8.5 + "7.75" + 8.0 = 24.25; rate 3/3
    # F1 2026-01-02 Lab Technician / Laboratory: AT4's latest version, present 6 h, 20 min late; headcount S4
    # F1 2026-01-03 Staff Nurse / General Medicine: AT5 on leave; headcount still 2; rate 0/1
    # F2 2026-01-03 Staff Nurse / Paediatrics: AT6 present 9 h, on time; headcount S5 = 1
    # F2 2026-01-03 unknown / unknown: AT7 of S9 (not in the staff master), absent; headcount 0
    assert golden.rows(f"""SELECT facility_id, facility_name, day, role, department, headcount, rostered_count,
                           present_count, absent_count, on_leave_count, late_count, hours_worked, attendance_rate
                           FROM {A}.adm_staff ORDER BY 1, 3, 4""") == [
        (F1, F1_NAME, D2, "Lab Technician", "Laboratory", 1, 1, 1, 0, 0, 1, 6.0, 1.0),
        (F1, F1_NAME, D2, "Staff Nurse", "General Medicine", 2, 3, 3, 0, 0, 2, 24.25, 1.0),
        (F1, F1_NAME, D3, "Staff Nurse", "General Medicine", 2, 1, 0, 0, 1, 0, 0.0, 0.0),
        (F2, F2_NAME, D3, "Staff Nurse", "Paediatrics", 1, 1, 1, 0, 0, 0, 9.0, 1.0),
        (F2, F2_NAME, D3, "unknown", "unknown", 0, 1, 0, 1, 0, 0, 0.0, 0.0),
    ]


def test_adm_patient_experience(golden) -> None:
    # F1 2026-01-02 complaints: C2 (email, billing discrepancy) open; C1 (latest: closed 2026-01-05T03:00Z,
    #   raised 2026-01-02T06:00Z → 2 days 21 h = 69 h) and C3 (07:00 → 09:30 = 2.5 h), both front desk /
    #   long waiting time → 2 raised, 2 closed, 69 + 2.5 = 71.5 h
    # F1 2026-01-02 feedback: FB1 (5, NPS 10 promoter) + FB2 ("4" as text, NPS 7 neither) → sum 9, avg 4.5
    # F1 2026-01-03 feedback: FB3 at 19:00Z = 00:30 IST, rating 2, NPS 3 → detractor
    # F2 2026-01-03 feedback: FB4 by sms, no overall rating and no NPS → 1 form, 0 rated, avg NULL
    assert golden.rows(f"""SELECT facility_id, facility_name, day, row_type, channel, category, status,
                           feedback_count, overall_rating_sum, rated_count, avg_overall_rating, promoter_count,
                           detractor_count, nps_count, complaint_count, closed_complaint_count, resolution_hours_sum
                           FROM {A}.adm_patient_experience ORDER BY 1, 3, 4, 5""") == [
        (F1, F1_NAME, D2, "complaint", "email", "billing discrepancy", "open", 0, 0.0, 0, None, 0, 0, 0, 1, 0, 0.0),
        (F1, F1_NAME, D2, "complaint", "front_desk", "long waiting time", "closed", 0, 0.0, 0, None, 0, 0, 0, 2, 2,
         71.5),
        (F1, F1_NAME, D2, "feedback", "whatsapp", "feedback", "received", 2, 9.0, 2, 4.5, 1, 0, 2, 0, 0, 0.0),
        (F1, F1_NAME, D3, "feedback", "whatsapp", "feedback", "received", 1, 2.0, 1, 2.0, 0, 1, 1, 0, 0, 0.0),
        (F2, F2_NAME, D3, "feedback", "sms", "feedback", "received", 1, 0.0, 0, None, 0, 0, 0, 0, 0, 0.0),
    ]


def test_inv_stock_expiry(golden) -> None:
    # every row on the as-of day 2026-01-06 (PS2's latest update, 19:00Z = 00:30 IST)
    # F1 MAIN consumable: gloves 120 (600.0, near expiry in 54 days) + syringes 500 ("1250.50") →
    #   2 SKUs, 620 units, 1850.5 INR, near 1 / 600.0
    # F1 MAIN reagent: 4 packs worth 3200.0, below reorder, expiring on the as-of day (0 days) → expired
    # F1 MAIN unknown (I-XYZ not in items): nothing on hand → not expired though its batch is
    # F1 PHARMACY analgesic (D001): 300 worth 450.0, 90 days → near
    # F1 PHARMACY antihypertensive (D017): the latest version is sold out (first: 100 worth 800.0)
    # F2 PHARMACY analgesic: 50 worth 75.0, 91 days → not near
    assert golden.rows(f"""SELECT facility_id, facility_name, day, store, item_category, sku_count, qty_on_hand,
                           stock_value, below_reorder_count, near_expiry_count, near_expiry_value, expired_count,
                           expired_value FROM {A}.inv_stock_expiry ORDER BY 1, 4, 5""") == [
        (F1, F1_NAME, D6, "MAIN", "consumable", 2, 620, 1850.5, 0, 1, 600.0, 0, 0.0),
        (F1, F1_NAME, D6, "MAIN", "reagent", 1, 4, 3200.0, 1, 0, 0.0, 1, 3200.0),
        (F1, F1_NAME, D6, "MAIN", "unknown", 1, 0, 0.0, 1, 0, 0.0, 0, 0.0),
        (F1, F1_NAME, D6, "PHARMACY", "analgesic", 1, 300, 450.0, 0, 1, 450.0, 0, 0.0),
        (F1, F1_NAME, D6, "PHARMACY", "antihypertensive", 1, 0, 0.0, 1, 0, 0.0, 0, 0.0),
        (F2, F2_NAME, D6, "PHARMACY", "analgesic", 1, 50, 75.0, 0, 0, 0.0, 0, 0.0),
    ]


def test_inv_purchasing_consumption(golden) -> None:
    # F1 2026-01-02 PO1 (latest version only): gloves 200 × 1000.0 + syringes 1000 × "2500.00" → 1 PO,
    #   2 lines, 1200 units, 3500.0
    # F1 2026-01-03 PO2 (19:00Z = 00:30 IST): reagent 10 → 8000.0
    # F1 2026-01-03 consumption: L1 |−12| + L2 |−30| = 42 units, |−36.0| + |−75.0| = 111.0 (2 ledger rows);
    #   L4 (PHARMACY) and L3 (receipt) are not consumption
    # F1 2026-01-04 consumption: L5 at 18:50Z = 00:20 IST, reagent 2, 1600.0
    # F1 2026-01-05 G1: gloves 200 − 0 + syringes 1000 − 20 = 1180 accepted, 20 rejected, amount 0
    # F2 2026-01-03 PO3: vendor VEN-099 not in the master → its id; gloves 50, 250.0
    assert golden.rows(f"""SELECT facility_id, facility_name, day, flow, item_category, vendor_name, document_count,
                           line_count, qty, rejected_qty, amount
                           FROM {A}.inv_purchasing_consumption ORDER BY 1, 3, 4, 5""") == [
        (F1, F1_NAME, D2, "purchase_order", "consumable", "MedSupply India Pvt Ltd", 1, 2, 1200, 0, 3500.0),
        (F1, F1_NAME, D3, "consumption", "consumable", "n/a", 2, 2, 42, 0, 111.0),
        (F1, F1_NAME, D3, "purchase_order", "reagent", "LabChem Reagents", 1, 1, 10, 0, 8000.0),
        (F1, F1_NAME, D4, "consumption", "reagent", "n/a", 1, 1, 2, 0, 1600.0),
        (F1, F1_NAME, D5, "goods_receipt", "consumable", "MedSupply India Pvt Ltd", 1, 2, 1180, 20, 0.0),
        (F2, F2_NAME, D3, "purchase_order", "consumable", "VEN-099", 1, 1, 50, 0, 250.0),
    ]
