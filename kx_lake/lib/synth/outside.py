"""Diagnostics ordered from outside: patients walking in with an external doctor's slip for lab tests
or imaging (diagnostic centres see three times as many), billed and reported like in-house orders.
"""

from __future__ import annotations

from kx_lake.lib.synth import vocab_diagnostics as vd
from kx_lake.lib.synth import volumes
from kx_lake.lib.synth.billing import create_bill, pick_payer
from kx_lake.lib.synth.clock import MIN_MS
from kx_lake.lib.synth.lab import order_lab
from kx_lake.lib.synth.patients import pick_patient
from kx_lake.lib.synth.radiology import available, order_radiology
from kx_lake.lib.synth.rng import poisson
from kx_lake.lib.synth.sim import DayCtx
from kx_lake.lib.synth.tables import cum

LAB_CODES = [t[0] for t in vd.LAB_TESTS]
LAB_CUM = cum([t[7] for t in vd.LAB_TESTS])
RAD_CODES = [r[0] for r in vd.RADIOLOGY]
RAD_CUM = cum([r[8] for r in vd.RADIOLOGY])


def day(ctx: DayCtx) -> None:
    rng, fac = ctx.rng, ctx.fac
    boost = 3.0 if fac.type == "diagnostic" else 1.0
    load = boost * ctx.tl.opd_factor(ctx.d)
    if "LAB" in fac.departments:
        for _ in range(poisson(rng, volumes.per_day(fac, ctx.world.scale, volumes.LAB_WALK_INS, load))):
            p, at = pick_patient(ctx), ctx.tl.between(rng, ctx.d, 7, 18)
            tests = sorted(set(rng.choices(LAB_CODES, cum_weights=LAB_CUM, k=rng.randint(1, 4))))
            create_bill(ctx, patient=p, encounter_id=None, kind="LAB", payer_id=pick_payer(ctx),
                        lines=[(f"LAB-{t}", 1) for t in tests], at_ms=at)
            order_lab(ctx, patient=p, tests=tests, at_ms=at + 3 * MIN_MS, encounter_id=None, doctor_id=None,
                      source="outside", suspect=0.25)
    for _ in range(poisson(rng, volumes.per_day(fac, ctx.world.scale, volumes.RAD_WALK_INS, load))):
        code = rng.choices(RAD_CODES, cum_weights=RAD_CUM)[0]
        if not available(ctx, [code]):
            continue
        p, at = pick_patient(ctx), ctx.tl.between(rng, ctx.d, 8, 18)
        create_bill(ctx, patient=p, encounter_id=None, kind="RAD", payer_id=pick_payer(ctx),
                    lines=[(f"RAD-{code}", 1)], at_ms=at)
        order_radiology(ctx, patient=p, code=code, at_ms=at + 5 * MIN_MS, encounter_id=None, doctor_id=None,
                        source="outside")
