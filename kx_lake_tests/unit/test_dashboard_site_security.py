"""The site's sign-in and exposure rules (issue 11), over the same tiny catalog as test_dashboard_site_app:
the token is exchanged for a session (never stored in the cookie, dropped from the URL), the cookie
is named per site and `Secure` over TLS, error pages carry no path or SQL, and the CLI refuses to
bind beyond loopback over plain HTTP without `--insecure`."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from kx_lake.cli import app as cli_app
from kx_lake.lib.dashboards.site import app as site_app
from kx_lake.lib.dashboards.site.binding import BindRefused, check_bind, is_loopback, local_url
from kx_lake.lib.dashboards.site.sessions import SessionStore, cookie_name
from kx_lake_tests.unit.test_dashboard_site_app import client, signed  # noqa: F401 - the shared fixture

SESSION = "kx_lake_env1_80_session"  # env1's site as TestClient addresses it (http://testserver, port 80)


def test_sign_in_exchanges_the_token_for_a_session(client) -> None:  # noqa: F811
    c, tokens = client
    resp = c.get(f"/login?token={tokens['GRP-A']}&next=/d/fin_demo")
    assert resp.status_code == 303 and resp.headers["location"] == "/d/fin_demo"  # the token leaves the URL
    set_cookie = resp.headers["set-cookie"]
    assert set_cookie.startswith(f"{SESSION}=") and tokens["GRP-A"] not in set_cookie
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()
    assert "secure" not in set_cookie.lower()  # plain HTTP
    assert c.get("/d/fin_demo").status_code == 200

    c.cookies.clear()  # the token itself in the cookie is no session
    c.cookies.set(SESSION, tokens["GRP-A"])
    assert c.get("/d/fin_demo").status_code == 303


def test_sign_out_ends_the_session_on_the_server(client) -> None:  # noqa: F811
    c, tokens = client
    signed(c, tokens["admin"])
    session_id = c.cookies[SESSION]
    assert c.get("/logout").status_code == 303
    c.cookies.set(SESSION, session_id)  # a copied cookie replayed after sign-out
    assert c.get("/").status_code == 303
    assert c.get("/api/d/fin_demo").status_code == 401


def test_cookie_is_named_per_site(client) -> None:  # noqa: F811
    c, tokens = client
    other = TestClient(c.app, base_url="http://testserver:8051", follow_redirects=False)
    resp = other.get(f"/login?token={tokens['admin']}")
    assert resp.headers["set-cookie"].startswith("kx_lake_env1_8051_session=")
    names = {cookie_name(env, port, secure=False) for env in ("env1", "env2") for port in (8050, 8051)}
    assert len(names) == 4 and not any("dagster" in n for n in names)


def test_cookie_is_secure_over_tls(client) -> None:  # noqa: F811
    c, tokens = client
    tls = TestClient(c.app, base_url="https://testserver", follow_redirects=False)
    resp = tls.get(f"/login?token={tokens['admin']}")
    set_cookie = resp.headers["set-cookie"]
    assert set_cookie.startswith("__Host-kx_lake_env1_443_session=") and "; secure" in set_cookie.lower()
    assert "path=/" in set_cookie.lower() and "domain" not in set_cookie.lower()
    assert tls.get("/d/fin_demo").status_code == 200


def test_sessions_expire_on_the_injected_clock() -> None:
    now = [1000.0]
    store = SessionStore(ttl=60.0, clock=lambda: now[0])
    sid = store.open("tok")
    assert store.token(sid) == "tok" and store.token("forged") is None and store.token(None) is None
    now[0] += 59.0
    assert store.token(sid) == "tok"
    now[0] += 1.0
    assert store.token(sid) is None


def test_unavailable_dataset_page_names_no_path_or_sql(client, tmp_path: Path) -> None:  # noqa: F811
    c, tokens = client
    con = duckdb.connect(str(tmp_path / "env1.duckdb"))
    con.execute("DROP TABLE kx_env1_analytics.fin_demo")
    con.close()
    signed(c, tokens["admin"])
    for resp in (c.get("/d/fin_demo"), c.get("/api/d/fin_demo")):
        assert resp.status_code == 503
        assert "catalog refresh --env env1" in resp.text
        for leak in (str(tmp_path), "env1.duckdb", "kx_env1_analytics", "Catalog Error", "SELECT", "does not exist"):
            assert leak not in resp.text


def test_unexpected_error_page_names_no_path_or_sql(client, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    c, tokens = client

    def broken(*_args: object) -> None:
        raise RuntimeError("/srv/secret/lake/x.parquet: SELECT * FROM kx_env1_analytics.fin_demo")

    monkeypatch.setattr(site_app, "render", broken)  # stands for any bug below the route
    quiet = TestClient(c.app, raise_server_exceptions=False, follow_redirects=False)
    signed(quiet, tokens["admin"])
    resp = quiet.get("/d/fin_demo")
    assert resp.status_code == 500 and "went wrong" in resp.text
    assert "/srv/secret" not in resp.text and "SELECT" not in resp.text and "Traceback" not in resp.text


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_binds_freely(host: str) -> None:
    assert is_loopback(host)
    check_bind(host, tls=False, insecure=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "dashboards.example.org"])
def test_beyond_loopback_needs_tls_or_insecure(host: str) -> None:
    with pytest.raises(BindRefused, match="--insecure"):
        check_bind(host, tls=False, insecure=False)
    check_bind(host, tls=True, insecure=False)
    check_bind(host, tls=False, insecure=True)


def test_local_url() -> None:
    assert local_url("0.0.0.0", 8050, tls=False) == "http://127.0.0.1:8050"
    assert local_url("::1", 8443, tls=True) == "https://[::1]:8443"


def test_cli_refuses_a_public_bind_without_tls(tmp_path: Path) -> None:
    environ = {"KX_LAKE_HOME": str(tmp_path), "KX_LAKE_ROOT": str(tmp_path / "lake")}
    result = CliRunner().invoke(cli_app, ["dashboards", "serve", "--env", "env1", "--host", "0.0.0.0"], env=environ)
    assert result.exit_code == 2 and "--insecure" in result.output
    assert not (tmp_path / "secrets").exists()  # refused before any token was made
    half = CliRunner().invoke(cli_app, ["dashboards", "serve", "--env", "env1", "--ssl-certfile", str(tmp_path)],
                              env=environ)
    assert half.exit_code == 2 and "go together" in half.output
