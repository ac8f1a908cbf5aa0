"""Diagnostics reference data: laboratory tests with their parameters and reference ranges, and
radiology procedures by modality with prices and typical radiation doses.

Parameters carry a plausible population mean and spread, so generated results fall mostly inside the
reference range and a realistic ~10-20% are flagged high or low.
"""

from __future__ import annotations

from kx_lake.lib.synth.tables import opt_float, rows

# code | name | section | sample type | container | price (₹) | turnaround (h) | weight
LAB_TESTS = rows("""
CBC|Complete Blood Count|Haematology|Whole blood|EDTA (lavender)|350|4|10
ESR|Erythrocyte Sedimentation Rate|Haematology|Whole blood|ESR (black)|150|3|3
PT-INR|Prothrombin Time with INR|Haematology|Plasma|Citrate (blue)|450|4|1
FBS|Fasting Blood Sugar|Biochemistry|Plasma|Fluoride (grey)|100|2|6
PPBS|Post-prandial Blood Sugar|Biochemistry|Plasma|Fluoride (grey)|100|2|3
HBA1C|Glycated Haemoglobin (HbA1c)|Biochemistry|Whole blood|EDTA (lavender)|550|6|5
LFT|Liver Function Test|Biochemistry|Serum|Plain (red)|750|6|5
KFT|Kidney Function Test|Biochemistry|Serum|Plain (red)|700|6|6
LIPID|Lipid Profile|Biochemistry|Serum|Plain (red)|650|6|4
ELEC|Serum Electrolytes|Biochemistry|Serum|Plain (red)|500|3|3
TSH|Thyroid Stimulating Hormone|Immunoassay|Serum|Plain (red)|400|8|4
VITD|25-OH Vitamin D|Immunoassay|Serum|Plain (red)|1400|24|2
TROP-I|Troponin I|Immunoassay|Serum|Plain (red)|1100|1|1
CRP|C-Reactive Protein|Immunoassay|Serum|Plain (red)|500|4|3
DENGUE|Dengue NS1 Antigen & IgM|Serology|Serum|Plain (red)|900|6|2
WIDAL|Widal Test|Serology|Serum|Plain (red)|250|6|2
MP|Malaria Parasite Antigen|Serology|Whole blood|EDTA (lavender)|400|2|2
URINE-RE|Urine Routine Examination|Clinical Pathology|Urine|Urine container|200|3|5
URINE-CS|Urine Culture & Sensitivity|Microbiology|Urine|Sterile container|800|48|1
BLOOD-CS|Blood Culture & Sensitivity|Microbiology|Whole blood|Culture bottle|1200|72|1
""", str, str, str, str, str, int, int, float)

# test code | parameter | unit | reference low | reference high | mean | sd | decimals
LAB_PARAMETERS = rows("""
CBC|Haemoglobin|g/dL|12.0|16.5|13.1|1.9|1
CBC|Total leucocyte count|10^3/uL|4.0|11.0|8.2|3.1|1
CBC|Platelet count|10^3/uL|150|410|245|80|0
CBC|Haematocrit|%|36|48|41|5|1
ESR|ESR|mm/hr|0|20|17|12|0
PT-INR|INR|ratio|0.8|1.2|1.1|0.3|2
FBS|Glucose, fasting|mg/dL|70|100|112|34|0
PPBS|Glucose, post-prandial|mg/dL|70|140|158|52|0
HBA1C|HbA1c|%|4.0|5.6|6.4|1.4|1
LFT|Total bilirubin|mg/dL|0.2|1.2|0.9|0.6|2
LFT|SGOT (AST)|U/L|5|40|36|22|0
LFT|SGPT (ALT)|U/L|7|56|41|26|0
LFT|Albumin|g/dL|3.5|5.0|4.1|0.5|1
KFT|Urea|mg/dL|15|45|34|16|0
KFT|Creatinine|mg/dL|0.6|1.3|1.1|0.5|2
KFT|Uric acid|mg/dL|3.5|7.2|5.6|1.6|1
LIPID|Total cholesterol|mg/dL|0|200|192|42|0
LIPID|Triglycerides|mg/dL|0|150|158|70|0
LIPID|HDL cholesterol|mg/dL|40|60|44|10|0
LIPID|LDL cholesterol|mg/dL|0|100|116|36|0
ELEC|Sodium|mmol/L|135|145|138|4|0
ELEC|Potassium|mmol/L|3.5|5.1|4.2|0.6|1
TSH|TSH|uIU/mL|0.4|4.5|3.2|2.6|2
VITD|25-OH Vitamin D|ng/mL|30|100|21|11|1
TROP-I|Troponin I|ng/mL|0|0.04|0.05|0.2|3
CRP|CRP|mg/L|0|6|9|14|1
DENGUE|NS1 antigen index|index|0|0.9|0.8|1.1|2
WIDAL|S. Typhi O titre|1/dil|0|80|60|50|0
MP|Malaria antigen index|index|0|0.9|0.5|0.7|2
URINE-RE|Pus cells|/hpf|0|5|4|5|0
URINE-RE|Specific gravity|ratio|1.005|1.030|1.018|0.006|3
URINE-CS|Colony count|CFU/mL|0|100000|30000|60000|0
BLOOD-CS|Growth index|index|0|1|0.2|0.4|1
""", str, str, str, float, float, float, float, int)

# code | name | modality | body part | price (₹) | duration (min) | CTDIvol mGy | DLP mGy·cm | weight | contrast
RADIOLOGY = rows("""
XR-CHEST|X-Ray Chest PA view|XR|Chest|450|10|||12|
XR-KNEE|X-Ray Knee AP/Lateral|XR|Knee|550|10|||5|
XR-SPINE|X-Ray Lumbosacral Spine AP/Lateral|XR|Spine|650|15|||4|
XR-HAND|X-Ray Wrist/Hand|XR|Upper limb|450|10|||2|
USG-ABD|Ultrasound Whole Abdomen|US|Abdomen|1500|20|||9|
USG-OBS|Ultrasound Obstetric|US|Pelvis|1800|25|||6|
USG-PEL|Ultrasound Pelvis|US|Pelvis|1300|20|||2|
ECHO|2D Echocardiography|US|Heart|2500|30|||4|
CT-HEAD|CT Brain Plain|CT|Head|2800|15|55|950|4|
CT-CHEST|HRCT Chest|CT|Chest|4500|15|8|350|3|
CT-ABD|CT Abdomen & Pelvis with contrast|CT|Abdomen|7500|25|12|650|2|iodinated
CT-KUB|CT KUB Plain|CT|Abdomen|4200|15|10|480|2|
MRI-BRAIN|MRI Brain|MR|Head|7500|40|||2|
MRI-LS|MRI Lumbosacral Spine|MR|Spine|8000|40|||2|
MRI-KNEE|MRI Knee|MR|Knee|8000|40|||1|gadolinium
MAMMO|Mammography Bilateral|MG|Breast|2500|20|||1|
DEXA|DEXA Bone Densitometry|DX|Spine/Hip|2500|20|||1|
""", str, str, str, str, int, int, opt_float, opt_float, float, str)
MODALITY_ROOMS = {"XR": "X-Ray Room 1", "US": "USG Room", "CT": "CT Suite", "MR": "MRI Suite",
                  "MG": "Mammography", "DX": "DEXA Room"}
