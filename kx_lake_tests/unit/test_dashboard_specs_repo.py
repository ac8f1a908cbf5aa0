"""The repository's dashboards: 24 specs, each valid against the real dataset SQL (sql/datasets),
one per dataset, covering every subject area — no catalog needed."""

from __future__ import annotations

from kx_lake.lib.dashboards.datasets import dataset_columns
from kx_lake.lib.dashboards.spec import SubjectArea, VisualType, load_dashboards

CHARTS = {VisualType.bar, VisualType.line, VisualType.pie, VisualType.donut, VisualType.heatmap}


def test_every_spec_validates_against_its_dataset_sql() -> None:
    specs = load_dashboards()  # raises ConfigErrors naming file and field on any problem
    datasets = dataset_columns()
    assert len(specs) == 24
    assert sorted(s.dataset for s in specs) == sorted(datasets), "one dashboard per dataset"
    assert {s.subject_area for s in specs} == set(SubjectArea)


def test_every_dashboard_has_a_chart_and_the_contract_filters() -> None:
    for spec in load_dashboards():
        assert any(v.type in CHARTS for v in spec.visuals), spec.id
        assert {f.type for f in spec.filters} >= {"facility", "date_range"}, spec.id
        assert spec.id.startswith(spec.dataset.split("_")[0]), spec.id


def test_visual_types_in_use() -> None:
    used = {v.type for s in load_dashboards() for v in s.visuals}
    assert used == set(VisualType)
