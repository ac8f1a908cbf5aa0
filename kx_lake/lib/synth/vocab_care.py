"""Care pathways: for an ICD-10 code (matched by the longest listed prefix), the presenting complaint,
the lab tests and imaging usually ordered, and the drugs usually prescribed. This is what makes
orders, prescriptions and results agree with the diagnosis on the same encounter.
"""

from __future__ import annotations

from kx_lake.lib.synth.tables import rows, words

# ICD prefix | chief complaint | lab test codes | radiology codes | drug codes
PATHWAYS = rows("""
J06|cough, cold and sore throat|CBC|XR-CHEST|D001 D017 D018
J18|fever with productive cough and breathlessness|CBC CRP|XR-CHEST CT-CHEST|D002 D003 D001
J45|wheezing and breathlessness|CBC|XR-CHEST|D019 D020 D018
J44|chronic cough with breathlessness|CBC ELEC|XR-CHEST CT-CHEST|D020 D019 D003
J02|sore throat and difficulty swallowing|CBC||D002 D001 D017
J32|nasal blockage and headache|||D018 D003
H66|ear pain and discharge|||D002 D001
A90|high-grade fever with body ache|CBC DENGUE LFT||D001 D030 D031
A01|fever for over a week with abdominal pain|CBC WIDAL||D004 D005 D001
B54|fever with chills and rigors|CBC MP||D038 D039 D001
A09|loose stools and vomiting|CBC ELEC||D028 D030 D007 D029
A15|chronic cough with weight loss|CBC ESR|XR-CHEST|D040
B34|fever with malaise|CBC||D001 D046
R50|fever|CBC URINE-RE||D001
T67|collapse after heat exposure|ELEC KFT||D031 D032
E86|weakness and reduced urine output|ELEC KFT||D030 D031
E11|follow-up for diabetes|FBS PPBS HBA1C KFT||D008 D009 D010
E03|fatigue and weight gain|TSH||D016
E78|high cholesterol on screening|LIPID||D013
E55|generalised body ache|VITD||D037 D036
D50|tiredness and pallor|CBC||D035
I10|follow-up for high blood pressure|KFT LIPID ELEC|ECHO|D011 D012
I21|severe chest pain radiating to left arm|TROP-I CBC ELEC KFT|ECHO|D014 D015 D013 D033
I25|exertional chest discomfort|LIPID|ECHO|D014 D013 D015
I50|breathlessness and swelling of feet|KFT ELEC|ECHO XR-CHEST|D034 D012
I48|palpitations|ELEC TSH|ECHO|D033
I63|sudden weakness of one side of body|CBC LIPID PT-INR|CT-HEAD MRI-BRAIN|D014 D013
G43|recurrent headache|||D021 D007
G40|seizure episode|ELEC|MRI-BRAIN|D026
N18|follow-up for kidney disease|KFT ELEC CBC|USG-ABD|D034 D035
N39|burning micturition|URINE-RE URINE-CS||D029 D004
N20|severe flank pain|URINE-RE KFT|CT-KUB USG-ABD|D022 D007
N40|difficulty passing urine|KFT URINE-RE|USG-ABD|D022
K29|burning pain in upper abdomen|||D006 D048
K21|heartburn after meals|||D006 D048
K35|pain in right lower abdomen|CBC CRP|USG-ABD|D005 D001
K40|swelling in the groin|CBC|USG-ABD|D001
K80|pain in upper abdomen after fatty meals|LFT CBC|USG-ABD|D006 D001
K70|abdominal distension and yellow eyes|LFT PT-INR CBC|USG-ABD|D034 D006
M54|low back pain|VITD|XR-SPINE MRI-LS|D022 D036
M17|knee pain on walking|ESR CRP|XR-KNEE MRI-KNEE|D022 D036
M79|muscle pain|||D021
S52|pain and swelling of wrist after a fall||XR-HAND|D022
S72|unable to bear weight after a fall|CBC|XR-KNEE|D023 D033
S06|head injury||CT-HEAD|D001 D007
T14|injury after a fall|||D022
V89|road traffic accident|CBC|CT-HEAD XR-CHEST|D024 D031
L30|itchy skin rash|||D042 D017
B35|ring-shaped itchy rash|||D043 D017
L70|pimples on face|||D042
H10|red watery eyes|||D044
H25|blurred vision|FBS||D044
H52|difficulty seeing distant objects|||
Z34|antenatal check-up|CBC URINE-RE TSH FBS|USG-OBS|D035 D036
O80|labour pains|CBC|USG-OBS|D041 D001
O82|labour pains, previous caesarean|CBC PT-INR|USG-OBS|D041 D005
N92|heavy menstrual bleeding|CBC TSH|USG-PEL|D035
E28|irregular periods|TSH FBS|USG-PEL|D008
Z00.1|routine child check-up|||D046
Z23|vaccination|||
P59|yellowish skin in newborn|CBC LFT||
F32|low mood and poor sleep|TSH||D027
F41|anxiety and palpitations|TSH||D027 D026
C50|breast lump|CBC LFT|MAMMO USG-ABD|D001
C34|persistent cough with blood in sputum|CBC LFT|CT-CHEST|D001
K02|toothache|||D021 D045
K05|bleeding gums|||D045
M25|knee pain||XR-KNEE|D021
R07|chest pain|TROP-I CBC|XR-CHEST ECHO|D014 D006
R10|abdominal pain|CBC URINE-RE|USG-ABD|D006 D007
Z00.0|annual health check-up|CBC FBS LIPID LFT KFT TSH URINE-RE|XR-CHEST|
""", str, str, words, words, words)
_BY_PREFIX = {p[0]: p for p in PATHWAYS}
DEFAULT = ("", "general weakness", ("CBC",), (), ("D001",))


def pathway(code: str) -> tuple:
    """(prefix, complaint, labs, rads, drugs) for an ICD-10 code."""
    for n in (len(code), 5, 3):
        hit = _BY_PREFIX.get(code[:n])
        if hit:
            return hit
    return DEFAULT
