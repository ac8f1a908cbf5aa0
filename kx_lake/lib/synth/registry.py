"""Which module writes which collection, in which order things run each simulated day, and which
masters are written once. The PRODUCERS table is the contract with collections.csv: a test checks
that it names every configured collection, and a run refuses a configured collection nobody writes.
"""

from __future__ import annotations

from collections.abc import Callable

from kx_lake.lib.synth import (
                               admin,
                               adt,
                               beds,
                               claims,
                               er,
                               hr,
                               inventory,
                               lab,
                               masters_org,
                               masters_ref,
                               opd,
                               outside,
                               pharmacy,
                               surgery,
)
from kx_lake.lib.synth.sim import DayCtx

_BY_MODULE = {
    "masters_org": "hospital_groups facilities specialties departments doctors doctor_schedules wards services tariffs",
    "masters_ref": "payers insurance_plans icd10_codes drug_master lab_test_master radiology_procedure_master "
                   "items vendors",
    "beds": "beds bed_status_events",
    "patients": "patients allergies patient_documents",
    "clinical": "encounters vitals diagnoses clinical_notes referrals immunizations",
    "opd": "appointments appointment_slots appointment_reminders waitlist_entries visit_checkins queue_tokens "
           "teleconsultations",
    "adt": "admissions bed_assignments diet_orders",
    "stay": "discharges transfers nursing_notes",
    "surgery": "surgeries ot_bookings consents blood_bank_units blood_transfusions",
    "er": "er_visits triage_assessments",
    "billing": "bills payments receipts refunds credit_notes discounts write_offs payer_settlements",
    "claims": "deposits insurance_claims pre_authorizations health_packages",
    "pharmacy": "prescriptions pharmacy_sales pharmacy_returns dispensations drug_batches pharmacy_indents "
                "narcotics_register",
    "stock": "pharmacy_stock stock_levels stock_ledger",
    "lab": "lab_orders lab_samples lab_results lab_reports lab_qc_runs microbiology_cultures",
    "radiology": "radiology_orders radiology_studies radiology_reports modality_worklist radiation_dose_logs",
    "inventory": "purchase_orders goods_receipts material_requests stock_transfers stock_adjustments "
                 "asset_maintenance",
    "hr": "staff shifts staff_credentials trainings attendance duty_rosters leaves payroll_runs",
    "admin": "users audit_logs notifications patient_feedback complaints housekeeping_tasks ambulance_trips",
}
PRODUCERS: dict[str, str] = {c: m for m, cs in _BY_MODULE.items() for c in cs.split()}

Stream = Callable[[DayCtx], None]
MASTERS: tuple[tuple[str, Stream], ...] = (
    ("hospital_groups", masters_org.groups), ("facilities", masters_org.facilities),
    ("specialties", masters_org.specialties), ("departments", masters_org.departments),
    ("doctors", masters_org.doctors), ("doctor_schedules", masters_org.doctor_schedules),
    ("wards", masters_org.wards), ("services", masters_org.services), ("payers", masters_ref.payers),
    ("insurance_plans", masters_ref.insurance_plans), ("icd10_codes", masters_ref.icd10_codes),
    ("drug_master", masters_ref.drug_master), ("lab_test_master", masters_ref.lab_test_master),
    ("radiology_procedure_master", masters_ref.radiology_procedure_master), ("items", masters_ref.items),
    ("vendors", masters_ref.vendors), ("users", admin.users), ("staff", hr.masters),
)
# Per facility and day, in this order: arrivals first (they may admit), then the census of inpatients.
DAY_STREAMS: tuple[tuple[str, Stream], ...] = (
    ("opd", opd.day), ("er", er.day), ("elective", adt.elective), ("census", adt.daily),
    ("beds", beds.maintenance), ("outside", outside.day), ("packages", claims.packages),
    ("otc", pharmacy.otc_sales), ("qc", lab.qc_runs), ("blood", surgery.blood_bank), ("stores", inventory.day),
    ("hr", hr.day), ("admin", admin.daily),
)
