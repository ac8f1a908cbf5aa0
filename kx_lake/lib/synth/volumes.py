"""How much happens: daily rates per unit of facility size at scale 1, in one place for calibration,
plus bed planning. Scale 1 yields about a million documents per environment over a year.

Every rate goes through per_day(), so one constant (VOLUME) calibrates the whole year's volume.
Beds follow the expected admission load (beds = load x length of stay / target occupancy) so that
occupancy lands at 70-80% from scale 1 up: beds are planned at load x stay, and small bed pools turn
some admissions away (ER patients are then referred for want of a bed, as in real busy hospitals).
Below scale 1 the floor of one general and one ICU bed per hospital dominates and occupancy is lower
(a test-sized hospital still has an ICU).
"""

from __future__ import annotations

import random

from kx_lake.lib.synth import vocab_ops as vo
from kx_lake.lib.synth.world import Facility, Ward, World

# Realistic daily rates per unit of facility size (a mid-size hospital is ~2 units) ...
OPD_APPOINTMENTS = 7.0
WALK_IN_SHARE = 0.22          # of OPD visits, no appointment
TELE_SHARE = 0.05             # of appointments, video consultations
ER_VISITS = 2.2
ER_ADMIT_RATE = 0.22
OPD_ADMIT_RATE = 0.04
ELECTIVE_ADMISSIONS = 0.9     # planned surgical/medical admissions
LAB_WALK_INS = 2.5            # outside lab orders (diagnostic centres get 3x)
RAD_WALK_INS = 0.6
OTC_SALES = 2.2               # pharmacy counter sales without prescription
STOCK_ISSUES = 1.6            # store issues to departments
STOCK_TRANSFERS = 0.3
ASSET_JOBS = 0.12             # biomedical maintenance jobs
PACKAGES = 0.35               # health check-up packages sold
HOUSEKEEPING = 2.5
AMBULANCE_TRANSFERS = 0.5
QC_RUNS = 1.2 / 2.0           # lab QC runs (per facility, not per size unit: halved for the average size)
BLOOD_DONATIONS = 1.5
PROFILE_EDITS = 0.6           # patients editing their profile (mutate only)
PATIENTS_EXISTING = 420       # registered before the simulated year
PATIENT_REGISTRATIONS = 1.5
ALOS_DAYS = 4.0
TARGET_OCCUPANCY = 1.0
NO_SHOW_RATE = 0.1
CANCEL_RATE = 0.07
HR_HISTORY_DAYS = 365         # attendance/rosters for the last N days x min(1, 2*scale)
MIN_BEDS = {"GEN": 1, "SEMI": 0, "PVT": 0, "ICU": 1, "NICU": 0}  # every hospital keeps a ward and an ICU
# ... times VOLUME at scale 1: a quarter of those rates keeps scale 1 at about a million documents.
VOLUME = 0.23


def per_day(fac: Facility, scale: float, rate: float, factor: float = 1.0, rare: bool = False) -> float:
    """Expected events per day at a facility for a base `rate` per size unit (boosted if `rare`)."""
    return rate * fac.size * scale * VOLUME * factor * (boost(scale) if rare else 1.0)


def boost(scale: float) -> float:
    """Rare events are over-represented (up to 8x) below scale 0.02, so that even a test-sized year
    has documents in every collection and every mess; at realistic scales this is 1."""
    return min(8.0, max(1.0, 0.02 / scale))


def rare(rng: random.Random, p: float, scale: float) -> bool:
    return rng.random() < p * boost(scale)


def admissions_per_day(fac: Facility, scale: float) -> float:
    """Expected admissions per day (ER + OPD + elective), used for both the ADT stream and bed plans."""
    if not fac.has_beds:
        return 0.0
    opd = per_day(fac, scale, OPD_APPOINTMENTS, 1 + WALK_IN_SHARE) * (1 - NO_SHOW_RATE - CANCEL_RATE)
    er = per_day(fac, scale, ER_VISITS, ER_ADMIT_RATE) * 1.4 if fac.has_er else 0.0  # sicker levels admit more
    return opd * OPD_ADMIT_RATE + er + per_day(fac, scale, ELECTIVE_ADMISSIONS, rare=True)


def _split(total: int, cats: list[tuple]) -> list[int]:
    """Beds per category: the minimums first, the rest by share (largest remainder)."""
    counts = [MIN_BEDS[c[0]] for c in cats]
    rest = max(0, total - sum(counts))
    shares = [c[4] / sum(x[4] for x in cats) * rest for c in cats]
    counts = [n + int(s) for n, s in zip(counts, shares, strict=True)]
    for i in sorted(range(len(cats)), key=lambda i: int(shares[i]) - shares[i])[: rest - sum(int(s) for s in shares)]:
        counts[i] += 1
    return counts


def plan_wards(world: World) -> None:
    """Attach wards and beds to each bedded facility, sized by the expected load at this scale."""
    for fac in world.facilities:
        if not fac.has_beds:
            continue
        total = admissions_per_day(fac, world.scale) * ALOS_DAYS / TARGET_OCCUPANCY
        cats = [c for c in vo.BED_CATEGORIES
                if c[0] != "NICU" or fac.type in ("women_child", "multispeciality")]
        floor = 0
        for (code, name, rate, _nursing, _share), beds in zip(cats, _split(round(total), cats), strict=True):
            if beds == 0:
                continue
            wards = 2 if code == "GEN" and beds >= 24 else 1
            for w in range(wards):
                floor += 1
                ward_id = f"{fac.id}-W{len(fac.wards) + 1:02d}"
                n = beds // wards + (1 if w < beds % wards else 0)
                label = name if wards == 1 else f"{name} ({'Male' if w == 0 else 'Female'})"
                fac.wards.append(Ward(ward_id, fac.id, label, code, min(floor, 6),
                                      [f"{ward_id}-B{b:02d}" for b in range(1, n + 1)],
                                      int(rate * fac.price_factor / 50) * 50))
