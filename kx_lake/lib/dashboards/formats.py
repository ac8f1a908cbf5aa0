"""Display formats for the local site, Indian conventions: ₹ with lakh/crore digit grouping
(₹12,34,567), short axis labels in lakh (L) and crore (Cr), percentages from fractions, minutes, dates
as `27 Nov 2026`. Plotly's d3 formats cannot group digits the Indian way, so value axes in ₹ get
explicit tick labels from `nice_ticks` + `short`, and hover labels are pre-formatted here.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from kx_lake.lib.dashboards.spec import Format


def indian_group(n: int) -> str:
    """12345678 → '1,23,45,678'."""
    sign, s = ("-", str(-n)) if n < 0 else ("", str(n))
    if len(s) <= 3:
        return sign + s
    head, tail = s[:-3], s[-3:]
    parts = []
    while len(head) > 2:
        parts.insert(0, head[-2:])
        head = head[:-2]
    if head:
        parts.insert(0, head)
    return sign + ",".join(parts) + "," + tail


def _num(v: float, decimals: int) -> str:
    if decimals == 0 or float(v).is_integer() and abs(v) >= 100:
        return indian_group(int(round(v)))
    whole = int(math.trunc(v))
    frac = f"{abs(v) - abs(whole):.{decimals}f}"
    if frac.startswith("1"):  # rounding carried into the integer part
        whole += 1 if v >= 0 else -1
        frac = f"{0:.{decimals}f}"
    sign = "-" if v < 0 and whole == 0 else ""
    return sign + indian_group(whole) + frac[1:]


def format_value(value: object, fmt: Format) -> str:
    """A cell or KPI value as text; None → '–'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if fmt is Format.date:
        return format_date(value)
    v = float(value)  # type: ignore[arg-type]
    if abs(v) < 0.005:
        v = 0.0  # float residue of sums (1e-13) must not print as ₹0.00 beside ₹0
    if fmt is Format.inr:
        a = abs(v)
        return ("-" if v < 0 else "") + "₹" + _num(a, 0 if a >= 100 or a.is_integer() else 2)
    if fmt is Format.percent:
        return f"{v * 100:.1f}%"
    if fmt is Format.minutes:
        return f"{_num(v, 0 if abs(v) >= 100 else 1)} min"
    return _num(v, 0 if float(v).is_integer() or abs(v) >= 1000 else 2)


def format_date(value: object) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.day} {value.strftime('%b %Y')}"
    return str(value)


def short(value: float, fmt: Format) -> str:
    """Compact axis label: ₹12.5 L, ₹1.2 Cr, 45%, 30 min, 1.2 L."""
    if fmt is Format.percent:
        return f"{value * 100:.0f}%"
    if fmt is Format.minutes:
        return f"{value:g} min"
    prefix = "₹" if fmt is Format.inr else ""
    a = abs(value)
    sign = "-" if value < 0 else ""
    if a >= 1e7:
        return f"{sign}{prefix}{a / 1e7:.3g} Cr"
    if a >= 1e5:
        return f"{sign}{prefix}{a / 1e5:.3g} L"
    return f"{sign}{prefix}{indian_group(int(round(a))) if a >= 1 or a == 0 else f'{a:.2g}'}"


def nice_ticks(vmin: float, vmax: float, count: int = 5) -> list[float]:
    """About `count` round tick values covering [min(0, vmin), vmax]."""
    lo, hi = min(0.0, vmin), max(0.0, vmax)
    if hi == lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 0.999:
        ticks.append(round(t, 10))
        t += step
    return ticks
