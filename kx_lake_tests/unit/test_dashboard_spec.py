"""Dashboard spec validation: each kind of mistake is an error naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kx_lake.lib.config.errors import ConfigErrors
from kx_lake.lib.dashboards.datasets import dataset_columns, output_columns
from kx_lake.lib.dashboards.spec import Aggregation, VisualType, load_dashboards

DATASETS = {"fin_demo": ("facility_id", "facility_name", "day", "payer_category", "bills", "net_amount")}


def good_spec() -> dict:
    return {
        "title": "Demo revenue",
        "subject_area": "financial",
        "dataset": "fin_demo",
        "description": "What each hospital billed, by day and by payer.",
        "filters": [{"type": "facility"}, {"type": "date_range"}, {"type": "select", "column": "payer_category"}],
        "visuals": [
            {"id": "kpis", "type": "kpi", "title": "Totals",
             "measures": [{"column": "net_amount", "format": "inr"},
                          {"column": "net_amount", "divide_by": {"column": "bills"}, "format": "inr"}]},
            {"id": "trend", "type": "line", "title": "Trend",
             "dimensions": [{"column": "day", "granularity": "week"}],
             "measures": [{"column": "net_amount", "format": "inr"}]},
            {"id": "mix", "type": "donut", "title": "Mix", "dimensions": [{"column": "payer_category"}],
             "measures": [{"column": "bills"}]},
        ],
    }


def write(tmp_path: Path, spec: dict, name: str = "fin_demo") -> Path:
    d = tmp_path / "dashboards"
    d.mkdir(exist_ok=True)
    (d / f"{name}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return d


def errors_of(tmp_path: Path, spec: dict) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        load_dashboards(write(tmp_path, spec), datasets=DATASETS)
    return [str(e) for e in info.value.errors]


def test_good_spec_loads(tmp_path: Path) -> None:
    [spec] = load_dashboards(write(tmp_path, good_spec()), datasets=DATASETS)
    assert spec.id == "fin_demo"
    assert spec.visuals[1].type is VisualType.line
    assert spec.visuals[0].measures[1].divide_by.aggregation is Aggregation.sum
    assert [f.column for f in spec.select_filters] == ["payer_category"]


def test_unknown_dataset(tmp_path: Path) -> None:
    spec = good_spec() | {"dataset": "fin_nope"}
    [err] = errors_of(tmp_path, spec)
    assert "fin_demo.yaml, field 'dataset'" in err and "unknown dataset 'fin_nope'" in err


def test_unknown_column_names_the_field(tmp_path: Path) -> None:
    spec = good_spec()
    spec["visuals"][1]["measures"][0]["column"] = "gross_amount"
    spec["visuals"][0]["measures"][1]["divide_by"]["column"] = "bils"
    errs = errors_of(tmp_path, spec)
    assert any("field 'visuals[1].measures[0].column'" in e and "unknown column 'gross_amount'" in e for e in errs)
    assert any("field 'visuals[0].measures[1].divide_by.column'" in e for e in errs)
    assert all("fin_demo.yaml" in e for e in errs)


def test_unknown_select_filter_column(tmp_path: Path) -> None:
    spec = good_spec()
    spec["filters"][2]["column"] = "department"
    [err] = errors_of(tmp_path, spec)
    assert "field 'filters[2].column'" in err


def test_bad_visual_type(tmp_path: Path) -> None:
    spec = good_spec()
    spec["visuals"][2]["type"] = "radar"
    [err] = errors_of(tmp_path, spec)
    assert "field 'visuals[2].type'" in err and "'radar' is not one of" in err


def test_bad_aggregation_and_format(tmp_path: Path) -> None:
    spec = good_spec()
    spec["visuals"][1]["measures"][0]["aggregation"] = "median"
    spec["visuals"][0]["measures"][0]["format"] = "usd"
    errs = errors_of(tmp_path, spec)
    assert any("field 'visuals[1].measures[0].aggregation'" in e and "'median'" in e for e in errs)
    assert any("field 'visuals[0].measures[0].format'" in e for e in errs)


def test_visual_shape_is_checked(tmp_path: Path) -> None:
    spec = good_spec()
    spec["visuals"][2]["dimensions"].append({"column": "day"})  # a donut has one dimension
    [err] = errors_of(tmp_path, spec)
    assert "field 'visuals[2]'" in err and "donut visual takes 1..1 dimensions" in err


def test_facility_and_date_filters_are_required(tmp_path: Path) -> None:
    spec = good_spec() | {"filters": [{"type": "date_range"}]}
    [err] = errors_of(tmp_path, spec)
    assert "field 'filters'" in err and "facility" in err


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    spec = good_spec() | {"colour": "blue"}
    [err] = errors_of(tmp_path, spec)
    assert "field 'colour'" in err


def test_id_must_match_file_name(tmp_path: Path) -> None:
    spec = good_spec() | {"id": "other"}
    [err] = errors_of(tmp_path, spec)
    assert "field 'id'" in err


def test_errors_of_several_files_reported_together(tmp_path: Path) -> None:
    d = write(tmp_path, good_spec() | {"dataset": "x_missing"}, "fin_demo")
    bad = good_spec()
    bad["visuals"][0]["type"] = "gauge"
    write(tmp_path, bad, "fin_other")
    with pytest.raises(ConfigErrors) as info:
        load_dashboards(d, datasets=DATASETS)
    files = {Path(e.file).name for e in info.value.errors}
    assert files == {"fin_demo.yaml", "fin_other.yaml"}


def test_output_columns_from_view_sql() -> None:
    sql = """-- header
CREATE OR REPLACE VIEW {{ analytics }}.fin_demo AS
WITH b AS (SELECT * FROM {{ hims_billing }}.bills_latest)
SELECT b.facility_id, f.facility_name, CAST(b.bill_date AS date) AS day, count(*) AS bills,
       sum(b.net) AS net_amount
FROM b JOIN {{ hims_masters }}.dim_facility f ON f.facility_id = b.facility_id
GROUP BY 1, 2, 3
UNION ALL
SELECT 'x', 'y', DATE '2026-01-01', 0, 0
"""
    assert output_columns(sql) == ["facility_id", "facility_name", "day", "bills", "net_amount"]


def test_select_star_dataset_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "datasets"
    d.mkdir()
    (d / "x.sql").write_text("CREATE OR REPLACE VIEW {{ analytics }}.x AS SELECT * FROM {{ hims_billing }}.bills")
    with pytest.raises(ConfigErrors) as info:
        dataset_columns(tmp_path)
    assert "x.sql" in str(info.value) and "SELECT *" in str(info.value)
