"""Golden tests of the clinical dashboard datasets: clin_diagnoses, clin_lab_volumes, clin_lab_abnormal,
clin_radiology, clin_prescriptions and clin_blood_bank.

How (a hand-written hospital synced through the job, every row computed by hand in comments; UTC
timestamps on IST days, 18:30Z and later on the NEXT day): fixtures/golden_hospital.py. The messes on
purpose:
  * facility names F1/F2 as `two_facility_names` spells them (the master wins, else the commonest);
  * second versions after a first sync, their old versions left in older partitions, so only the
    `_latest` views give these numbers: diagnosis DG3 (provisional → confirmed), the I10 master
    (description), lab order LO1 (in progress → reported), lab result R4 (corrected), radiology order
    RO2 (scheduled → reported), drug master D001 (category), prescription RX4 (lines edited), blood
    unit U1 (available → issued);
  * numbers stored as strings: lab_results.tat_minutes "95", a prescription quantity "6", a blood
    unit's volume_ml "200" (their columns become text, the SQL casts them);
  * excluded statuses: an in-progress lab test, a discarded blood unit (neither issued nor expired),
    an order never reported; codes, tests, drugs and doctors missing from their masters.
"""

from __future__ import annotations

from datetime import date

import pytest
from bson import ObjectId

from kx_lake_tests.fixtures.golden_hospital import Update, golden_fixtures, two_facility_names, utc

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a scratch lake, a sync and a catalog each

A = "kx_env1_analytics"
F1, F1_NAME = "F1", "Apollo Care, Pune"
F2, F2_NAME = "F2", "Sunrise Clinic"
D2, D3, D6 = date(2026, 1, 2), date(2026, 1, 3), date(2026, 1, 6)
MASTER_TS = utc(2026, 1, 1, 1)
EPOCH_2026_01_01_01Z = 1_767_229_200_000  # 2026-01-01T00:00Z = 1_767_225_600 s, + 1 h, in ms
EPOCH_2026_01_05_06Z = 1_767_592_800_000  # 1_767_225_600 + 4 × 86_400 + 6 × 3_600 s, in ms

RO1, RO2, RO3, RO4 = (ObjectId(f"65a0000000000000000000{i:02d}") for i in (1, 2, 3, 4))


def cbc_param(name: str, value: float, flag: str, low: float, high: float, unit: str = "") -> dict:
    return {"name": name, "value": value, "flag": flag, "unit": unit, "reference_range": {"low": low, "high": high}}


def rx_line(code: str, qty, generic: str | None, instructions) -> dict:
    line = {"drug_code": code, "brand": f"Brand {code}", "form": "tablet", "strength": "500 mg", "quantity": qty,
            "instructions": instructions}
    if generic is not None:
        line["generic"] = generic
    return line


def unit(uid: str, fac: str, group: str, comp: str, volume, collected, expires, status: str, updated) -> dict:
    return {"_id": uid, "facility_id": fac, "unit_no": f"BU{uid}", "component": comp, "blood_group": group,
            "collected_at": collected, "expires_at": expires, "volume_ml": volume,
            "donor": {"type": "voluntary", "camp": False}, "tests": {"hiv": "NR", "hbsag": "NR"},
            "status": status, "created_at": collected, "updated_at": updated}


DOCS = {
    **two_facility_names(F1, F2, MASTER_TS),  # F1 from the master, F2 observed (see the helper)
    ("hims_masters", "departments"): [
        {"_id": "DEP-GM", "facility_id": F1, "code": "GM", "name": "General Medicine", "kind": "clinical",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "DEP-LAB", "facility_id": F1, "code": "LAB", "name": "Laboratory", "kind": "diagnostic",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "DEP-PED", "facility_id": F2, "code": "PED", "name": "Paediatrics", "kind": "clinical",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "DEP-LAB2", "facility_id": F2, "code": "LAB", "name": "Pathology Lab", "kind": "diagnostic",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    ("hims_masters", "doctors"): [
        {"_id": "D1", "facility_id": F1, "department_id": "DEP-GM", "name": "Dr. Asha Rao",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "D2", "facility_id": F2, "department_id": "DEP-PED", "name": "Dr. Ravi Nair",
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    # --- clin_diagnoses
    ("hims_masters", "icd10_codes"): [
        {"_id": "J06.9", "code": "J06.9", "description": "Acute upper respiratory infection, unspecified",
         "chapter": "J", "block": "J06", "chronic": False, "created_at": MASTER_TS, "updated_at": MASTER_TS},
        # first version's description "Hypertension"; the second (Update below) is the official one
        {"_id": "I10", "code": "I10", "description": "Hypertension", "chapter": "I", "block": "I10", "chronic": True,
         "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    ("hims_patient", "diagnoses"): [
        {"_id": "DG1", "facility_id": F1, "encounter_id": "E1", "patient_id": "PAT-1", "doctor_id": "D1",
         "code": "J06.9", "description": "URTI", "type": "primary", "status": "confirmed", "chronic": False,
         "diagnosed_at": utc(2026, 1, 2, 5), "created_at": utc(2026, 1, 2, 5), "updated_at": utc(2026, 1, 2, 5)},
        # 19:00Z = 00:30 IST on 2026-01-03
        {"_id": "DG2", "facility_id": F1, "encounter_id": "E1", "patient_id": "PAT-2", "doctor_id": "D1",
         "code": "J06.9", "description": "URTI", "type": "primary", "status": "confirmed", "chronic": False,
         "diagnosed_at": utc(2026, 1, 2, 19), "created_at": utc(2026, 1, 2, 19), "updated_at": utc(2026, 1, 2, 19)},
        # provisional in the first version, confirmed in the second
        {"_id": "DG3", "facility_id": F1, "encounter_id": "E1", "patient_id": "PAT-1", "doctor_id": "D1",
         "code": "I10", "description": "HTN", "type": "secondary", "status": "provisional", "chronic": True,
         "diagnosed_at": utc(2026, 1, 2, 6), "created_at": utc(2026, 1, 2, 6), "updated_at": utc(2026, 1, 2, 6, 10)},
        # A09 is not in the master: the diagnosis' own description, chapter = first letter
        {"_id": "DG4", "facility_id": F2, "encounter_id": "E2", "patient_id": "PAT-3", "doctor_id": "D2",
         "code": "A09", "description": "Infectious gastroenteritis", "type": "primary", "status": "confirmed",
         "chronic": False, "diagnosed_at": utc(2026, 1, 3, 4), "created_at": utc(2026, 1, 3, 4),
         "updated_at": utc(2026, 1, 3, 4)},
        {"_id": "DG5", "facility_id": F1, "encounter_id": "E1", "patient_id": "PAT-4", "doctor_id": "D1",
         "code": "J06.9", "description": "URTI", "type": "primary", "status": "confirmed", "chronic": False,
         "diagnosed_at": utc(2026, 1, 2, 8), "created_at": utc(2026, 1, 2, 8), "updated_at": utc(2026, 1, 2, 8)},
    ],
    # --- clin_lab_volumes
    ("hims_masters", "lab_test_master"): [
        {"_id": "LT-CBC", "code": "CBC", "name": "Complete blood count", "section": "Haematology",
         "sample_type": "blood", "tat_hours": 4, "created_at": MASTER_TS, "updated_at": MASTER_TS},
        {"_id": "LT-KFT", "code": "KFT", "name": "Kidney function test", "section": "Biochemistry",
         "sample_type": "serum", "tat_hours": 6, "created_at": MASTER_TS, "updated_at": MASTER_TS},
    ],
    ("hims_lab", "lab_orders"): [
        # LO1: 2026-01-02 09:30 IST, OPD routine, CBC + KFT; first version in progress (no reported_at),
        # the second (Update) completed and reported 2026-01-05T02:30Z
        {"_id": "LO1", "order_no": "LO-1", "facility_id": F1, "patient_id": "PAT-1", "encounter_id": "E1",
         "ordered_by": "D1", "source": "OPD", "priority": "routine", "ordered_at": utc(2026, 1, 2, 4),
         "tests": [{"test_code": "CBC", "name": "CBC", "status": "in_progress", "sample_barcode": 4_100_000_001},
                   {"test_code": "KFT", "name": "KFT", "status": "in_progress", "sample_barcode": 4_100_000_002}],
         "status": "in_progress", "created_at": utc(2026, 1, 2, 4), "updated_at": utc(2026, 1, 2, 4)},
        # LO2: 18:45Z = 00:15 IST on 2026-01-03, ER stat, reported 19:25Z (40 min)
        {"_id": "LO2", "order_no": "LO-2", "facility_id": F1, "patient_id": "PAT-2", "encounter_id": "E1",
         "ordered_by": "D1", "source": "ER", "priority": "stat", "ordered_at": utc(2026, 1, 2, 18, 45),
         "tests": [{"test_code": "CBC", "name": "CBC", "status": "completed", "result_id": "R3"}],
         "status": "completed", "reported_at": utc(2026, 1, 2, 19, 25),
         "created_at": utc(2026, 1, 2, 18, 45), "updated_at": utc(2026, 1, 2, 19, 25)},
        # LO3: ESR is not in the test master; still in progress (no report)
        {"_id": "LO3", "order_no": "LO-3", "facility_id": F2, "patient_id": "PAT-3", "encounter_id": "E2",
         "ordered_by": "D2", "source": "IPD", "priority": "routine", "ordered_at": utc(2026, 1, 3, 5),
         "tests": [{"test_code": "ESR", "name": "Erythrocyte sedimentation rate", "status": "in_progress",
                    "sample_barcode": 4_100_000_003}],
         "status": "in_progress", "created_at": utc(2026, 1, 3, 5), "updated_at": utc(2026, 1, 3, 5)},
    ],
    # --- clin_lab_abnormal (partitioned by facility_id and department_id)
    ("hims_lab", "lab_results"): [
        {"_id": "R1", "order_id": "LO1", "facility_id": F1, "department_id": "DEP-LAB", "patient_id": "PAT-1",
         "test_code": "CBC", "test_name": "Complete blood count", "section": "Haematology",
         "parameters": [cbc_param("Haemoglobin", 10.1, "L", 12, 16, "g/dL"),
                        cbc_param("WBC", 7.2, "N", 4, 11), cbc_param("Platelet count", 250.0, "N", 150, 450)],
         "abnormal": True, "critical": False, "resulted_at": utc(2026, 1, 2, 7), "tat_minutes": 180,
         "created_at": utc(2026, 1, 2, 7), "updated_at": utc(2026, 1, 2, 7)},
        {"_id": "R2", "order_id": "LO9", "facility_id": F1, "department_id": "DEP-LAB", "patient_id": "PAT-5",
         "test_code": "CBC", "test_name": "Complete blood count", "section": "Haematology",
         "parameters": [cbc_param("Haemoglobin", 5.0, "C", 12, 16, "g/dL"),
                        cbc_param("WBC", 14.0, "H", 4, 11), cbc_param("Platelet count", 30.0, "C", 150, 450)],
         "abnormal": True, "critical": True, "resulted_at": utc(2026, 1, 2, 9),
         "tat_minutes": "95",  # a number stored as text
         "created_at": utc(2026, 1, 2, 9), "updated_at": utc(2026, 1, 2, 9)},
        # 18:40Z = 00:10 IST on 2026-01-03
        {"_id": "R3", "order_id": "LO2", "facility_id": F1, "department_id": "DEP-LAB", "patient_id": "PAT-2",
         "test_code": "CBC", "test_name": "Complete blood count", "section": "Haematology",
         "parameters": [cbc_param("Haemoglobin", 13.0, "N", 12, 16, "g/dL"),
                        cbc_param("WBC", 6.0, "N", 4, 11), cbc_param("Platelet count", 200.0, "N", 150, 450)],
         "abnormal": False, "critical": False, "resulted_at": utc(2026, 1, 2, 18, 40), "tat_minutes": 60,
         "created_at": utc(2026, 1, 2, 18, 40), "updated_at": utc(2026, 1, 2, 18, 40)},
        # R4: normal in the first version; corrected (creatinine high) in the second
        {"_id": "R4", "order_id": "LO1", "facility_id": F1, "department_id": "DEP-LAB", "patient_id": "PAT-1",
         "test_code": "KFT", "test_name": "Kidney function test", "section": "Biochemistry",
         "parameters": [cbc_param("Creatinine", 1.0, "N", 0.6, 1.3), cbc_param("Urea", 30.0, "N", 15, 45)],
         "abnormal": False, "critical": False, "resulted_at": utc(2026, 1, 2, 10), "tat_minutes": 120,
         "created_at": utc(2026, 1, 2, 10), "updated_at": utc(2026, 1, 2, 10)},
        {"_id": "R5", "order_id": "LO8", "facility_id": F2, "department_id": "DEP-LAB2", "patient_id": "PAT-3",
         "test_code": "CBC", "test_name": "Complete blood count", "section": "Haematology", "parameters": [],
         "abnormal": False, "critical": False, "resulted_at": utc(2026, 1, 3, 6), "tat_minutes": 45,
         "created_at": utc(2026, 1, 3, 6), "updated_at": utc(2026, 1, 3, 6)},
    ],
    # --- clin_radiology (ObjectId ids, as the generator writes them)
    ("hims_radiology", "radiology_orders"): [
        # RO1: ordered 04:00Z, performed 04:30Z, reported 06:00Z
        {"_id": RO1, "order_no": "RO-1", "accession_no": "ACC1", "facility_id": F1, "patient_id": "PAT-1",
         "source": "OPD", "procedure_code": "XR-CHEST", "procedure_name": "X-ray chest PA", "modality": "XR",
         "priority": "routine", "ordered_at": utc(2026, 1, 2, 4), "scheduled_at": utc(2026, 1, 2, 4, 20),
         "performed_at": utc(2026, 1, 2, 4, 30), "reported_at": utc(2026, 1, 2, 6), "status": "reported",
         "created_at": utc(2026, 1, 2, 4), "updated_at": utc(2026, 1, 2, 6)},
        # RO2: first version only scheduled; the second performed 2026-01-04T05:00Z, reported 2026-01-05T05:00Z
        {"_id": RO2, "order_no": "RO-2", "accession_no": "ACC2", "facility_id": F1, "patient_id": "PAT-4",
         "source": "OPD", "procedure_code": "XR-CHEST", "procedure_name": "X-ray chest PA", "modality": "XR",
         "priority": "routine", "ordered_at": utc(2026, 1, 2, 5), "scheduled_at": utc(2026, 1, 4, 5),
         "status": "scheduled", "created_at": utc(2026, 1, 2, 5), "updated_at": utc(2026, 1, 2, 5)},
        # RO3: 20:00Z = 01:30 IST on 2026-01-03; performed, never reported
        {"_id": RO3, "order_no": "RO-3", "accession_no": "ACC3", "facility_id": F1, "patient_id": "PAT-2",
         "source": "ER", "procedure_code": "CT-HEAD", "procedure_name": "CT head plain", "modality": "CT",
         "priority": "urgent", "ordered_at": utc(2026, 1, 2, 20), "scheduled_at": utc(2026, 1, 2, 20, 20),
         "performed_at": utc(2026, 1, 2, 20, 30), "status": "performed",
         "created_at": utc(2026, 1, 2, 20), "updated_at": utc(2026, 1, 2, 20, 50)},
        # RO4: ordered 06:00Z, performed 07:00Z, reported 07:45Z
        {"_id": RO4, "order_no": "RO-4", "accession_no": "ACC4", "facility_id": F2, "patient_id": "PAT-3",
         "source": "OPD", "procedure_code": "US-ABD", "procedure_name": "Ultrasound abdomen", "modality": "US",
         "priority": "routine", "ordered_at": utc(2026, 1, 3, 6), "scheduled_at": utc(2026, 1, 3, 6, 45),
         "performed_at": utc(2026, 1, 3, 7), "reported_at": utc(2026, 1, 3, 7, 45), "status": "reported",
         "created_at": utc(2026, 1, 3, 6), "updated_at": utc(2026, 1, 3, 7, 45)},
    ],
    ("hims_radiology", "radiology_reports"): [
        {"_id": ObjectId("65b000000000000000000001"), "facility_id": F1, "order_id": RO1, "radiologist_id": "D1",
         "findings": "No significant abnormality detected.", "critical_finding": False,
         "signed_at": utc(2026, 1, 2, 6), "turnaround_minutes": 90, "addenda": [],
         "created_at": utc(2026, 1, 2, 6), "updated_at": utc(2026, 1, 2, 6)},
        {"_id": ObjectId("65b000000000000000000002"), "facility_id": F1, "order_id": RO2, "radiologist_id": "D1",
         "findings": "Right lower lobe consolidation.", "critical_finding": True,
         "signed_at": utc(2026, 1, 5, 5), "turnaround_minutes": 1440, "addenda": [],
         "created_at": utc(2026, 1, 5, 5), "updated_at": utc(2026, 1, 5, 5)},
        {"_id": ObjectId("65b000000000000000000004"), "facility_id": F2, "order_id": RO4, "radiologist_id": "D2",
         "findings": "Free fluid.", "critical_finding": True, "signed_at": utc(2026, 1, 3, 7, 45),
         "turnaround_minutes": 45, "addenda": [],
         "created_at": utc(2026, 1, 3, 7, 45), "updated_at": utc(2026, 1, 3, 7, 45)},
    ],
    # --- clin_prescriptions
    ("hims_masters", "drug_master"): [
        # epoch-millis timestamps (modifiedAt), as collections.csv says; D001's category is corrected later
        {"_id": ObjectId("65c000000000000000000001"), "drug_code": "D001", "generic_name": "Paracetamol",
         "brand_name": "Calpol", "form": "tablet", "category": "antipyretic", "mrp": 30.0,
         "createdAt": EPOCH_2026_01_01_01Z, "modifiedAt": EPOCH_2026_01_01_01Z},
        {"_id": ObjectId("65c000000000000000000002"), "drug_code": "D017", "generic_name": "Amlodipine",
         "brand_name": "Amlong", "form": "tablet", "category": "antihypertensive", "mrp": 45.0,
         "createdAt": EPOCH_2026_01_01_01Z, "modifiedAt": EPOCH_2026_01_01_01Z},
    ],
    ("hims_pharmacy", "prescriptions"): [
        # RX1: 2026-01-02 10:30 IST by D1 (General Medicine): D001 × 10, D017 × 30; instructions as a
        # struct in one line and free text in the other (M03, not read)
        {"_id": "RX1", "rx_no": "RX-1", "facility_id": F1, "patient_id": "PAT-1", "doctor_id": "D1",
         "encounter_id": "E1", "medicines": [
             rx_line("D001", 10, "Paracetamol", {"dose": "1 tab", "frequency": "TDS", "duration_days": 3,
                                                  "route": "oral"}),
             rx_line("D017", 30, "Amlodipine", "1 tab OD x 30 days")],
         "created_at": utc(2026, 1, 2, 5), "updated_at": utc(2026, 1, 2, 5)},
        # RX2: 19:00Z = 00:30 IST on 2026-01-03; quantity as text "6"
        {"_id": "RX2", "rx_no": "RX-2", "facility_id": F1, "patient_id": "PAT-2", "doctor_id": "D1",
         "encounter_id": "E1", "medicines": [rx_line("D001", "6", "Paracetamol", "1 tab BD x 3 days")],
         "created_at": utc(2026, 1, 2, 19), "updated_at": utc(2026, 1, 2, 19)},
        # RX3: by a doctor missing from the master (department 'unknown'); no generic on the line
        {"_id": "RX3", "rx_no": "RX-3", "facility_id": F1, "patient_id": "PAT-4", "doctor_id": "D9",
         "encounter_id": "E1", "medicines": [rx_line("D001", 15, None, "1 tab SOS")],
         "created_at": utc(2026, 1, 2, 6), "updated_at": utc(2026, 1, 2, 6)},
        # RX4: first version D099 × 2 and D001 × 5; the second (Update) keeps only D099 × 1
        {"_id": "RX4", "rx_no": "RX-4", "facility_id": F2, "patient_id": "PAT-3", "doctor_id": "D2",
         "encounter_id": "E2", "medicines": [rx_line("D099", 2, "Ondansetron", "1 tab SOS"),
                                             rx_line("D001", 5, "Paracetamol", "1 tab SOS")],
         "created_at": utc(2026, 1, 3, 5), "updated_at": utc(2026, 1, 3, 5)},
    ],
    # --- clin_blood_bank
    ("hims_lab", "blood_bank_units"): [
        # U1: collected 2026-01-01 11:30 IST; available in the first version, issued in the second, whose
        # updated_at 2026-01-05T18:45Z is 00:15 IST on 2026-01-06 (the issue day, and the as-of instant)
        unit("U1", F1, "A+", "PRBC", 350, utc(2026, 1, 1, 6), utc(2026, 2, 5, 6), "available", utc(2026, 1, 1, 6)),
        # U2: platelets, volume as text; expire 2026-01-03 09:30 IST, before the as-of → expired that day
        unit("U2", F1, "O-", "PLT", "200", utc(2026, 1, 1, 4), utc(2026, 1, 3, 4), "available", utc(2026, 1, 1, 4)),
        # U3: collected 2026-01-02, issued (last update) 2026-01-03
        unit("U3", F2, "B+", "FFP", 200, utc(2026, 1, 2, 5), utc(2027, 1, 2, 5), "issued", utc(2026, 1, 3, 5)),
        # U4: discarded: counts as collected only
        unit("U4", F1, "A+", "PRBC", 350, utc(2026, 1, 1, 7), utc(2026, 2, 5, 7), "discarded", utc(2026, 1, 2, 7)),
    ],
    ("hims_lab", "blood_transfusions"): [
        # T1: 19:30Z = 01:00 IST on 2026-01-06
        {"_id": "T1", "facility_id": F1, "unit_id": "U1", "patient_id": "PAT-6", "admission_id": "ADM-1",
         "started_at": utc(2026, 1, 5, 19, 30), "volume_ml": 350, "reaction": None, "administered_by": "S1",
         "created_at": utc(2026, 1, 5, 19, 30), "updated_at": utc(2026, 1, 5, 19, 30)},
        {"_id": "T2", "facility_id": F2, "unit_id": "U3", "patient_id": "PAT-7", "admission_id": "ADM-2",
         "started_at": utc(2026, 1, 3, 6), "volume_ml": 200, "reaction": {"type": "febrile", "grade": 1},
         "administered_by": "S5", "created_at": utc(2026, 1, 3, 6), "updated_at": utc(2026, 1, 3, 6)},
    ],
}

UPDATES = [
    Update("hims_masters", "icd10_codes", "I10", {"description": "Essential (primary) hypertension",
                                                  "updated_at": utc(2026, 1, 5, 3)}),
    Update("hims_patient", "diagnoses", "DG3", {"status": "confirmed", "updated_at": utc(2026, 1, 5, 4)}),
    Update("hims_lab", "lab_orders", "LO1", {
        "tests": [{"test_code": "CBC", "name": "CBC", "status": "completed", "result_id": "R1"},
                  {"test_code": "KFT", "name": "KFT", "status": "completed", "result_id": "R4"}],
        "status": "completed", "reported_at": utc(2026, 1, 5, 2, 30), "updated_at": utc(2026, 1, 5, 3)}),
    Update("hims_lab", "lab_results", "R4", {
        "parameters": [cbc_param("Creatinine", 2.4, "H", 0.6, 1.3), cbc_param("Urea", 30.0, "N", 15, 45)],
        "abnormal": True, "updated_at": utc(2026, 1, 5, 4)}),
    Update("hims_radiology", "radiology_orders", RO2, {
        "performed_at": utc(2026, 1, 4, 5), "reported_at": utc(2026, 1, 5, 5), "status": "reported",
        "updated_at": utc(2026, 1, 5, 5)}),
    Update("hims_masters", "drug_master", ObjectId("65c000000000000000000001"), {
        "category": "analgesic", "modifiedAt": EPOCH_2026_01_05_06Z}),
    Update("hims_pharmacy", "prescriptions", "RX4", {
        "medicines": [rx_line("D099", 1, "Ondansetron", "1 tab SOS")], "updated_at": utc(2026, 1, 5, 6)}),
    Update("hims_lab", "blood_bank_units", "U1", {"status": "issued", "updated_at": utc(2026, 1, 5, 18, 45)}),
]

DATASETS = ["clin_diagnoses", "clin_lab_volumes", "clin_lab_abnormal", "clin_radiology", "clin_prescriptions",
            "clin_blood_bank"]


golden_lake, golden = golden_fixtures("golden-clinical", DOCS, updates=UPDATES, datasets=DATASETS)


def test_old_versions_are_really_in_the_tables(golden) -> None:
    # each updated document has both versions in its table: only the _latest views dedupe them
    for table, n in [("kx_env1_hims_patient.diagnoses", 6), ("kx_env1_hims_masters.icd10_codes", 3),
                     ("kx_env1_hims_lab.lab_orders", 4), ("kx_env1_hims_lab.lab_results", 6),
                     ("kx_env1_hims_radiology.radiology_orders", 5), ("kx_env1_hims_masters.drug_master", 3),
                     ("kx_env1_hims_pharmacy.prescriptions", 5), ("kx_env1_hims_lab.blood_bank_units", 5)]:
        assert golden.rows(f"SELECT count(*) FROM {table}") == [(n,)], table


def test_dim_facility_names(golden) -> None:
    # F1: the master's name beats the (twice) observed "Apolo Care Pune"; F2: no master, "Sunrise Clinic"
    # (E2 + B2 = 2 uses) beats the more recent "Sunrise Clinic Baner" (E3, 1 use)
    assert golden.rows("SELECT facility_id, facility_name, name_source, observed_spellings "
                       "FROM kx_env1_hims_masters.dim_facility ORDER BY 1") == [
        (F1, F1_NAME, "master", 1), (F2, F2_NAME, "observed", 2)]


def test_clin_diagnoses(golden) -> None:
    # F1 2026-01-02: DG1 + DG5 (J06.9, primary, confirmed, not chronic) → 2; DG3 (I10, secondary) is
    #   confirmed in its latest version, chronic → 1/1, with the master's LATEST description
    # F1 2026-01-03: DG2 at 19:00Z = 00:30 IST → 1
    # F2 2026-01-03: DG4, A09 not in the master → its own description, chapter 'A' from the code
    assert golden.rows(f"""SELECT facility_id, facility_name, day, icd10_code, icd10_description, icd10_chapter,
                           diagnosis_type, diagnosis_status, diagnosis_count, chronic_count
                           FROM {A}.clin_diagnoses ORDER BY 1, 3, 4""") == [
        (F1, F1_NAME, D2, "I10", "Essential (primary) hypertension", "I", "secondary", "confirmed", 1, 1),
        (F1, F1_NAME, D2, "J06.9", "Acute upper respiratory infection, unspecified", "J", "primary", "confirmed",
         2, 0),
        (F1, F1_NAME, D3, "J06.9", "Acute upper respiratory infection, unspecified", "J", "primary", "confirmed",
         1, 0),
        (F2, F2_NAME, D3, "A09", "Infectious gastroenteritis", "A", "primary", "confirmed", 1, 0),
    ]


def test_clin_lab_volumes(golden) -> None:
    # LO1 (latest: both tests completed), ordered 2026-01-02T04:00Z, reported 2026-01-05T02:30Z:
    #   2 days 22 h 30 min = 48 × 60 + 22 × 60 + 30 = 2880 + 1320 + 30 = 4230 min, shared by CBC and KFT;
    #   the order counts once, on its first test (CBC)
    # LO2: 18:45Z = 00:15 IST on 2026-01-03, ER stat, 18:45 → 19:25 = 40 min
    # LO3: ESR not in the master → the line's name, section 'unknown'; in progress → no TAT (avg NULL)
    assert golden.rows(f"""SELECT facility_id, facility_name, day, source, priority, test_code, test_name, section,
                           order_count, test_count, completed_test_count, tat_minutes_sum, avg_tat_minutes
                           FROM {A}.clin_lab_volumes ORDER BY 1, 3, 6""") == [
        (F1, F1_NAME, D2, "OPD", "routine", "CBC", "Complete blood count", "Haematology", 1, 1, 1, 4230.0, 4230.0),
        (F1, F1_NAME, D2, "OPD", "routine", "KFT", "Kidney function test", "Biochemistry", 0, 1, 1, 4230.0, 4230.0),
        (F1, F1_NAME, D3, "ER", "stat", "CBC", "Complete blood count", "Haematology", 1, 1, 1, 40.0, 40.0),
        (F2, F2_NAME, D3, "IPD", "routine", "ESR", "Erythrocyte sedimentation rate", "unknown", 1, 1, 0, 0.0, None),
    ]


def test_clin_lab_abnormal(golden) -> None:
    # F1 2026-01-02 CBC: R1 (1 of 3 parameters flagged: L) + R2 (3 of 3: C, H, C; critical) →
    #   2 results, 2 abnormal, 1 critical, 6 parameters, 1 + 3 = 4 abnormal ones, rates 2/2 = 1 and 1/2;
    #   TAT 180 + "95" (text) = 275
    # F1 2026-01-02 KFT: R4's latest version (creatinine H) → 1 abnormal of 2 parameters, TAT 120
    # F1 2026-01-03 CBC: R3 at 18:40Z = 00:10 IST, all normal, TAT 60
    # F2 2026-01-03 CBC: R5 with no parameters, TAT 45; department from the partition column DEP-LAB2
    assert golden.rows(f"""SELECT facility_id, facility_name, day, department, test_code, test_name, section,
                           result_count, abnormal_count, critical_count, parameter_count, abnormal_parameter_count,
                           abnormal_rate, critical_rate, tat_minutes_sum
                           FROM {A}.clin_lab_abnormal ORDER BY 1, 3, 5""") == [
        (F1, F1_NAME, D2, "Laboratory", "CBC", "Complete blood count", "Haematology", 2, 2, 1, 6, 4, 1.0, 0.5, 275.0),
        (F1, F1_NAME, D2, "Laboratory", "KFT", "Kidney function test", "Biochemistry", 1, 1, 0, 2, 1, 1.0, 0.0, 120.0),
        (F1, F1_NAME, D3, "Laboratory", "CBC", "Complete blood count", "Haematology", 1, 0, 0, 3, 0, 0.0, 0.0, 60.0),
        (F2, F2_NAME, D3, "Pathology Lab", "CBC", "Complete blood count", "Haematology", 1, 0, 0, 0, 0, 0.0, 0.0,
         45.0),
    ]


def test_clin_radiology(golden) -> None:
    # F1 2026-01-02 XR-CHEST: RO1 performed 04:30 → reported 06:00 = 90 min, ordered 04:00 → 06:00 = 120;
    #   RO2 (latest) performed 01-04 05:00 → reported 01-05 05:00 = 1440 min, ordered 01-02 05:00 → 01-05
    #   05:00 = 3 × 1440 = 4320; its report is critical → 2 orders, 2 performed, 2 reported, 1 critical,
    #   TAT 90 + 1440 = 1530 (avg 765), order → report 120 + 4320 = 4440
    # F1 2026-01-03 CT-HEAD: RO3 at 20:00Z = 01:30 IST, performed, not reported → no TAT (avg NULL)
    # F2 2026-01-03 US-ABD: RO4 performed 07:00 → reported 07:45 = 45, ordered 06:00 → 07:45 = 105, critical
    assert golden.rows(f"""SELECT facility_id, facility_name, day, modality, procedure_code, procedure_name, priority,
                           order_count, performed_count, reported_count, critical_finding_count,
                           report_tat_minutes_sum, avg_report_tat_minutes, order_to_report_minutes_sum
                           FROM {A}.clin_radiology ORDER BY 1, 3, 5""") == [
        (F1, F1_NAME, D2, "XR", "XR-CHEST", "X-ray chest PA", "routine", 2, 2, 2, 1, 1530.0, 765.0, 4440.0),
        (F1, F1_NAME, D3, "CT", "CT-HEAD", "CT head plain", "urgent", 1, 1, 0, 0, 0.0, None, 0.0),
        (F2, F2_NAME, D3, "US", "US-ABD", "Ultrasound abdomen", "routine", 1, 1, 1, 1, 45.0, 45.0, 105.0),
    ]


def test_clin_prescriptions(golden) -> None:
    # F1 2026-01-02, D1 → General Medicine: RX1's D001 × 10 (the prescription counted on its first line)
    #   and D017 × 30; D001's category is the master's latest ("analgesic", first "antipyretic")
    # F1 2026-01-02, doctor D9 not in the master → 'unknown': RX3's D001 × 15, generic from the master
    # F1 2026-01-03: RX2 at 19:00Z = 00:30 IST, D001 × "6" (text)
    # F2 2026-01-03, D2 → Paediatrics: RX4's latest version, D099 × 1 (not in the drug master → 'unknown')
    assert golden.rows(f"""SELECT facility_id, facility_name, day, department, drug_code, generic_name, drug_category,
                           prescription_count, item_count, prescribed_qty
                           FROM {A}.clin_prescriptions ORDER BY 1, 3, 4, 5""") == [
        (F1, F1_NAME, D2, "General Medicine", "D001", "Paracetamol", "analgesic", 1, 1, 10),
        (F1, F1_NAME, D2, "General Medicine", "D017", "Amlodipine", "antihypertensive", 0, 1, 30),
        (F1, F1_NAME, D2, "unknown", "D001", "Paracetamol", "analgesic", 1, 1, 15),
        (F1, F1_NAME, D3, "General Medicine", "D001", "Paracetamol", "analgesic", 1, 1, 6),
        (F2, F2_NAME, D3, "Paediatrics", "D099", "Ondansetron", "unknown", 1, 1, 1),
    ]


def test_clin_blood_bank(golden) -> None:
    # as-of = newest unit update = U1's 2026-01-05T18:45Z = 2026-01-06 00:15 IST
    # collected: F1 2026-01-01 A+ PRBC: U1 + U4 (discarded, but collected) = 2 units, 350 + 350 = 700 ml;
    #   F1 2026-01-01 O- PLT: U2, "200" ml (text); F2 2026-01-02 B+ FFP: U3, 200 ml
    # issued: U1 on its last update's IST day 2026-01-06; U3 on 2026-01-03 (U4 discarded: not issued)
    # expired: U2 still available, expiring 2026-01-03 09:30 IST < as-of → on 2026-01-03; U1 (latest
    #   issued) and U4 (discarded) are not 'available'
    # transfusions: T1 19:30Z = 01:00 IST on 2026-01-06 with U1 (A+ PRBC), 350 ml, no reaction;
    #   T2 F2 2026-01-03 with U3 (B+ FFP), 200 ml, a febrile reaction
    assert golden.rows(f"""SELECT facility_id, facility_name, day, blood_group, component, units_collected,
                           units_issued, units_expired, volume_collected_ml, transfusion_count,
                           transfusion_volume_ml, transfusion_reaction_count
                           FROM {A}.clin_blood_bank ORDER BY 1, 3, 4""") == [
        (F1, F1_NAME, date(2026, 1, 1), "A+", "PRBC", 2, 0, 0, 700, 0, 0, 0),
        (F1, F1_NAME, date(2026, 1, 1), "O-", "PLT", 1, 0, 0, 200, 0, 0, 0),
        (F1, F1_NAME, D3, "O-", "PLT", 0, 0, 1, 0, 0, 0, 0),
        (F1, F1_NAME, D6, "A+", "PRBC", 0, 1, 0, 0, 1, 350, 0),
        (F2, F2_NAME, D2, "B+", "FFP", 1, 0, 0, 200, 0, 0, 0),
        (F2, F2_NAME, D3, "B+", "FFP", 0, 1, 0, 0, 1, 200, 1),
    ]
