"""Query rows → what a page shows: KPI cards and tables as formatted text, charts as Plotly figures.

Figures are plain JSON-able dicts (`{"data": [...], "layout": {...}}`) handed to plotly.js in the
browser; building them without plotly's Python validators keeps pages fast. Hover labels and ₹ axis
ticks are pre-formatted (formats.py) because d3 formats cannot group digits the Indian way. Rows
arrive as tuples `(d0.., m0..)` in the order query.visual_sql selects them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kx_lake.lib.dashboards.formats import format_date, format_value, nice_ticks, short
from kx_lake.lib.dashboards.spec import DAY_COLUMN, Format, Measure, Visual, VisualType

HEAT = [[0.0, "#eef4fc"], [0.5, "#6d9eeb"], [1.0, "#0b3d91"]]  # light = low, dark = high
PALETTE = ["#1f6feb", "#e8730c", "#2da44e", "#cf222e", "#8250df", "#0a7e8c", "#bf8700", "#6e7781",
           "#d63384", "#3d5a80", "#7d9d3b", "#9c6644"]


@dataclass
class Rendered:
    visual: Visual
    kind: str  # "kpi" | "table" | "chart"
    payload: Any
    empty: bool


def _dim_text(value: object, column: str) -> str:
    if value is None:
        return "(none)"
    return format_date(value) if column == DAY_COLUMN else str(value)


def _value_axis(values: list[float | None], fmt: Format) -> dict[str, Any]:
    axis: dict[str, Any] = {"rangemode": "tozero", "automargin": True, "gridcolor": "#eaeef2"}
    finite = [v for v in values if v is not None]
    if not finite:
        return axis
    if fmt in (Format.inr, Format.number) and max(abs(v) for v in finite) >= 1e5 or fmt is Format.inr:
        ticks = nice_ticks(min(finite), max(finite))
        axis.update(tickmode="array", tickvals=ticks, ticktext=[short(t, fmt) for t in ticks])
    elif fmt is Format.percent:
        axis.update(tickformat=".0%")
    elif fmt is Format.minutes:
        axis.update(ticksuffix=" min")
    else:
        axis.update(tickformat=",~r")
        if all(float(v).is_integer() for v in finite) and max(finite) <= 10:
            axis.update(dtick=1)  # small counts: no 0.2, 0.4 … ticks
    return axis


def _layout(visual: Visual, **extra: Any) -> dict[str, Any]:
    layout = {"margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "height": 340, "font": {"size": 12},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "colorway": PALETTE,
              "hoverlabel": {"namelength": -1}, "legend": {"orientation": "h", "y": -0.18}}
    layout.update(extra)
    return layout


def _is_time(visual: Visual) -> bool:
    return bool(visual.dimensions) and visual.dimensions[0].column == DAY_COLUMN


def _category_axis(visual: Visual) -> dict[str, Any]:
    if _is_time(visual):
        return {"type": "date", "hoverformat": "%d %b %Y", "automargin": True, "gridcolor": "#eaeef2"}
    return {"type": "category", "automargin": True}


def _xy(visual: Visual, x: list, y: list, m: Measure, name: str, color: str | None) -> dict[str, Any]:
    text = [format_value(v, m.format) for v in y]
    horizontal = visual.type is VisualType.bar and visual.orientation == "horizontal"
    trace: dict[str, Any] = {
        "type": "bar" if visual.type is VisualType.bar else "scatter", "name": name,
        "x": y if horizontal else x, "y": x if horizontal else y,
        "customdata": text, "hovertemplate": f"%{{{'y' if horizontal else 'x'}}}<br>{name}: %{{customdata}}<extra></extra>",
    }
    if horizontal:
        trace["orientation"] = "h"
    if visual.type is VisualType.line:
        trace["mode"] = "lines+markers" if len(x) <= 60 else "lines"
    if color:
        trace["marker"] = {"color": color}
    return trace


def _xy_figure(visual: Visual, rows: list[tuple]) -> dict[str, Any]:
    d0 = visual.dimensions[0]
    traces = []
    if len(visual.dimensions) == 2:
        m = visual.measures[0]
        x = list(dict.fromkeys(r[0] for r in rows))
        series: dict[object, dict[object, float | None]] = {}
        for r in rows:
            series.setdefault(r[1], {})[r[0]] = r[2]
        for i, (key, by_x) in enumerate(series.items()):
            y = [by_x.get(v) for v in x]
            traces.append(_xy(visual, x, y, m, _dim_text(key, visual.dimensions[1].column), PALETTE[i % len(PALETTE)]))
        values = [r[2] for r in rows]
        if visual.type is VisualType.bar:  # stacked: the axis must reach the tallest stack
            totals: dict[object, float] = {}
            for r in rows:
                totals[r[0]] = totals.get(r[0], 0.0) + (r[2] or 0.0)
            values = list(totals.values())
        fmt = m.format
    else:
        x = [r[0] for r in rows]
        for i, m in enumerate(visual.measures):
            traces.append(_xy(visual, x, [r[1 + i] for r in rows], m, m.title, None))
        values = [r[1 + i] for r in rows for i in range(len(visual.measures))]
        fmt = visual.measures[0].format
    if not _is_time(visual):
        for t in traces:  # categories as text so plotly never reads "2024" or "12" as numbers
            key = "y" if t.get("orientation") == "h" else "x"
            t[key] = [_dim_text(v, d0.column) for v in t[key]]
    cat_axis, val_axis = _category_axis(visual), _value_axis(values, fmt)
    horizontal = visual.type is VisualType.bar and visual.orientation == "horizontal"
    extra = {}
    if horizontal:
        cat_axis["autorange"] = "reversed"
        bars_per_row = 1 if len(visual.dimensions) == 2 else len(traces)
        extra["height"] = max(340, 16 * bars_per_row * len(x) + 90)  # room for every label
    layout = _layout(visual, xaxis=val_axis if horizontal else cat_axis, yaxis=cat_axis if horizontal else val_axis,
                     barmode="stack" if len(visual.dimensions) == 2 else "group",
                     showlegend=len(traces) > 1, **extra)
    return {"data": traces, "layout": layout}


def _pie_figure(visual: Visual, rows: list[tuple]) -> dict[str, Any]:
    m = visual.measures[0]
    labels = [_dim_text(r[0], visual.dimensions[0].column) for r in rows]
    values = [r[1] or 0 for r in rows]
    trace = {"type": "pie", "labels": labels, "values": values, "sort": False,
             "hole": 0.5 if visual.type is VisualType.donut else 0, "textinfo": "percent",
             "textposition": "inside", "insidetextorientation": "horizontal",
             "customdata": [format_value(v, m.format) for v in values],
             "hovertemplate": "%{label}<br>%{customdata} (%{percent})<extra></extra>",
             "marker": {"colors": PALETTE}}
    return {"data": [trace], "layout": _layout(visual, showlegend=True, legend={"orientation": "v"},
                                               uniformtext={"minsize": 10, "mode": "hide"})}


def _heatmap_figure(visual: Visual, rows: list[tuple]) -> dict[str, Any]:
    m = visual.measures[0]
    dx, dy = visual.dimensions
    xs = list(dict.fromkeys(r[0] for r in rows))
    ys = list(dict.fromkeys(r[1] for r in rows))
    cell = {(r[0], r[1]): r[2] for r in rows}
    z = [[cell.get((x, y)) for x in xs] for y in ys]
    text = [[format_value(v, m.format) if v is not None else "" for v in row] for row in z]
    x_text = xs if dx.column == DAY_COLUMN else [_dim_text(x, dx.column) for x in xs]
    trace = {"type": "heatmap", "x": x_text, "y": [_dim_text(y, dy.column) for y in ys], "z": z,
             "customdata": text, "colorscale": HEAT, "hoverongaps": False,
             "hovertemplate": f"%{{x}} · %{{y}}<br>{m.title}: %{{customdata}}<extra></extra>"}
    if m.format is Format.percent:
        trace["colorbar"] = {"tickformat": ".0%"}
    xaxis = _category_axis(visual) if dx.column == DAY_COLUMN else {"type": "category", "automargin": True}
    return {"data": [trace], "layout": _layout(visual, xaxis=xaxis, yaxis={"type": "category", "automargin": True},
                                               height=max(300, 26 * len(ys) + 120))}


def render(visual: Visual, rows: list[tuple]) -> Rendered:
    empty = not rows or all(all(v is None for v in r[len(visual.dimensions):]) for r in rows)
    if visual.type is VisualType.kpi:
        r = rows[0] if rows else (None,) * len(visual.measures)
        items = [{"label": m.title, "value": format_value(r[i], m.format)} for i, m in enumerate(visual.measures)]
        return Rendered(visual, "kpi", items, empty)
    if visual.type is VisualType.table:
        headers = [d.title for d in visual.dimensions] + [m.title for m in visual.measures]
        nd = len(visual.dimensions)
        body = [[_dim_text(r[i], d.column) for i, d in enumerate(visual.dimensions)]
                + [format_value(r[nd + j], m.format) for j, m in enumerate(visual.measures)] for r in rows]
        numeric = [False] * nd + [True] * len(visual.measures)
        return Rendered(visual, "table", {"headers": headers, "rows": body, "numeric": numeric}, not rows)
    if visual.type in (VisualType.pie, VisualType.donut):
        return Rendered(visual, "chart", _pie_figure(visual, rows), empty)
    if visual.type is VisualType.heatmap:
        return Rendered(visual, "chart", _heatmap_figure(visual, rows), empty)
    return Rendered(visual, "chart", _xy_figure(visual, rows), empty)
