"""The dashboard spec: one YAML file per dashboard in `dashboards/<id>.yaml`, serving every environment.

The model is deliberately small and engine-neutral so that both renderers compile the same file: the
local site (Plotly over DuckDB) and QuickSight (Definition API). A visual is `dimensions` (group-by
columns, the first being the x axis / category / row) and `measures` (an aggregation of one column,
optionally divided by another aggregation for ratios such as occupancy, which must never be an
average of daily percentages). What each visual type accepts is checked here, once:

    type      dimensions  measures   notes
    kpi       0           1..4       one big number per measure
    line      1..2        1..4       dimension 1 is the x axis (usually `day`), 2 splits series (then 1 measure)
    bar       1..2        1..4       dimension 2 stacks/colours (then 1 measure)
    pie/donut 1           1
    table     1..6        0..8
    heatmap   2           1          x, y, colour

Formats: `inr` (₹, Indian digit grouping), `percent` (the value is a fraction, 0.25 → 25%), `number`,
`minutes`, `date`. A `day` dimension may be bucketed by `granularity` (day|week|month).

Filters: every dashboard has a `facility` filter (on the canonical `facility_name`) and a
`date_range` filter (on `day`); `select` filters on other dimensions are optional.

Validation is two-stage: pydantic checks the shape (bad visual type, bad aggregation, wrong counts),
then `validate_against_datasets` checks the names (dataset exists, every column is one of the
dataset's output columns, read from its SQL without a catalog). Errors are ConfigErrors naming the
file and the field path (e.g. `visuals[2].measures[0].column`); all of a file's errors at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kx_lake.lib.config.errors import ConfigError, ConfigErrors
from kx_lake.lib.config.settings import PACKAGE_DIR

DASHBOARDS_DIR = PACKAGE_DIR.parent / "dashboards"
FACILITY_COLUMN = "facility_name"  # canonical name (dim_facility) shown and filtered by users
FACILITY_ID_COLUMN = "facility_id"  # what tenant isolation filters on
DAY_COLUMN = "day"
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class SubjectArea(StrEnum):
    financial = "financial"
    operational = "operational"
    clinical = "clinical"
    administrative = "administrative"
    inventory = "inventory"


class VisualType(StrEnum):
    kpi = "kpi"
    bar = "bar"
    line = "line"
    pie = "pie"
    donut = "donut"
    table = "table"
    heatmap = "heatmap"


class Aggregation(StrEnum):
    sum = "sum"
    avg = "avg"
    min = "min"
    max = "max"
    count = "count"
    count_distinct = "count_distinct"


class Format(StrEnum):
    inr = "inr"
    percent = "percent"
    number = "number"
    minutes = "minutes"
    date = "date"


class Granularity(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Dimension(_Strict):
    """A group-by column. `granularity` buckets a date column (day → week/month)."""

    column: str
    label: str | None = None
    granularity: Granularity | None = None

    @property
    def title(self) -> str:
        return self.label or self.column.replace("_", " ").capitalize()


class Operand(_Strict):
    column: str
    aggregation: Aggregation = Aggregation.sum


class Measure(_Strict):
    """`aggregation(column)`, or `aggregation(column) / divide_by.aggregation(divide_by.column)`."""

    column: str
    aggregation: Aggregation = Aggregation.sum
    divide_by: Operand | None = None
    label: str | None = None
    format: Format = Format.number

    @property
    def title(self) -> str:
        return self.label or self.column.replace("_", " ").capitalize()

    @property
    def columns(self) -> list[str]:
        return [self.column] + ([self.divide_by.column] if self.divide_by else [])


_SHAPES: dict[VisualType, tuple[tuple[int, int], tuple[int, int]]] = {
    # type: ((min dims, max dims), (min measures, max measures))
    VisualType.kpi: ((0, 0), (1, 4)),
    VisualType.line: ((1, 2), (1, 4)),
    VisualType.bar: ((1, 2), (1, 4)),
    VisualType.pie: ((1, 1), (1, 1)),
    VisualType.donut: ((1, 1), (1, 1)),
    VisualType.table: ((1, 6), (0, 8)),
    VisualType.heatmap: ((2, 2), (1, 1)),
}


class SortSpec(_Strict):
    """Order rows by a measure (by its index in `measures`) or a dimension column."""

    by: str | int
    descending: bool = True


class Visual(_Strict):
    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    type: VisualType
    title: str
    description: str | None = None
    dimensions: list[Dimension] = []
    measures: list[Measure] = []
    sort: SortSpec | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] | None = None
    orientation: Literal["vertical", "horizontal"] = "vertical"
    width: Literal["full", "half", "third"] = "half"

    @model_validator(mode="after")
    def _shape(self) -> Visual:
        (dmin, dmax), (mmin, mmax) = _SHAPES[self.type]
        nd, nm = len(self.dimensions), len(self.measures)
        if not dmin <= nd <= dmax:
            raise ValueError(f"a {self.type.value} visual takes {dmin}..{dmax} dimensions, got {nd}")
        if not mmin <= nm <= mmax:
            raise ValueError(f"a {self.type.value} visual takes {mmin}..{mmax} measures, got {nm}")
        if self.type in (VisualType.line, VisualType.bar) and nd == 2 and nm != 1:
            raise ValueError(f"a {self.type.value} visual split by a second dimension takes exactly 1 measure")
        if isinstance(self.sort, SortSpec) and isinstance(self.sort.by, int) and not 0 <= self.sort.by < nm:
            raise ValueError(f"sort.by: measure index {self.sort.by} out of range (0..{nm - 1})")
        return self

    @property
    def columns(self) -> list[str]:
        return [d.column for d in self.dimensions] + [c for m in self.measures for c in m.columns]


class FacilityFilter(_Strict):
    type: Literal["facility"]
    column: Literal["facility_name"] = FACILITY_COLUMN
    label: str = "Facility"


class DateRangeFilter(_Strict):
    type: Literal["date_range"]
    column: Literal["day"] = DAY_COLUMN
    label: str = "Date"
    default_days: Annotated[int, Field(ge=1, le=3660)] = 90  # initial window ending at the newest day


class SelectFilter(_Strict):
    type: Literal["select"]
    column: str
    label: str | None = None

    @property
    def title(self) -> str:
        return self.label or self.column.replace("_", " ").capitalize()


Filter = Annotated[FacilityFilter | DateRangeFilter | SelectFilter, Field(discriminator="type")]


class DashboardSpec(_Strict):
    id: Annotated[str, Field(pattern=_ID_PATTERN)]
    title: str
    subject_area: SubjectArea
    dataset: Annotated[str, Field(pattern=_ID_PATTERN)]
    description: Annotated[str, Field(min_length=20)]
    filters: list[Filter]
    visuals: Annotated[list[Visual], Field(min_length=1)]
    source: str = Field(default="", exclude=True)  # the file it came from, for messages

    @field_validator("filters")
    @classmethod
    def _required_filters(cls, filters: list) -> list:
        kinds = [f.type for f in filters]
        missing = [k for k in ("facility", "date_range") if k not in kinds]
        if missing:
            raise ValueError(f"every dashboard needs a {' and a '.join(missing)} filter")
        if kinds.count("facility") > 1 or kinds.count("date_range") > 1:
            raise ValueError("at most one facility and one date_range filter")
        return filters

    @field_validator("visuals")
    @classmethod
    def _unique_visual_ids(cls, visuals: list[Visual]) -> list[Visual]:
        seen = set()
        for v in visuals:
            if v.id in seen:
                raise ValueError(f"duplicate visual id {v.id!r}")
            seen.add(v.id)
        return visuals

    @property
    def select_filters(self) -> list[SelectFilter]:
        return [f for f in self.filters if isinstance(f, SelectFilter)]

    @property
    def date_filter(self) -> DateRangeFilter:
        return next(f for f in self.filters if isinstance(f, DateRangeFilter))

    def columns(self) -> dict[str, str]:
        """Every column the spec uses → the first field path that uses it (for messages)."""
        out: dict[str, str] = {}
        for i, f in enumerate(self.filters):
            out.setdefault(f.column, f"filters[{i}].column")
        for i, v in enumerate(self.visuals):
            for j, d in enumerate(v.dimensions):
                out.setdefault(d.column, f"visuals[{i}].dimensions[{j}].column")
            for j, m in enumerate(v.measures):
                out.setdefault(m.column, f"visuals[{i}].measures[{j}].column")
                if m.divide_by:
                    out.setdefault(m.divide_by.column, f"visuals[{i}].measures[{j}].divide_by.column")
            if v.sort and isinstance(v.sort.by, str):
                out.setdefault(v.sort.by, f"visuals[{i}].sort.by")
        return out


def _field_path(loc: Sequence[object]) -> str:
    """pydantic's loc tuple → `visuals[2].measures[0].aggregation` (discriminator tags dropped)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("facility", "date_range", "select"):
            continue  # the tagged-union member name pydantic inserts
        else:
            out += ("." if out else "") + str(part)
    return out or "<root>"


def parse_dashboard(data: object, source: Path | str, default_id: str | None = None) -> DashboardSpec:
    """One spec from parsed YAML; raises ConfigErrors naming `source` and each bad field."""
    if not isinstance(data, Mapping):
        raise ConfigErrors([ConfigError(source, "expected a mapping at the top level")])
    data = dict(data)
    if default_id is not None:
        data.setdefault("id", default_id)
        if data["id"] != default_id:
            raise ConfigErrors([ConfigError(source, f"id {data['id']!r} must equal the file name {default_id!r}",
                                            field="id")])
    data["source"] = str(source)
    try:
        return DashboardSpec.model_validate(data)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "enum" and "expected" in e.get("ctx", {}):
                msg = f"{e.get('input')!r} is not one of {e['ctx']['expected']}"
            errors.append(ConfigError(source, msg, field=_field_path(e["loc"])))
        raise ConfigErrors(errors) from None


def load_dashboard_file(path: Path) -> DashboardSpec:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigErrors([ConfigError(path, f"not valid YAML: {exc}")]) from None
    return parse_dashboard(data, path, default_id=path.stem)


def validate_against_datasets(spec: DashboardSpec, datasets: Mapping[str, Sequence[str]]) -> list[ConfigError]:
    """Name checks: the dataset exists and every column the spec uses is one of its output columns."""
    src = spec.source or spec.id
    if spec.dataset not in datasets:
        return [ConfigError(src, f"unknown dataset {spec.dataset!r} (known: {', '.join(sorted(datasets)) or 'none'})",
                            field="dataset")]
    have = set(datasets[spec.dataset])
    errors = []
    for column, where in spec.columns().items():
        if column not in have:
            errors.append(ConfigError(src, f"unknown column {column!r} in dataset {spec.dataset} "
                                           f"(columns: {', '.join(datasets[spec.dataset])})", field=where))
    for i, v in enumerate(spec.visuals):
        for j, d in enumerate(v.dimensions):
            if d.granularity and d.granularity is not Granularity.day and d.column != DAY_COLUMN:
                errors.append(ConfigError(src, "granularity applies to the day column only",
                                          field=f"visuals[{i}].dimensions[{j}].granularity"))
    for col in (FACILITY_ID_COLUMN, FACILITY_COLUMN, DAY_COLUMN):
        if col not in have:
            errors.append(ConfigError(src, f"dataset {spec.dataset} lacks the contract column {col!r}",
                                      field="dataset"))
    return errors


def load_dashboards(
    dashboards_dir: Path | None = None, datasets: Mapping[str, Sequence[str]] | None = None,
    sql_dir: Path | None = None,
) -> list[DashboardSpec]:
    """Every `<dashboards_dir>/*.yaml`, validated, sorted by subject area then title.

    Column names come from `datasets` (name → columns) when given, else from the dataset SQL files
    (`sql/datasets/*.sql`, see datasets.py). All errors of all files are raised together.
    """
    from kx_lake.lib.dashboards.datasets import dataset_columns

    directory = dashboards_dir or DASHBOARDS_DIR
    if datasets is None:
        datasets = dataset_columns(sql_dir)
    specs, errors = [], []
    for path in sorted(directory.glob("*.yaml")):
        try:
            spec = load_dashboard_file(path)
        except ConfigErrors as exc:
            errors += exc.errors
            continue
        problems = validate_against_datasets(spec, datasets)
        if problems:
            errors += problems
        else:
            specs.append(spec)
    if errors:
        raise ConfigErrors(errors)
    order = list(SubjectArea)
    return sorted(specs, key=lambda s: (order.index(s.subject_area), s.title))
