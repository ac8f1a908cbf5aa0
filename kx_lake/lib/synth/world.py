"""The simulated world of one environment: hospital groups, facilities, departments, doctors, wards,
beds and staff, built in memory from (seed, env, scale) before any document is written.

Everything transactional references these objects, so referential integrity holds by construction.
The world never depends on the simulated horizon, which lets `mutate` rebuild it exactly later.
Patients are not held here: a patient is an index per facility, and its core attributes are
re-derived on demand (see patients.py), so memory stays flat whatever the scale.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kx_lake.lib.synth import vocab_clinical as vc
from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth import vocab_people as vp
from kx_lake.lib.synth.rng import derive, pick

GROUPS_PER_ENV = 5
FACILITIES_PER_GROUP = 6
_TYPE_PLAN = ("multispeciality", "hospital", "hospital", "women_child", "clinic", "diagnostic")
_CLINIC_SPECS = ("GM", "PED", "DER", "DEN", "ENT", "OPH", "PHY")
_HOSPITAL_SPECS = ("GM", "PED", "OBG", "ORT", "GS", "ENT", "OPH", "CAR", "DER", "GAS", "PUL", "END", "URO")
SPEC_BY_CODE = {s[0]: s for s in vc.SPECIALTIES}
QUALIFICATION = {"GM": "MD (General Medicine)", "PED": "MD (Paediatrics)", "OBG": "MS (OBG)",
                 "ORT": "MS (Ortho)", "GS": "MS (General Surgery)", "CAR": "DM (Cardiology)",
                 "NEU": "DM (Neurology)", "NEP": "DM (Nephrology)", "GAS": "DM (Gastroenterology)",
                 "DEN": "BDS, MDS", "PHY": "BPT, MPT", "EM": "MD (Emergency Medicine)",
                 "PAT": "MD (Pathology)", "RAD": "MD (Radiodiagnosis)"}
DOCTOR_SPECIALTY = {"LAB": "PAT", "RAD": "RAD"}  # support departments staffed by doctors


@dataclass(slots=True)
class Department:
    id: str
    facility_id: str
    code: str
    name: str
    kind: str


@dataclass(slots=True)
class Doctor:
    id: str
    facility_id: str
    department_id: str
    specialty: str
    name: str
    gender: str
    fee: int
    weekdays: tuple[int, ...]
    start_hour: int
    experience: int
    reg_no: str
    phone: str


@dataclass(slots=True)
class Ward:
    id: str
    facility_id: str
    name: str
    category: str
    floor: int
    bed_ids: list[str]
    rate: int


@dataclass(slots=True)
class Staff:
    id: str
    facility_id: str
    department_id: str
    role: str
    name: str
    gender: str
    salary: int
    shift: str


@dataclass(slots=True)
class Facility:
    idx: int
    id: str
    name: str
    group_id: str
    group_name: str
    type: str
    size: float
    city: tuple
    locality: str
    has_beds: bool
    has_er: bool
    price_factor: float
    departments: dict[str, Department] = field(default_factory=dict)
    doctors: list[Doctor] = field(default_factory=list)
    wards: list[Ward] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    services: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # filled by catalogue()
    siblings: list[int] = field(default_factory=list)  # same group and city

    def dept(self, code: str) -> Department | None:
        return self.departments.get(code)

    def doctors_of(self, specialty: str) -> list[Doctor]:
        return [d for d in self.doctors if d.specialty == specialty]


@dataclass
class World:
    seed: int
    env: str
    scale: float
    groups: list[tuple[str, str, str]]
    facilities: list[Facility]

    def __post_init__(self) -> None:
        self.by_id = {f.id: f for f in self.facilities}
        self.doctors = [d for f in self.facilities for d in f.doctors]
        self.doctor_by_id = {d.id: d for d in self.doctors}


def person_name(rng: random.Random, gender: str) -> str:
    first = pick(rng, vp.FEMALE if gender == "F" else vp.MALE)
    return f"{first} {pick(rng, vp.SURNAMES)}"


def alt_spelling(name: str) -> str:
    """A second spelling of a facility name, as typed by another front-office user (mess M11)."""
    for a, b in (("Multispeciality", "Multi-Speciality"), (" & ", " and "), ("Shri ", "Sri "), ("Hospital", "Hosp.")):
        if a in name:
            return name.replace(a, b, 1)
    return name + " "


def build_world(seed: int, env: str, scale: float) -> World:
    rng = derive(seed, env, "world")
    groups = rng.sample(vp.GROUPS, GROUPS_PER_ENV)
    facilities: list[Facility] = []
    types = {t[0]: t for t in vp.FACILITY_TYPES}
    for g_code_name in groups:
        g_name, g_code, stem = g_code_name
        cities = rng.sample(vp.CITIES, 2)
        plan = list(_TYPE_PLAN)
        if rng.random() < 0.5:
            plan[3] = "clinic"
        for n, ftype in enumerate(plan, start=1):
            city = cities[0] if n <= 4 else cities[1]
            _, suffix, size, beds, er = types[ftype]
            locality = pick(rng, vp.LOCALITIES)
            fac = Facility(
                idx=len(facilities), id=f"{g_code}-{city[6]}-{n:02d}", group_id=f"GRP-{g_code}",
                name=f"{stem} {suffix}, {locality}", group_name=g_name, type=ftype,
                size=round(size * rng.uniform(0.8, 1.25), 2), city=city, locality=locality,
                has_beds=beds, has_er=er, price_factor=round(rng.uniform(0.85, 1.3), 2),
            )
            facilities.append(fac)
    for fac in facilities:
        fac.siblings = [o.idx for o in facilities
                        if o.group_id == fac.group_id and o.city == fac.city and o.idx != fac.idx]
        _departments(rng, fac)
    doctor_no = staff_no = 0
    for fac in facilities:
        doctor_no = _doctors(rng, fac, doctor_no)
        staff_no = _staff(rng, fac, staff_no)
    return World(seed, env, scale, groups, facilities)


def _departments(rng: random.Random, fac: Facility) -> None:
    if fac.type == "multispeciality":
        specs = [s[0] for s in vc.SPECIALTIES if s[0] != "EM"]
    elif fac.type in ("hospital",):
        specs = list(_HOSPITAL_SPECS[:8]) + rng.sample(_HOSPITAL_SPECS[8:], 3)
    elif fac.type == "women_child":
        specs = ["OBG", "PED", "GM", "DER"]
    elif fac.type == "clinic":
        specs = ["GM"] + rng.sample(_CLINIC_SPECS[1:], 3)
    else:
        specs = ["GM"]
    if fac.has_er:
        specs.append("EM")
    for code in specs:
        fac.departments[code] = Department(f"{fac.id}-{code}", fac.id, code, SPEC_BY_CODE[code][1], "clinical")
    support = [s for s in vc.SUPPORT_DEPARTMENTS
               if (fac.has_beds or s[0] not in ("NUR", "DIE", "OTC"))
               and not (fac.type == "clinic" and s[0] == "RAD") and not (fac.type == "diagnostic" and s[0] == "PHA")]
    for code, name, kind in support:
        fac.departments[code] = Department(f"{fac.id}-{code}", fac.id, code, name, kind)


def _doctors(rng: random.Random, fac: Facility, n: int) -> int:
    per_dept = {"multispeciality": (1, 3), "hospital": (1, 2), "women_child": (2, 3)}.get(fac.type, (1, 1))
    for dept in fac.departments.values():
        spec = DOCTOR_SPECIALTY.get(dept.code, dept.code)
        if spec not in SPEC_BY_CODE:
            continue
        for _ in range(1 if spec in ("PAT", "RAD") else rng.randint(*per_dept)):
            n += 1
            gender = "F" if rng.random() < (0.7 if dept.code in ("OBG", "PED") else 0.35) else "M"
            weekdays = (tuple(range(7)) if spec == "EM" else tuple(range(6)) if spec in ("PAT", "RAD")
                        else tuple(sorted(rng.sample(range(6), rng.randint(3, 6)))))
            fee = int(SPEC_BY_CODE[spec][3] * fac.price_factor * rng.choice((0.9, 1.0, 1.0, 1.25)) / 50) * 50
            fac.doctors.append(Doctor(
                id=f"DR{10000 + n}", facility_id=fac.id, department_id=dept.id, specialty=spec,
                name="Dr. " + person_name(rng, gender), gender=gender, fee=fee, weekdays=weekdays,
                start_hour=rng.choice((8, 9, 9, 10, 10, 11, 16, 17)), experience=rng.randint(3, 32),
                reg_no=f"{fac.city[1][:2].upper()}MC/{rng.randint(1995, 2022)}/{rng.randint(1000, 99999)}",
                phone=f"+91 9{rng.randint(100000000, 999999999)}",
            ))
    return n


def _staff(rng: random.Random, fac: Facility, n: int) -> int:
    roles = [r for r in vo.STAFF_ROLES if r[1] in fac.departments]
    total = max(6, round(fac.size * 6))
    weights = [r[2] for r in roles]
    for i in range(total):
        role = roles[i] if i < len(roles) else rng.choices(roles, weights)[0]
        n += 1
        gender = "F" if rng.random() < (0.85 if role[1] == "NUR" else 0.4) else "M"
        fac.staff.append(Staff(
            id=f"EMP{20000 + n}", facility_id=fac.id, department_id=fac.departments[role[1]].id, role=role[0],
            name=person_name(rng, gender), gender=gender, salary=int(role[3] * rng.uniform(0.85, 1.3)),
            shift=rng.choice(("MOR", "EVE", "NGT")) if role[1] in ("NUR", "HKP", "LAB") else "GEN",
        ))
    return n
