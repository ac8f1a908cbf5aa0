"""Tenant isolation below the web layer: the tenants file, tokens, the facility scope and the SQL it
produces, run on an in-memory DuckDB dataset with two tenants' rows."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import duckdb
import pytest

from kx_lake.lib.config.errors import ConfigErrors
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.dashboards import query as Q
from kx_lake.lib.dashboards.formats import format_value, indian_group
from kx_lake.lib.dashboards.spec import Format, parse_dashboard
from kx_lake.lib.dashboards.tenants import TENANTS_FILE, Tenants, TokenStore, admin, tenant_principal
from kx_lake.lib.synth.world import build_world

SPEC = parse_dashboard({
    "title": "Demo", "subject_area": "financial", "dataset": "demo",
    "description": "A demo dashboard for the unit tests.",
    "filters": [{"type": "facility"}, {"type": "date_range"}, {"type": "select", "column": "payer"}],
    "visuals": [
        {"id": "k", "type": "kpi", "title": "Total", "measures": [{"column": "amount", "format": "inr"}]},
        {"id": "by_fac", "type": "bar", "title": "By facility", "dimensions": [{"column": "facility_name"}],
         "measures": [{"column": "amount"}]},
    ],
}, "demo.yaml", default_id="demo")


def tenants_file(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "tenants.yaml"
    p.write_text(body)
    return p


@pytest.fixture
def tenants(tmp_path: Path) -> Tenants:
    return Tenants.load(tenants_file(tmp_path, """tenants:
  env1:
    GRP-A: {name: Group A, facility_ids: [A-1, A-2]}
    GRP-B: {name: Group B, facility_ids: [B-1]}
"""))


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE TABLE demo (facility_id VARCHAR, facility_name VARCHAR, day DATE, payer VARCHAR, amount DOUBLE)")
    c.execute("""INSERT INTO demo VALUES
        ('A-1', 'Alpha One', DATE '2026-01-01', 'cash', 100), ('A-2', 'Alpha Two', DATE '2026-01-02', 'insurance', 20),
        ('B-1', 'Beta One', DATE '2026-01-01', 'cash', 5000), ('A-1', 'Alpha One', DATE '2026-02-01', 'cash', 7)""")
    return c


def run(con: duckdb.DuckDBPyConnection, principal, state: Q.FilterState, visual: int = 0) -> list[tuple]:
    scope = Q.resolve_scope(principal, state.facility_ids)
    where_sql, params = Q.where(SPEC, state, scope)
    return con.execute(Q.visual_sql("demo", SPEC.visuals[visual], where_sql), params).fetchall()


def test_repo_tenants_match_the_synthetic_world() -> None:
    loaded = Tenants.load(DEFAULT_CONFIG_DIR / TENANTS_FILE)
    for env in ("env1", "env2", "env3"):
        world = build_world(42, env, 0.005)
        expected = {f"GRP-{code}": sorted(f.id for f in world.facilities if f.group_id == f"GRP-{code}")
                    for _, code, _ in world.groups}
        assert {t: sorted(v.facility_ids) for t, v in loaded.of(env).items()} == expected


def test_a_facility_in_two_tenants_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors, match="facility A-1 belongs to both GRP-A and GRP-B"):
        Tenants.load(tenants_file(tmp_path, """tenants:
  env1:
    GRP-A: {name: A, facility_ids: [A-1]}
    GRP-B: {name: B, facility_ids: [A-1]}
"""))


def test_tenant_sees_only_its_facilities(con, tenants: Tenants) -> None:
    a = tenant_principal("env1", tenants.of("env1")["GRP-A"])
    assert run(con, a, Q.FilterState()) == [(127.0,)]
    assert run(con, a, Q.FilterState(("A-2",))) == [(20.0,)]
    assert {r[0] for r in run(con, a, Q.FilterState(), 1)} == {"Alpha One", "Alpha Two"}
    assert run(con, admin("env1"), Q.FilterState()) == [(5127.0,)]


def test_other_tenants_facility_is_forbidden(tenants: Tenants) -> None:
    a = tenant_principal("env1", tenants.of("env1")["GRP-A"])
    with pytest.raises(Q.Forbidden, match="B-1"):
        Q.resolve_scope(a, ("A-1", "B-1"))
    with pytest.raises(Q.Forbidden):
        Q.resolve_scope(a, ("A-1' OR '1'='1",))


def test_values_are_parameters_never_sql_text(con) -> None:
    evil = "x') OR 1=1 --"
    state = Q.FilterState(("A-1",), date(2026, 1, 1), date(2026, 1, 31), {"payer": (evil,), "not_a_filter": ("y",)})
    where_sql, params = Q.where(SPEC, state, ("A-1",))
    assert evil not in where_sql and "not_a_filter" not in where_sql
    assert params == ["A-1", date(2026, 1, 1), date(2026, 1, 31), evil]
    assert run(con, admin("env1"), state) == [(None,)]


def test_date_and_select_filters(con) -> None:
    state = Q.FilterState((), date(2026, 1, 1), date(2026, 1, 31), {"payer": ("cash",)})
    assert run(con, admin("env1"), state) == [(5100.0,)]


def test_tokens_created_once_private_and_per_env(tmp_path: Path, tenants: Tenants) -> None:
    path = tmp_path / "secrets" / "dashboard_tokens.json"
    store, created = TokenStore.ensure(path, "env1", tenants)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = store.tokens_for("env1")
    assert set(tokens) == {"admin", "GRP-A", "GRP-B"}
    again, created_again = TokenStore.ensure(path, "env1", tenants)
    assert not created_again and again.tokens_for("env1") == tokens
    assert store.principal(tokens["GRP-B"], "env1", tenants).facility_ids == frozenset({"B-1"})
    assert store.principal(tokens["admin"], "env1", tenants).is_admin
    assert store.principal(tokens["GRP-B"], "env2", tenants) is None  # a token signs in to its env only
    assert store.principal("guess", "env1", tenants) is None
    assert json.loads(path.read_text())["tokens"][tokens["GRP-A"]] == {"env": "env1", "subject": "GRP-A"}


def test_inr_and_percent_formats() -> None:
    assert indian_group(123456789) == "12,34,56,789"
    assert format_value(1234567.4, Format.inr) == "₹12,34,567"
    assert format_value(-2500, Format.inr) == "-₹2,500"
    assert format_value(0.2534, Format.percent) == "25.3%"
    assert format_value(None, Format.number) == "–"
    assert format_value(date(2026, 1, 5), Format.date) == "5 Jan 2026"
