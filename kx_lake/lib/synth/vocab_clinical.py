"""Clinical reference data: specialties, ICD-10 codes (with the specialty that usually codes them and a
season) and a drug formulary with Indian brands, schedules and MRPs in rupees.

Season tags drive the year's disease curve: dengue/malaria/typhoid peak in the monsoon, respiratory
infections in winter, heat illness in summer, so the diagnosis dashboards show real-looking seasonality.
"""

from __future__ import annotations

from kx_lake.lib.synth.tables import rows

# code | name | OPD popularity weight | consult fee (₹) | min patient age | sex (F/any)
SPECIALTIES = rows("""
GM|General Medicine|10|600|12|
PED|Paediatrics|6|600|0|
OBG|Obstetrics & Gynaecology|6|800|15|F
ORT|Orthopaedics|5|800|5|
CAR|Cardiology|4|1200|18|
ENT|ENT|3|700|2|
OPH|Ophthalmology|3|700|2|
DER|Dermatology|3|800|5|
GS|General Surgery|3|800|10|
NEU|Neurology|2|1200|10|
NEP|Nephrology|1.5|1200|15|
GAS|Gastroenterology|2|1100|10|
PUL|Pulmonology|2|1000|10|
PSY|Psychiatry|1|1000|12|
URO|Urology|1.5|1000|15|
ONC|Oncology|1|1500|15|
END|Endocrinology|2|1100|12|
DEN|Dental|2|500|3|
PHY|Physiotherapy|1.5|500|10|
EM|Emergency Medicine|0|0|0|
PAT|Pathology|0|0|0|
RAD|Radiology|0|0|0|
""", str, str, float, int, int, str)
SUPPORT_DEPARTMENTS = (
    ("LAB", "Laboratory Medicine", "diagnostic"), ("RAD", "Radiology & Imaging", "diagnostic"),
    ("PHA", "Pharmacy", "support"), ("NUR", "Nursing", "support"), ("BIL", "Billing & Insurance", "admin"),
    ("FRO", "Front Office", "admin"), ("HKP", "Housekeeping", "support"), ("STR", "Stores & Purchase", "admin"),
    ("HRD", "Human Resources", "admin"), ("DIE", "Dietetics", "support"), ("OTC", "Operation Theatre", "clinical"),
)

# code | description | specialty | season (all/monsoon/winter/summer) | weight | chronic (1/0)
ICD10 = rows("""
J06.9|Acute upper respiratory infection, unspecified|GM|winter|9|0
J18.9|Pneumonia, unspecified organism|PUL|winter|3|0
J45.9|Asthma, unspecified|PUL|winter|3|1
J44.9|Chronic obstructive pulmonary disease, unspecified|PUL|winter|2|1
J02.9|Acute pharyngitis, unspecified|ENT|winter|4|0
H66.9|Otitis media, unspecified|ENT|all|2|0
J32.9|Chronic sinusitis, unspecified|ENT|winter|2|1
A90|Dengue fever [classical dengue]|GM|monsoon|5|0
A01.0|Typhoid fever|GM|monsoon|3|0
B54|Unspecified malaria|GM|monsoon|3|0
A09|Infectious gastroenteritis and colitis, unspecified|GAS|monsoon|6|0
A15.0|Tuberculosis of lung|PUL|all|1|1
B34.9|Viral infection, unspecified|GM|monsoon|6|0
R50.9|Fever, unspecified|GM|all|6|0
T67.0|Heatstroke and sunstroke|EM|summer|1|0
E86.0|Dehydration|GM|summer|2|0
E11.9|Type 2 diabetes mellitus without complications|END|all|8|1
E11.65|Type 2 diabetes mellitus with hyperglycaemia|END|all|3|1
E03.9|Hypothyroidism, unspecified|END|all|4|1
E78.5|Hyperlipidaemia, unspecified|CAR|all|3|1
E55.9|Vitamin D deficiency, unspecified|GM|all|3|0
D50.9|Iron deficiency anaemia, unspecified|GM|all|4|0
I10|Essential (primary) hypertension|CAR|all|9|1
I21.9|Acute myocardial infarction, unspecified|CAR|winter|1|0
I25.10|Atherosclerotic heart disease of native coronary artery|CAR|all|2|1
I50.9|Heart failure, unspecified|CAR|winter|1|1
I48.91|Atrial fibrillation, unspecified|CAR|all|1|1
I63.9|Cerebral infarction, unspecified|NEU|winter|1|0
G43.9|Migraine, unspecified|NEU|all|3|1
G40.9|Epilepsy, unspecified|NEU|all|1|1
N18.6|End stage renal disease|NEP|all|1|1
N39.0|Urinary tract infection, site not specified|URO|summer|5|0
N20.0|Calculus of kidney|URO|summer|2|0
N40.0|Benign prostatic hyperplasia|URO|all|1|1
K29.7|Gastritis, unspecified|GAS|all|5|0
K21.9|Gastro-oesophageal reflux disease without oesophagitis|GAS|all|3|1
K35.80|Acute appendicitis, unspecified|GS|all|1|0
K40.90|Unilateral inguinal hernia|GS|all|1|0
K80.20|Calculus of gallbladder without cholecystitis|GS|all|1|0
K70.3|Alcoholic cirrhosis of liver|GAS|all|1|1
M54.5|Low back pain|ORT|all|6|0
M17.9|Osteoarthritis of knee, unspecified|ORT|winter|4|1
M79.1|Myalgia|ORT|all|2|0
S52.50|Fracture of lower end of radius|ORT|all|1|0
S72.00|Fracture of neck of femur|ORT|all|1|0
S06.0|Concussion|EM|all|1|0
T14.9|Injury, unspecified|EM|all|3|0
V89.2|Person injured in motor-vehicle accident, traffic|EM|all|2|0
L30.9|Dermatitis, unspecified|DER|summer|3|0
B35.4|Tinea corporis|DER|monsoon|3|0
L70.0|Acne vulgaris|DER|all|2|0
H10.9|Conjunctivitis, unspecified|OPH|monsoon|3|0
H25.9|Age-related cataract, unspecified|OPH|all|2|1
H52.1|Myopia|OPH|all|2|1
Z34.9|Supervision of normal pregnancy, unspecified|OBG|all|6|0
O80|Encounter for full-term uncomplicated delivery|OBG|all|2|0
O82|Encounter for caesarean delivery without indication|OBG|all|1|0
N92.0|Excessive and frequent menstruation|OBG|all|2|0
E28.2|Polycystic ovarian syndrome|OBG|all|2|1
Z00.1|Routine child health examination|PED|all|4|0
Z23|Encounter for immunization|PED|all|4|0
P59.9|Neonatal jaundice, unspecified|PED|all|1|0
F32.9|Depressive episode, unspecified|PSY|all|2|1
F41.1|Generalized anxiety disorder|PSY|all|2|1
C50.9|Malignant neoplasm of breast, unspecified|ONC|all|1|1
C34.90|Malignant neoplasm of lung, unspecified|ONC|all|1|1
K02.9|Dental caries, unspecified|DEN|all|4|0
K05.1|Chronic gingivitis|DEN|all|2|1
M25.56|Pain in knee|PHY|all|2|0
R07.4|Chest pain, unspecified|EM|all|3|0
R10.4|Other and unspecified abdominal pain|EM|all|4|0
Z00.0|General adult medical examination|GM|all|3|0
""", str, str, str, str, float, lambda c: c == "1")

# code | generic | brand | form | strength | category | schedule | MRP per unit (₹) | pack size | default dose
DRUGS = rows("""
D001|Paracetamol|Dolo 650|tablet|650 mg|analgesic|H|2.1|15|1 tab TDS
D002|Amoxicillin + Clavulanic acid|Augmentin 625 Duo|tablet|625 mg|antibiotic|H|22.5|10|1 tab BD
D003|Azithromycin|Azithral 500|tablet|500 mg|antibiotic|H|23.7|5|1 tab OD
D004|Cefixime|Taxim-O 200|tablet|200 mg|antibiotic|H|11.6|10|1 tab BD
D005|Ceftriaxone|Monocef 1g|injection|1 g|antibiotic|H|58.0|1|1 g IV BD
D006|Pantoprazole|Pan 40|tablet|40 mg|antacid|H|9.8|15|1 tab OD before breakfast
D007|Ondansetron|Emeset 4|tablet|4 mg|antiemetic|H|5.2|10|1 tab SOS
D008|Metformin|Glycomet 500|tablet|500 mg|antidiabetic|H|1.8|20|1 tab BD after food
D009|Glimepiride|Amaryl 1|tablet|1 mg|antidiabetic|H|6.9|30|1 tab OD
D010|Insulin glargine|Lantus Solostar|injection|100 IU/ml|antidiabetic|H|720.0|1|10 IU SC HS
D011|Amlodipine|Amlong 5|tablet|5 mg|antihypertensive|H|3.1|15|1 tab OD
D012|Telmisartan|Telma 40|tablet|40 mg|antihypertensive|H|7.4|15|1 tab OD
D013|Atorvastatin|Atorva 10|tablet|10 mg|statin|H|6.7|15|1 tab HS
D014|Aspirin|Ecosprin 75|tablet|75 mg|antiplatelet|H|0.5|14|1 tab OD after lunch
D015|Clopidogrel|Clopilet 75|tablet|75 mg|antiplatelet|H|5.9|15|1 tab OD
D016|Levothyroxine|Thyronorm 50|tablet|50 mcg|thyroid|H|1.6|100|1 tab OD empty stomach
D017|Cetirizine|Cetzine|tablet|10 mg|antihistamine||1.9|10|1 tab HS
D018|Montelukast + Levocetirizine|Montair LC|tablet|10 mg/5 mg|antiallergic|H|14.2|10|1 tab HS
D019|Salbutamol|Asthalin Inhaler|inhaler|100 mcg|bronchodilator|H|148.0|1|2 puffs SOS
D020|Budesonide + Formoterol|Foracort 200|inhaler|200 mcg/6 mcg|bronchodilator|H|495.0|1|2 puffs BD
D021|Ibuprofen|Brufen 400|tablet|400 mg|analgesic|H|1.4|15|1 tab TDS after food
D022|Diclofenac|Voveran 50|tablet|50 mg|analgesic|H|3.3|10|1 tab BD after food
D023|Tramadol|Ultracet|tablet|37.5 mg/325 mg|opioid analgesic|H1|14.8|15|1 tab BD
D024|Morphine|Morphine Sulphate Inj|injection|10 mg/ml|opioid analgesic|X|32.0|1|2 mg IV SOS
D025|Midazolam|Mezolam|injection|1 mg/ml|sedative|X|24.0|1|1 mg IV stat
D026|Alprazolam|Alprax 0.25|tablet|0.25 mg|anxiolytic|H1|2.9|15|1 tab HS
D027|Escitalopram|Nexito 10|tablet|10 mg|antidepressant|H|9.1|10|1 tab OD
D028|Metronidazole|Flagyl 400|tablet|400 mg|antibiotic|H|1.5|15|1 tab TDS
D029|Ofloxacin + Ornidazole|O2|tablet|200 mg/500 mg|antibiotic|H|10.4|10|1 tab BD
D030|Oral rehydration salts|Electral|sachet|21.8 g|electrolyte||21.0|1|1 sachet in 1 L water
D031|Normal saline|NS 0.9% 500 ml|infusion|0.9%|iv fluid|H|35.0|1|500 ml IV over 4 h
D032|Ringer lactate|RL 500 ml|infusion|500 ml|iv fluid|H|38.0|1|500 ml IV over 6 h
D033|Enoxaparin|Clexane 40|injection|40 mg|anticoagulant|H|365.0|1|40 mg SC OD
D034|Furosemide|Lasix 40|tablet|40 mg|diuretic|H|1.1|15|1 tab OD
D035|Iron + Folic acid|Orofer XT|tablet|100 mg|supplement||11.6|10|1 tab OD
D036|Calcium + Vitamin D3|Shelcal 500|tablet|500 mg|supplement||7.1|15|1 tab OD
D037|Cholecalciferol|Uprise D3 60K|capsule|60000 IU|supplement|H|31.0|4|1 cap weekly
D038|Artesunate|Falcigo|injection|60 mg|antimalarial|H|185.0|1|2.4 mg/kg IV
D039|Hydroxychloroquine|HCQS 200|tablet|200 mg|antimalarial|H|6.4|15|1 tab BD
D040|Isoniazid + Rifampicin|Rcinex|capsule|300 mg/450 mg|antitubercular|H|9.5|10|1 cap OD
D041|Oxytocin|Pitocin|injection|5 IU/ml|uterotonic|H|18.0|1|10 IU IM stat
D042|Betamethasone cream|Betnovate-N|cream|0.1%|topical steroid|H|42.0|1|apply BD
D043|Clotrimazole cream|Candid|cream|1%|antifungal||86.0|1|apply BD
D044|Moxifloxacin eye drops|Vigamox|eye drops|0.5%|ophthalmic antibiotic|H|120.0|1|1 drop QID
D045|Chlorhexidine mouthwash|Hexidine|mouthwash|0.2%|antiseptic||95.0|1|10 ml BD
D046|Vitamin B complex|Becosules|capsule|-|supplement||2.7|20|1 cap OD
D047|Ranitidine|Rantac 150|tablet|150 mg|antacid|H|1.2|30|1 tab BD
D048|Domperidone|Domstal|tablet|10 mg|antiemetic|H|3.4|10|1 tab TDS before food
""", str, str, str, str, str, str, str, float, int, str)
