"""The site's HTTP layer without a browser or a lake: Starlette's TestClient over a tiny DuckDB catalog
file holding one dataset with two tenants' rows. Sign-in, scoping, 403s, bad input, headers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient

from kx_lake.lib.config import ProjectConfig, Settings
from kx_lake.lib.config.settings import DEFAULT_CONFIG_DIR
from kx_lake.lib.dashboards.site import Site, build_app
from kx_lake.lib.dashboards.spec import parse_dashboard
from kx_lake.lib.dashboards.tenants import Tenants, TokenStore

SPEC = parse_dashboard({
    "title": "Demo revenue", "subject_area": "financial", "dataset": "fin_demo",
    "description": "A demo dashboard for the site tests.",
    "filters": [{"type": "facility"}, {"type": "date_range", "default_days": 30},
                {"type": "select", "column": "payer"}],
    "visuals": [
        {"id": "k", "type": "kpi", "title": "Total", "measures": [{"column": "amount", "format": "inr"}]},
        {"id": "trend", "type": "line", "title": "Trend", "dimensions": [{"column": "day"}],
         "measures": [{"column": "amount", "format": "inr"}]},
        {"id": "bars", "type": "bar", "title": "By facility", "dimensions": [{"column": "facility_name"}],
         "measures": [{"column": "amount", "format": "inr"}]},
        {"id": "t", "type": "table", "title": "By facility", "dimensions": [{"column": "facility_name"}],
         "measures": [{"column": "amount", "format": "inr"}]},
    ],
}, "fin_demo.yaml", default_id="fin_demo")


@pytest.fixture
def client(tmp_path: Path):
    catalog = tmp_path / "env1.duckdb"
    con = duckdb.connect(str(catalog))
    con.execute("CREATE SCHEMA kx_env1_analytics")
    con.execute("CREATE TABLE kx_env1_analytics.fin_demo (facility_id VARCHAR, facility_name VARCHAR, day DATE, "
                "payer VARCHAR, amount DOUBLE)")
    con.execute("""INSERT INTO kx_env1_analytics.fin_demo VALUES
        ('A-1', 'Alpha <One>', DATE '2026-01-01', 'cash', 1234567), ('A-2', 'Alpha Two', DATE '2026-01-02', 'cash', 20),
        ('B-1', 'Beta One', DATE '2026-01-01', 'insurance', 5000), ('A-2', 'Alpha Two', DATE '2025-06-01', 'cash', 1)""")
    con.close()
    (tmp_path / "tenants.yaml").write_text("""tenants:
  env1:
    GRP-A: {name: Group A, facility_ids: [A-1, A-2]}
    GRP-B: {name: Group B, facility_ids: [B-1]}
""")
    tenants = Tenants.load(tmp_path / "tenants.yaml")
    store, _ = TokenStore.ensure(tmp_path / "tokens.json", "env1", tenants)
    environ = {"KX_LAKE_HOME": str(tmp_path), "KX_LAKE_ROOT": str(tmp_path / "lake")}
    project = ProjectConfig.load(Settings.resolve(DEFAULT_CONFIG_DIR, environ=environ))
    site = Site(project, "env1", {"fin_demo": SPEC}, tenants, store,
                connect=lambda: duckdb.connect(str(catalog), read_only=True), catalog_file=catalog)
    with TestClient(build_app(site), follow_redirects=False) as c:
        yield c, store.tokens_for("env1")


def signed(client: TestClient, token: str) -> TestClient:
    resp = client.get(f"/login?token={token}")
    assert resp.status_code == 303 and resp.headers["location"] == "/"
    return client


def test_unsigned_requests_go_to_sign_in(client) -> None:
    c, _ = client
    resp = c.get("/d/fin_demo?facility=A-1")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=%2Fd%2Ffin_demo")
    assert c.get("/api/d/fin_demo").status_code == 401
    assert c.get("/login?token=nope").status_code == 401
    assert c.post("/login", content="token=nope&next=/", headers={"content-type": "application/x-www-form-urlencoded"}
                  ).status_code == 401


def test_tenant_page_shows_only_its_facilities(client) -> None:
    c, tokens = client
    signed(c, tokens["GRP-A"])
    page = c.get("/d/fin_demo")
    assert page.status_code == 200
    assert "Beta One" not in page.text and "B-1" not in page.text
    assert "₹12,34,587" in page.text  # A's total, Indian digit grouping
    assert "Alpha &lt;One&gt;" in page.text and "Alpha <One>" not in page.text  # escaped in HTML …
    assert "Alpha \\u003cOne\\u003e" in page.text  # … and in the embedded figure JSON
    data = c.get("/api/d/fin_demo").json()
    assert data["facility_scope"] == ["A-1", "A-2"] and data["visuals"]["k"]["rows"] == [[1234587.0]]
    # the default range: the last 30 days of A's data (the June row is outside it)
    assert data["date_from"] == "2025-12-04" and data["date_to"] == "2026-01-02"


def test_other_tenants_facility_is_403(client) -> None:
    c, tokens = client
    signed(c, tokens["GRP-A"])
    assert c.get("/d/fin_demo?facility=B-1").status_code == 403
    assert c.get("/d/fin_demo?facility=A-1&facility=B-1").status_code == 403
    resp = c.get("/api/d/fin_demo?facility=B-1")
    assert resp.status_code == 403 and "B-1" in resp.json()["error"]
    assert c.get("/api/d/fin_demo?facility=A-1' OR '1'='1").status_code == 403


def test_bearer_token_and_admin(client) -> None:
    c, tokens = client
    resp = c.get("/api/d/fin_demo?facility=B-1", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert resp.status_code == 200 and resp.json()["visuals"]["k"]["rows"] == [[5000.0]]
    resp = c.get("/api/d/fin_demo?sel_payer=cash", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert resp.json()["visuals"]["k"]["rows"] == [[1234587.0]]


def test_bad_date_is_400_and_unknown_dashboard_404(client) -> None:
    c, tokens = client
    signed(c, tokens["admin"])
    assert c.get("/d/fin_demo?from=2026-13-01").status_code == 400
    assert c.get("/d/nope").status_code == 404


def test_security_headers_and_local_plotly(client) -> None:
    c, tokens = client
    signed(c, tokens["admin"])
    page = c.get("/d/fin_demo")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert '<script src="/static/plotly.min.js"' in page.text
    js = c.get("/static/plotly.min.js")
    assert js.status_code == 200 and b"plotly.js" in js.content[:200]
