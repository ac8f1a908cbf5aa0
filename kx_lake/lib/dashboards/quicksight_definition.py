"""Compile a DashboardSpec (kx_lake.lib.dashboards.spec) into a QuickSight CreateDashboard request
through the Definition API — no analysis or template in between, so the spec file is the source.

Why it is shaped this way:

* One sheet per dashboard, one data set (the spec's dataset) declared under the dataset's own name
  as its identifier, visuals in spec order on a 36-column grid (`width`: full 36, half 18, third
  12; KPI rows are shorter). Ids are derived from the spec's visual ids, so a re-deploy produces a
  byte-identical definition when the spec did not change.
* A spec visual maps to QuickSight visuals one to one, except `kpi`, which becomes one KPIVisual per
  measure ("one big number per measure" in the spec's contract, and QuickSight's KPI shows one).
  `pie` and `donut` are both PieChartVisual; donut adds DonutOptions.
* Measures: `aggregation(column)` is a NumericalMeasureField, or a CategoricalMeasureField when the
  column is not numeric (count / count_distinct of ids). A ratio (`divide_by`) becomes a
  definition-level calculated field `agg({a}) / agg({b})` — aggregated first, then divided, as the
  spec requires (never an average of per-row ratios).
* Formats: `inr` → currency INR with Indian digit grouping (LAKHS) and no decimals, `percent` →
  percentage (QuickSight multiplies the fraction by 100) with one decimal, `minutes` → number with
  a " min" suffix, `number` → Indian grouping; dates as `DD MMM YYYY` (bucketed by granularity).
* Filters: facility is a CategoryFilter on the canonical `facility_name` with a multi-select
  dropdown; date range is a TimeRangeFilter on `day` whose default window is a rolling
  `default_days` ending today, with a date-range picker; `select` filters are dropdowns. All apply to
  every visual of the sheet. Row-level security (by facility_id) is on the data set, not here.
* Column types (from quicksight_columns) decide dimension and measure field kinds.

Pure: spec + ids in, dict out. Every compiled request is checked against botocore's QuickSight
model in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kx_lake.lib.dashboards.spec import (
    Aggregation,
    DashboardSpec,
    DateRangeFilter,
    FacilityFilter,
    Format,
    Granularity,
    Measure,
    SelectFilter,
    Visual,
    VisualType,
)

SHEET_ID = "main"
GRID_COLUMNS = 36
_WIDTH = {"full": 36, "half": 18, "third": 12}
_ROW_SPAN = {VisualType.kpi: 5}
_DEFAULT_ROW_SPAN = 12
_NUMERIC = frozenset({"INTEGER", "DECIMAL"})
_NUM_AGG = {
    Aggregation.sum: "SUM", Aggregation.avg: "AVERAGE", Aggregation.min: "MIN", Aggregation.max: "MAX",
    Aggregation.count: "COUNT", Aggregation.count_distinct: "DISTINCT_COUNT",
}
_CALC_AGG = {
    Aggregation.sum: "sum", Aggregation.avg: "avg", Aggregation.min: "min", Aggregation.max: "max",
    Aggregation.count: "count", Aggregation.count_distinct: "distinct_count",
}
_GRANULARITY = {Granularity.day: "DAY", Granularity.week: "WEEK", Granularity.month: "MONTH"}
_DATE_FORMAT = {Granularity.day: "DD MMM YYYY", Granularity.week: "DD MMM YYYY", Granularity.month: "MMM YYYY"}
_INDIAN_GROUPING = {"DecimalSeparator": "DOT",
                    "ThousandsSeparator": {"Symbol": "COMMA", "Visibility": "VISIBLE", "GroupingStyle": "LAKHS"}}


class DefinitionError(ValueError):
    """A spec that cannot be compiled (e.g. a column the data set lacks); names the spec and field."""


def number_format(fmt: Format) -> dict[str, Any]:
    """A NumberFormatConfiguration for a spec format."""
    if fmt is Format.inr:
        inner = {"CurrencyDisplayFormatConfiguration": {
            "Symbol": "INR", "SeparatorConfiguration": _INDIAN_GROUPING,
            "DecimalPlacesConfiguration": {"DecimalPlaces": 0}, "NumberScale": "NONE"}}
    elif fmt is Format.percent:
        inner = {"PercentageDisplayFormatConfiguration": {
            "SeparatorConfiguration": _INDIAN_GROUPING, "DecimalPlacesConfiguration": {"DecimalPlaces": 1}}}
    elif fmt is Format.minutes:
        inner = {"NumberDisplayFormatConfiguration": {
            "Suffix": " min", "SeparatorConfiguration": _INDIAN_GROUPING,
            "DecimalPlacesConfiguration": {"DecimalPlaces": 1}, "NumberScale": "NONE"}}
    else:  # number (and date, which has no meaning for an aggregated number)
        inner = {"NumberDisplayFormatConfiguration": {
            "SeparatorConfiguration": _INDIAN_GROUPING, "NumberScale": "NONE"}}
    return {"FormatConfiguration": inner}


def _title(text: str) -> dict[str, Any]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text[:512]}}


class _Compiler:
    def __init__(self, spec: DashboardSpec, column_types: Mapping[str, str]) -> None:
        self.spec = spec
        self.types = dict(column_types)
        self.ds = spec.dataset
        self.calculated: list[dict[str, Any]] = []

    def column(self, name: str, where: str) -> dict[str, str]:
        if name not in self.types:
            raise DefinitionError(f"{self.spec.source or self.spec.id}: {where}: column {name!r} is not in data set "
                                  f"{self.ds} (columns: {', '.join(self.types)})")
        return {"DataSetIdentifier": self.ds, "ColumnName": name}

    # fields -------------------------------------------------------------------------------------

    def dimension(self, visual: Visual, j: int) -> tuple[str, dict[str, Any]]:
        d = visual.dimensions[j]
        fid = f"{visual.id}.d{j}"
        column = self.column(d.column, f"visuals[{visual.id}].dimensions[{j}]")
        kind = self.types[d.column]
        if kind == "DATETIME":
            gran = d.granularity or Granularity.day
            return fid, {"DateDimensionField": {
                "FieldId": fid, "Column": column, "DateGranularity": _GRANULARITY[gran],
                "FormatConfiguration": {"DateTimeFormat": _DATE_FORMAT[gran]}}}
        if kind in _NUMERIC:
            return fid, {"NumericalDimensionField": {"FieldId": fid, "Column": column}}
        return fid, {"CategoricalDimensionField": {"FieldId": fid, "Column": column}}

    def measure(self, visual: Visual, j: int) -> tuple[str, dict[str, Any]]:
        m: Measure = visual.measures[j]
        fid = f"{visual.id}.m{j}"
        where = f"visuals[{visual.id}].measures[{j}]"
        column = self.column(m.column, where)
        fmt = number_format(m.format)
        if m.divide_by is not None:
            self.column(m.divide_by.column, where + ".divide_by")
            name = f"{visual.id}_m{j}_ratio"
            expression = (f"{_CALC_AGG[m.aggregation]}({{{m.column}}}) / "
                          f"{_CALC_AGG[m.divide_by.aggregation]}({{{m.divide_by.column}}})")
            self.calculated.append({"DataSetIdentifier": self.ds, "Name": name, "Expression": expression})
            return fid, {"NumericalMeasureField": {
                "FieldId": fid, "Column": {"DataSetIdentifier": self.ds, "ColumnName": name}, "FormatConfiguration": fmt}}
        if self.types[m.column] not in _NUMERIC:
            if m.aggregation not in (Aggregation.count, Aggregation.count_distinct):
                raise DefinitionError(f"{self.spec.source or self.spec.id}: {where}: {m.aggregation.value} of the "
                                      f"non-numeric column {m.column!r}")
            return fid, {"CategoricalMeasureField": {
                "FieldId": fid, "Column": column, "AggregationFunction": _NUM_AGG[m.aggregation]}}
        return fid, {"NumericalMeasureField": {
            "FieldId": fid, "Column": column,
            "AggregationFunction": {"SimpleNumericalAggregation": _NUM_AGG[m.aggregation]},
            "FormatConfiguration": fmt}}

    def fields(self, visual: Visual) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
        dims = [self.dimension(visual, j) for j in range(len(visual.dimensions))]
        measures = [self.measure(visual, j) for j in range(len(visual.measures))]
        return dims, measures

    def sort(self, visual: Visual, dims: list[tuple[str, dict]], measures: list[tuple[str, dict]],
             default_first_dim_asc: bool = False) -> list[dict[str, Any]]:
        if visual.sort is None:
            if default_first_dim_asc and dims:
                return [{"FieldSort": {"FieldId": dims[0][0], "Direction": "ASC"}}]
            return []
        direction = "DESC" if visual.sort.descending else "ASC"
        by = visual.sort.by
        if isinstance(by, int):
            return [{"FieldSort": {"FieldId": measures[by][0], "Direction": direction}}]
        for d, (fid, _) in zip(visual.dimensions, dims, strict=True):
            if d.column == by:
                return [{"FieldSort": {"FieldId": fid, "Direction": direction}}]
        for m, (fid, _) in zip(visual.measures, measures, strict=True):
            if m.column == by:
                return [{"FieldSort": {"FieldId": fid, "Direction": direction}}]
        return [{"ColumnSort": {"SortBy": self.column(by, f"visuals[{visual.id}].sort.by"), "Direction": direction}}]

    # visuals ------------------------------------------------------------------------------------

    def visuals(self, visual: Visual) -> list[dict[str, Any]]:
        dims, measures = self.fields(visual)
        d_fields = [f for _, f in dims]
        m_fields = [f for _, f in measures]
        base = {"VisualId": visual.id, "Title": _title(visual.title)}
        if visual.description:
            base["Subtitle"] = {"Visibility": "VISIBLE", "FormatText": {"PlainText": visual.description[:1024]}}
        limit = {"ItemsLimit": visual.limit, "OtherCategories": "EXCLUDE"} if visual.limit else None
        t = visual.type
        if t is VisualType.kpi:
            out = []
            for j, field in enumerate(m_fields):
                kpi = {"VisualId": f"{visual.id}-{j}" if len(m_fields) > 1 else visual.id,
                       "Title": _title(visual.measures[j].title if len(m_fields) > 1 else visual.title),
                       "ChartConfiguration": {"FieldWells": {"Values": [field]}}}
                out.append({"KPIVisual": kpi})
            return out
        if t is VisualType.bar:
            wells: dict[str, Any] = {"Category": d_fields[:1], "Values": m_fields}
            if len(d_fields) > 1:
                wells["Colors"] = d_fields[1:]
            sort: dict[str, Any] = {}
            if s := self.sort(visual, dims, measures):
                sort["CategorySort"] = s
            if limit:
                sort["CategoryItemsLimit"] = limit
            config: dict[str, Any] = {
                "FieldWells": {"BarChartAggregatedFieldWells": wells},
                "Orientation": "HORIZONTAL" if visual.orientation == "horizontal" else "VERTICAL",
                "BarsArrangement": "STACKED" if len(d_fields) > 1 else "CLUSTERED",
                "Legend": {"Visibility": "VISIBLE" if len(d_fields) > 1 or len(m_fields) > 1 else "HIDDEN"},
            }
            if sort:
                config["SortConfiguration"] = sort
            return [{"BarChartVisual": {**base, "ChartConfiguration": config}}]
        if t is VisualType.line:
            wells = {"Category": d_fields[:1], "Values": m_fields}
            if len(d_fields) > 1:
                wells["Colors"] = d_fields[1:]
            sort = {"CategorySort": self.sort(visual, dims, measures, default_first_dim_asc=True)}
            if limit:
                sort["ColorItemsLimitConfiguration"] = limit
            return [{"LineChartVisual": {**base, "ChartConfiguration": {
                "FieldWells": {"LineChartAggregatedFieldWells": wells}, "Type": "LINE", "SortConfiguration": sort,
                "Legend": {"Visibility": "VISIBLE" if len(d_fields) > 1 or len(m_fields) > 1 else "HIDDEN"}}}}]
        if t in (VisualType.pie, VisualType.donut):
            config = {"FieldWells": {"PieChartAggregatedFieldWells": {"Category": d_fields, "Values": m_fields}},
                      "DataLabels": {"Visibility": "VISIBLE"}, "Legend": {"Visibility": "VISIBLE"}}
            sort = {}
            if s := self.sort(visual, dims, measures):
                sort["CategorySort"] = s
            if limit:
                sort["CategoryItemsLimit"] = limit
            if sort:
                config["SortConfiguration"] = sort
            if t is VisualType.donut:
                config["DonutOptions"] = {"ArcOptions": {"ArcThickness": "MEDIUM"},
                                          "DonutCenterOptions": {"LabelVisibility": "VISIBLE"}}
            return [{"PieChartVisual": {**base, "ChartConfiguration": config}}]
        if t is VisualType.table:
            wells = {"GroupBy": d_fields}
            if m_fields:
                wells["Values"] = m_fields
            config = {"FieldWells": {"TableAggregatedFieldWells": wells}}
            if s := self.sort(visual, dims, measures):
                config["SortConfiguration"] = {"RowSort": s}
            return [{"TableVisual": {**base, "ChartConfiguration": config}}]
        if t is VisualType.heatmap:
            config = {"FieldWells": {"HeatMapAggregatedFieldWells": {
                "Rows": d_fields[:1], "Columns": d_fields[1:2], "Values": m_fields}},
                "DataLabels": {"Visibility": "HIDDEN"}, "Legend": {"Visibility": "VISIBLE"}}
            if limit:
                config["SortConfiguration"] = {"HeatMapRowItemsLimitConfiguration": limit}
            return [{"HeatMapVisual": {**base, "ChartConfiguration": config}}]
        raise DefinitionError(f"{self.spec.source or self.spec.id}: visual {visual.id}: unsupported type {t}")

    # filters ------------------------------------------------------------------------------------

    def filters(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        groups, controls = [], []
        scope = {"SelectedSheets": {"SheetVisualScopingConfigurations": [{"SheetId": SHEET_ID, "Scope": "ALL_VISUALS"}]}}
        for i, f in enumerate(self.spec.filters):
            where = f"filters[{i}]"
            if isinstance(f, FacilityFilter | SelectFilter):
                fid = "facility" if isinstance(f, FacilityFilter) else f"select-{f.column}"
                filt = {"CategoryFilter": {
                    "FilterId": fid, "Column": self.column(f.column, where),
                    "Configuration": {"FilterListConfiguration": {
                        "MatchOperator": "CONTAINS", "SelectAllOptions": "FILTER_ALL_VALUES", "NullOption": "ALL_VALUES"}}}}
                label = f.label if isinstance(f, FacilityFilter) else f.title
                controls.append({"Dropdown": {"FilterControlId": f"{fid}-control", "Title": label,
                                              "SourceFilterId": fid, "Type": "MULTI_SELECT"}})
            elif isinstance(f, DateRangeFilter):
                fid = "date-range"
                filt = {"TimeRangeFilter": {
                    "FilterId": fid, "Column": self.column(f.column, where), "NullOption": "NON_NULLS_ONLY",
                    "IncludeMinimum": True, "IncludeMaximum": True, "TimeGranularity": "DAY",
                    "RangeMinimumValue": {"RollingDate": {
                        "Expression": f"addDateTime(-{f.default_days - 1}, 'DD', truncDate('DD', now()))"}},
                    "RangeMaximumValue": {"RollingDate": {"Expression": "truncDate('DD', now())"}}}}
                controls.append({"DateTimePicker": {"FilterControlId": f"{fid}-control", "Title": f.label,
                                                    "SourceFilterId": fid, "Type": "DATE_RANGE"}})
            else:  # pragma: no cover - the spec's discriminated union has no other member
                raise DefinitionError(f"{self.spec.source or self.spec.id}: {where}: unsupported filter")
            groups.append({"FilterGroupId": f"{fid}-group", "Filters": [filt], "ScopeConfiguration": scope,
                           "Status": "ENABLED", "CrossDataset": "SINGLE_DATASET"})
        return groups, controls

    # layout -------------------------------------------------------------------------------------

    @staticmethod
    def layout(controls: Sequence[dict[str, Any]], placed: Sequence[tuple[str, int, int]]) -> list[dict[str, Any]]:
        """Controls across the top, then visuals left to right, wrapping at 36 columns."""
        elements: list[dict[str, Any]] = []
        row = col = 0
        control_span = max(GRID_COLUMNS // max(len(controls), 1), 6)
        for c in controls:
            inner = next(iter(c.values()))
            if col + control_span > GRID_COLUMNS:
                row, col = row + 3, 0
            elements.append({"ElementId": inner["FilterControlId"], "ElementType": "FILTER_CONTROL",
                             "ColumnIndex": col, "ColumnSpan": control_span, "RowIndex": row, "RowSpan": 3})
            col += control_span
        row, col, row_height = row + 3, 0, 0
        for element_id, span, height in placed:
            if col + span > GRID_COLUMNS:
                row, col, row_height = row + row_height, 0, 0
            elements.append({"ElementId": element_id, "ElementType": "VISUAL", "ColumnIndex": col, "ColumnSpan": span,
                             "RowIndex": row, "RowSpan": height})
            col += span
            row_height = max(row_height, height)
        return [{"Configuration": {"GridLayout": {"Elements": elements}}}]

    def definition(self, data_set_arn: str) -> dict[str, Any]:
        visuals: list[dict[str, Any]] = []
        placed: list[tuple[str, int, int]] = []
        for v in self.spec.visuals:
            compiled = self.visuals(v)
            span = _WIDTH[v.width]
            if v.type is VisualType.kpi and len(compiled) > 1:
                span = max(span // len(compiled), 6)
            for c in compiled:
                inner = next(iter(c.values()))
                placed.append((inner["VisualId"], span, _ROW_SPAN.get(v.type, _DEFAULT_ROW_SPAN)))
            visuals.extend(compiled)
        groups, controls = self.filters()
        sheet = {"SheetId": SHEET_ID, "Name": self.spec.title[:2048], "Title": self.spec.title,
                 "Description": self.spec.description, "ContentType": "INTERACTIVE",
                 "Visuals": visuals, "FilterControls": controls, "Layouts": self.layout(controls, placed)}
        definition: dict[str, Any] = {
            "DataSetIdentifierDeclarations": [{"Identifier": self.ds, "DataSetArn": data_set_arn}],
            "Sheets": [sheet],
            "FilterGroups": groups,
        }
        if self.calculated:
            definition["CalculatedFields"] = self.calculated
        return definition


def compile_definition(spec: DashboardSpec, data_set_arn: str, column_types: Mapping[str, str]) -> dict[str, Any]:
    """The DashboardVersionDefinition of one spec over the data set `data_set_arn`."""
    return _Compiler(spec, column_types).definition(data_set_arn)


def dashboard_request(
    spec: DashboardSpec, *, account_id: str, dashboard_id: str, data_set_arn: str,
    column_types: Mapping[str, str], permissions: Sequence[Mapping[str, Any]], tags: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    """A complete CreateDashboard request (update_request() strips it for UpdateDashboard)."""
    return {
        "AwsAccountId": account_id,
        "DashboardId": dashboard_id,
        "Name": spec.title,
        "Definition": compile_definition(spec, data_set_arn, column_types),
        "VersionDescription": f"kx-lake spec {spec.id} ({spec.subject_area.value})"[:512],
        "DashboardPublishOptions": {
            "AdHocFilteringOption": {"AvailabilityStatus": "DISABLED"},
            "ExportToCSVOption": {"AvailabilityStatus": "ENABLED"},
            "SheetControlsOption": {"VisibilityState": "EXPANDED"},
        },
        "ValidationStrategy": {"Mode": "STRICT"},
        "Permissions": [dict(p) for p in permissions],
        "Tags": [dict(t) for t in tags],
    }
