"""Every dashboard dataset on seeded synthetic data: env2 seeded at scale 0.005, the collections the
datasets read synced through the Dagster assets into a scratch lake, the DuckDB catalog refreshed
(tables, _latest views, sql/views, sql/datasets), then each dataset must be non-empty and sensible:
the column contract's types, no negative counts or amounts where none can be negative, rates within
[0, 1], facility_name never null and one name per facility_id."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from kx_lake.builders.sync_runner import run_sync
from kx_lake.lib.catalog import duckdb_catalog, names, views
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.lake.plan import plan_sync
from kx_lake.lib.synth import seed_environment
from kx_lake_tests.fixtures.scratch_lake import scratch_project

pytestmark = pytest.mark.integration

ENV = "env2"
AS_OF = date(2026, 6, 30)
# measures that may be negative: net after returns; discount = gross − net, negative on the seeded
# bills whose recorded total exceeds the sum of their lines (rounding in the source, up to ~0.4 INR)
SIGNED = {"net_after_returns_amount", "discount_amount"}


def needed_collections(project: ProjectConfig) -> list[str]:
    """The collections whose _latest views sql/views and sql/datasets read."""
    env = project.environment(ENV)
    by_view = {(names.glue_database(env, s.database), names.latest_view_name(s)): s.collection
               for s in project.enabled_collections}
    out = set()
    for view in views.load_all_sql(project, ENV):
        out |= {by_view[t] for t in views.referenced_tables(view.sql) if t in by_view}
    return sorted(out)


@pytest.fixture(scope="module")
def catalog(local_source, tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("datasets-seeded") / "lake"
    with pytest.MonkeyPatch.context() as mp:
        project = scratch_project(mp, local_source.settings.home, root)
        seed_environment(local_source.client(ENV), project, ENV, scale=0.005, seed=11, as_of=AS_OF)
        from kx_lake.definitions import defs

        specs = [project.collection(c) for c in needed_collections(project)]
        summary = run_sync(defs(), "sync_collections", plan_sync(project, ENV, specs),
                           instance=dg.DagsterInstance.ephemeral())
        assert all(r.ok for r in summary.results), [r.error for r in summary.results if not r.ok]
        duckdb_catalog.catalog_path(project, ENV).unlink(missing_ok=True)
        done = duckdb_catalog.refresh(project, ENV, specs)
        datasets = [o for o in done if o.kind == "dataset"]
        assert len(datasets) == 24 and all(o.status == "created" for o in datasets), \
            [(o.name, o.reason) for o in datasets if o.status != "created"]
        con = duckdb_catalog.connect(project, ENV)
        yield project, con
        con.close()
        duckdb_catalog.catalog_path(project, ENV).unlink(missing_ok=True)


DATASETS = sorted(p.stem for p in (views.SQL_DIR / views.DATASETS_SUBDIR).glob("*.sql"))


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_is_non_empty_and_sensible(catalog, name: str) -> None:
    project, con = catalog
    view = f"{names.analytics_database(project.environment(ENV))}.{name}"
    described = con.execute(f"DESCRIBE {view}").fetchall()
    types = {r[0]: r[1] for r in described}
    assert [r[0] for r in described][:3] == ["facility_id", "facility_name", "day"]
    assert (types["facility_id"], types["facility_name"], types["day"]) == ("VARCHAR", "VARCHAR", "DATE")
    for col, typ in types.items():
        assert typ in ("VARCHAR", "DATE", "BIGINT", "DOUBLE"), (col, typ)
        if col.endswith("_count") or col in ("qty", "headcount", "beds_total"):
            assert typ == "BIGINT", (col, typ)
        if col.endswith(("_amount", "_minutes", "_days", "_rate", "_value")) or col.endswith("_sum"):
            assert typ == "DOUBLE", (col, typ)

    [(rows, null_names, null_days)] = con.execute(
        f"SELECT count(*), count_if(facility_name IS NULL), count_if(day IS NULL) FROM {view}").fetchall()
    assert rows > 0 and null_names == 0 and null_days == 0
    assert con.execute(f"SELECT count(*) FROM (SELECT facility_id FROM {view} GROUP BY 1 "
                       "HAVING count(DISTINCT facility_name) > 1)").fetchone() == (0,)
    # canonical names: exactly dim_facility's
    dim = f"{names.glue_database(project.environment(ENV), 'hims_masters')}.dim_facility"
    assert con.execute(f"SELECT count(*) FROM {view} v JOIN {dim} d USING (facility_id) "
                       "WHERE v.facility_name <> d.facility_name").fetchone() == (0,)
    for col, typ in types.items():
        if typ in ("BIGINT", "DOUBLE") and col not in SIGNED:
            assert con.execute(f'SELECT count(*) FROM {view} WHERE "{col}" < 0').fetchone() == (0,), col
        if col.endswith("_rate"):
            assert con.execute(f'SELECT count(*) FROM {view} WHERE "{col}" > 1').fetchone() == (0,), col
    # days lie in the seeded history (a year before AS_OF; registrations and stock expiry go further back/forward)
    [(first, last)] = con.execute(f"SELECT min(day), max(day) FROM {view}").fetchall()
    assert last <= AS_OF or name in ("clin_blood_bank",), (first, last)


def test_measures_agree_with_the_source_totals(catalog) -> None:
    """Cross-checks that do not depend on any dataset's grain: totals equal the _latest views'."""
    project, con = catalog
    env = project.environment(ENV)
    a = names.analytics_database(env)
    billing = names.glue_database(env, "hims_billing")
    sched = names.glue_database(env, "hims_scheduling")
    assert con.execute(f"SELECT sum(bill_count) FROM {a}.fin_revenue_daily").fetchone() == \
        con.execute(f"SELECT count(*) FROM {billing}.bills_latest WHERE cardinality(items) > 0").fetchone()
    assert con.execute(f"SELECT sum(bill_count) FROM {a}.fin_payer_mix").fetchone() == \
        con.execute(f"SELECT count(*) FROM {billing}.bills_latest").fetchone()
    gross_rev, net_rev = con.execute(f"SELECT sum(gross_amount), sum(net_amount) FROM {a}.fin_revenue_daily").fetchone()
    gross_mix, net_mix = con.execute(f"SELECT sum(gross_amount), sum(net_amount) FROM {a}.fin_payer_mix").fetchone()
    assert gross_rev == pytest.approx(gross_mix) and net_rev == pytest.approx(net_mix)
    assert con.execute(f"SELECT sum(booked_count) FROM {a}.ops_appointments").fetchone() == \
        con.execute(f"SELECT count(*) FROM {sched}.appointments_latest").fetchone()
    [(booked, done, cancelled, no_show, open_)] = con.execute(
        f"SELECT sum(booked_count), sum(completed_count), sum(cancelled_count), sum(no_show_count), sum(open_count) "
        f"FROM {a}.ops_appointments").fetchall()
    assert booked == done + cancelled + no_show + open_ and no_show > 0
