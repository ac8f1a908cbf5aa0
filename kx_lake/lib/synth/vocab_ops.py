"""Operational reference data: payers (insurers, TPAs, corporates, government schemes, cash), bed
categories with room tariffs, procedures, inventory items, vendors, staff roles, shifts, vaccines and
blood components. Prices are in rupees at typical tier-1/tier-2 private-hospital levels.
"""

from __future__ import annotations

from kx_lake.lib.synth.tables import rows, words

# id | name | payer type | category used by tariffs | settlement days (mean) | denial rate
PAYERS = rows("""
CASH|Self pay (cash)|cash|cash|0|0
INS-SGI|Suraksha General Insurance Co.|insurer|insurance|28|0.08
INS-KHI|Kavach Health Insurance Ltd|insurer|insurance|24|0.10
INS-BMA|Bharat Mutual Assurance|insurer|insurance|35|0.07
INS-JRH|Jeevan Raksha Health Insurance|insurer|insurance|30|0.12
INS-NHI|Niramaya Health Insurance|insurer|insurance|21|0.09
TPA-MSR|MediSure TPA Services Pvt Ltd|tpa|insurance|32|0.11
TPA-HLK|HealthLink TPA Ltd|tpa|insurance|38|0.13
TPA-RKS|Raksha Health TPA|tpa|insurance|29|0.10
GOV-PMJAY|Ayushman Bharat PM-JAY|government|government|45|0.15
GOV-CGHS|Central Government Health Scheme|government|government|60|0.06
CORP-INF|Infosphere Technologies Ltd|corporate|corporate|40|0.03
CORP-STL|Sterling Steel Industries|corporate|corporate|45|0.02
CORP-RAIL|Zonal Railway Hospital Referral|corporate|corporate|55|0.04
""", str, str, str, str, int, float)
PLAN_TIERS = (("Silver", 300000), ("Gold", 500000), ("Platinum", 1000000), ("Family Floater", 700000))

# category | name | room rent/day (₹) | nursing/day (₹) | share of beds
BED_CATEGORIES = rows("""
GEN|General Ward|1500|600|0.45
SEMI|Semi-Private|3200|800|0.2
PVT|Private Room|5500|1000|0.15
ICU|Intensive Care Unit|12000|2500|0.12
NICU|Neonatal ICU|9500|2500|0.08
""", str, str, int, int, float)

# code | name | specialty | price (₹) | OT minutes | anaesthesia
PROCEDURES = rows("""
LSCS|Lower segment caesarean section|OBG|65000|60|spinal
NVD|Normal vaginal delivery|OBG|32000|0|
LAPCHOLE|Laparoscopic cholecystectomy|GS|85000|90|general
APPX|Laparoscopic appendicectomy|GS|70000|60|general
HERNIA|Inguinal hernioplasty|GS|60000|75|spinal
TKR|Total knee replacement|ORT|285000|150|spinal
ORIF|Open reduction internal fixation|ORT|95000|120|general
PTCA|Coronary angioplasty (PTCA) with stent|CAR|240000|90|local
CATARACT|Phacoemulsification with IOL|OPH|38000|30|local
TURP|Transurethral resection of prostate|URO|90000|75|spinal
URS|Ureteroscopic lithotripsy|URO|75000|60|spinal
FESS|Functional endoscopic sinus surgery|ENT|70000|90|general
DIALYSIS|Haemodialysis session|NEP|2500|0|
""", str, str, str, int, int, str)
MISC_SERVICES = rows("""
REG|Registration fee|registration|150
ER-CONSULT|Emergency consultation|consultation|1000
ECG|Electrocardiogram (ECG)|procedure|300
DRESSING|Dressing (minor)|procedure|350
NEB|Nebulisation|procedure|250
INJ|Injection charges|procedure|100
AMB|Ambulance charges (within city)|ambulance|1800
DIET|Dietary charges per day|hotel|600
""", str, str, str, int)

# code | name | category | unit | unit cost (₹) | shelf life (months) | reorder level
ITEMS = rows("""
ITM-SYR5|Disposable syringe 5 ml|consumable|piece|6|60|500
ITM-GLV|Examination gloves (nitrile, M)|consumable|box of 100|450|36|40
ITM-SGLV|Sterile surgical gloves 7.0|consumable|pair|38|48|200
ITM-IVSET|IV infusion set|consumable|piece|42|60|300
ITM-CANN|IV cannula 20G|consumable|piece|55|60|300
ITM-GAUZE|Gauze swab 10x10 cm|consumable|pack of 100|180|60|50
ITM-COTTON|Absorbent cotton roll 500 g|consumable|roll|210|60|40
ITM-MASK|Surgical mask 3-ply|consumable|box of 50|150|36|60
ITM-N95|N95 respirator|consumable|piece|45|36|200
ITM-CATH|Foley catheter 16Fr|consumable|piece|95|60|80
ITM-SUT|Absorbable suture 2-0|surgical|piece|320|60|60
ITM-BLADE|Surgical blade no. 22|surgical|box of 100|650|60|10
ITM-DRAPE|Sterile drape set|surgical|set|480|36|40
ITM-ETT|Endotracheal tube 7.5|surgical|piece|160|60|30
ITM-HANDRUB|Alcohol hand rub 500 ml|housekeeping|bottle|240|24|100
ITM-DISINF|Surface disinfectant 5 L|housekeeping|can|1450|24|20
ITM-BMWBAG|Biomedical waste bag (yellow)|housekeeping|pack of 50|380|60|30
ITM-LINEN|Bed sheet (white)|linen|piece|320|0|150
ITM-GOWN|Patient gown|linen|piece|280|0|100
ITM-VACU|Vacutainer EDTA 3 ml|lab consumable|pack of 100|950|24|20
ITM-REAG-CBC|Haematology reagent pack|reagent|kit|18500|12|4
ITM-REAG-BIO|Biochemistry reagent kit|reagent|kit|24000|12|4
ITM-FILM|X-ray film 14x17|radiology|pack of 100|9800|24|5
ITM-CONTRAST|Iohexol contrast 100 ml|radiology|bottle|2100|24|20
ITM-GEL|Ultrasound gel 5 L|radiology|can|850|24|6
ITM-PAPER|A4 paper ream|stationery|ream|290|0|50
ITM-PRINT|Thermal printer roll|stationery|roll|60|0|100
ITM-O2|Medical oxygen cylinder (D type)|gas|cylinder|650|0|20
""", str, str, str, str, float, int, int)

VENDORS = rows("""
VEN-001|Sri Balaji Surgicals|consumable|Bengaluru
VEN-002|Medline Distributors India|consumable|Mumbai
VEN-003|Ganesh Pharma Traders|pharmacy|Pune
VEN-004|Apollo-Kendra Medical Supplies|surgical|Chennai
VEN-005|Deccan Diagnostics Reagents|reagent|Hyderabad
VEN-006|Pioneer Linen Works|linen|Coimbatore
VEN-007|Shakti Oxygen & Gases|gas|Nagpur
VEN-008|Kaveri Stationers|stationery|Mysuru
VEN-009|Lifeline Imaging Consumables|radiology|New Delhi
VEN-010|Hygiene First Facility Products|housekeeping|Ahmedabad
VEN-011|Sanjivani Drug House|pharmacy|Kolkata
VEN-012|Zenith Biomedical Services|equipment|Kochi
""")

# role | department | share | monthly gross (₹)
STAFF_ROLES = rows("""
Staff Nurse|NUR|0.34|32000
Nursing Supervisor|NUR|0.04|52000
Lab Technician|LAB|0.08|28000
Radiographer|RAD|0.05|30000
Pharmacist|PHA|0.07|30000
Front Office Executive|FRO|0.09|22000
Billing Executive|BIL|0.07|25000
Housekeeping Attendant|HKP|0.14|15000
Store Keeper|STR|0.03|24000
HR Executive|HRD|0.02|35000
Dietician|DIE|0.02|34000
OT Technician|OTC|0.05|29000
""", str, str, float, int)
SHIFTS = (("MOR", "Morning", "07:00", "15:00"), ("EVE", "Evening", "15:00", "23:00"),
          ("NGT", "Night", "23:00", "07:00"), ("GEN", "General", "09:00", "18:00"))
VACCINES = words("BCG OPV Pentavalent Rotavirus PCV MMR Hepatitis_B Typhoid_conjugate Influenza HPV Tdap")
BLOOD_GROUPS = ("O+", "B+", "A+", "AB+", "O-", "B-", "A-", "AB-")
BLOOD_GROUP_CUM = (37, 69, 91, 98, 98.8, 99.4, 99.8, 100)
BLOOD_COMPONENTS = (("PRBC", 42, 35), ("FFP", 365, 5), ("PLT", 5, 2), ("WB", 35, 1))  # code, shelf days, wt
DIETS = words("Normal Soft Liquid Diabetic Low_salt Renal High_protein NBM")
EQUIPMENT = words("Ventilator Defibrillator Infusion_pump Patient_monitor ECG_machine Autoclave "
                  "CT_scanner Ultrasound_machine X-ray_unit Haematology_analyser Dialysis_machine")
