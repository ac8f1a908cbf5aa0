"""The local dashboard site: a Starlette app serving every spec over one environment's DuckDB catalog.

Pages are rendered on the server (Jinja2) with the chart figures embedded as JSON and drawn by the
bundled plotly.min.js (served from the installed plotly package: no CDN, works offline). Filters are
a plain GET form, so every filtered view is a URL; the same parameters drive `/api/d/<id>`, the JSON
of every visual.

Isolation: every route but /login and /static needs a principal: a session (sessions.py: /login
exchanges the sign-in token for a session id in a per-site cookie) or `Authorization: Bearer <token>`. Each query is restricted to the principal's facilities in
query.py; a request naming another tenant's facility gets 403 before any query runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode
from zoneinfo import ZoneInfo

import duckdb
import plotly
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from kx_lake.lib.catalog import names
from kx_lake.lib.catalog.duckdb_catalog import CatalogError
from kx_lake.lib.catalog.snapshots import snapshot_dir
from kx_lake.lib.config import ProjectConfig
from kx_lake.lib.dashboards import query as Q
from kx_lake.lib.dashboards.formats import format_date
from kx_lake.lib.dashboards.render import render
from kx_lake.lib.dashboards.site.data import LOCAL_NAME, DatasetCache, FreshnessProbe, Session
from kx_lake.lib.dashboards.site.sessions import SessionStore, cookie_name
from kx_lake.lib.dashboards.site.sources import DatasetSource, connection_source, dataset_source
from kx_lake.lib.dashboards.spec import DashboardSpec, SubjectArea
from kx_lake.lib.dashboards.tenants import Principal, Tenants, TokenStore

HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
log = logging.getLogger(__name__)
ANALYTICS_DATABASE = "analytics"  # sql/datasets render `{{ analytics }}` to the env's kx_<env>_analytics
SUBJECT_TITLES = {SubjectArea.financial: "Financial", SubjectArea.operational: "Operational",
                  SubjectArea.clinical: "Clinical", SubjectArea.administrative: "Administrative",
                  SubjectArea.inventory: "Inventory"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


UNAVAILABLE = ("This dashboard's data is not available. Run `kx-lake sync --env {env}` and "
               "`kx-lake catalog refresh --env {env}`; the server log has the details.")


class BadRequest(ValueError):
    pass


@dataclass
class Site:
    project: ProjectConfig
    env: str
    specs: dict[str, DashboardSpec]
    tenants: Tenants
    tokens: TokenStore
    connect: Callable[[], duckdb.DuckDBPyConnection] | None = None  # a DuckDB catalog, or:
    catalog_file: Path | None = None
    source: DatasetSource | None = None  # any source (sources.py: DuckDB or Trino)
    sessions: SessionStore = field(default_factory=SessionStore)

    def __post_init__(self) -> None:
        self.tz = ZoneInfo(self.project.environment(self.env).timezone)
        self.analytics = names.glue_database(self.project.environment(self.env), ANALYTICS_DATABASE)
        if self.source is None:
            assert self.connect is not None and self.catalog_file is not None, "Site needs a source or a connect"
            self.source = connection_source(self.connect, self.catalog_file, snapshot_dir(self.project, self.env))
        self.datasets = DatasetCache(self.source.read, self.source.stamp, scoped=self.source.scoped)
        self.freshness = FreshnessProbe(self.project, self.env)

    def relation(self, spec: DashboardSpec) -> str:
        return names.qualified(self.analytics, spec.dataset)

    def session(self, spec: DashboardSpec, scope: tuple[str, ...] | None = None) -> Session:
        """The dataset's rows (for `scope`, the principal's own facilities, when the source pushes it down)."""
        return Session(self.datasets.get(self.relation(spec), scope))

    def warm(self) -> None:
        """Read every dataset once (in the background at start-up) so first page loads are fast."""
        for spec in self.specs.values():
            try:
                self.datasets.get(self.relation(spec))
            except (duckdb.Error, CatalogError):
                pass  # the page reports a missing dataset when it is opened

    def cookie(self, request: Request) -> str:
        server = request.scope.get("server")
        return cookie_name(self.env, server[1] if server else None, secure=request.url.scheme == "https")

    def principal(self, request: Request) -> Principal | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        else:
            token = self.sessions.token(request.cookies.get(self.cookie(request)))
        return self.tokens.principal(token, self.env, self.tenants)


def parse_filters(spec: DashboardSpec, params: Any) -> tuple[Q.FilterState, bool]:
    """FilterState from query parameters; the bool says whether the date range was given at all."""
    def day(name: str) -> date | None:
        raw = params.get(name) or ""
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise BadRequest(f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None

    selects = {f.column: tuple(v for v in params.getlist(f"sel_{f.column}") if v) for f in spec.select_filters}
    state = Q.FilterState(tuple(v for v in params.getlist("facility") if v), day("from"), day("to"),
                          {k: v for k, v in selects.items() if v})
    return state, ("from" in params or "to" in params)


def _script_json(payload: object) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' can end the element."""
    text = json.dumps(payload, default=str, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fmt_ts(ts: datetime | None, tz: ZoneInfo) -> str | None:
    if ts is None:
        return None
    local = ts.astimezone(tz)
    return f"{format_date(local.date())} {local:%H:%M} {local.tzname()}"


def build_app(site: Site) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(env=site.env, subject_titles=SUBJECT_TITLES)

    def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def require(request: Request) -> Principal | Response:
        principal = site.principal(request)
        if principal is None:
            if request.url.path.startswith("/api/"):
                return JSONResponse({"error": "sign in required"}, status_code=401)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        return principal

    def forbidden(request: Request, principal: Principal, message: str) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": message}, status_code=403)
        return page(request, "error.html", {"principal": principal, "title": "Not allowed", "message": message}, 403)

    def sign_in(request: Request, token: str, nxt: str) -> Response:
        """Exchange a valid token for a session; the redirect drops the token from the address bar."""
        if site.tokens.principal(token, site.env, site.tenants) is None:
            return HTMLResponse(templates.get_template("login.html").render(
                error="Unknown token for this environment.", next=nxt), status_code=401)
        target = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie(site.cookie(request), site.sessions.open(token), httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
        return resp

    async def login(request: Request) -> Response:
        nxt = request.query_params.get("next", "/")
        if request.method == "POST":
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            return sign_in(request, (form.get("token") or [""])[0].strip(), (form.get("next") or ["/"])[0])
        if request.query_params.get("token"):
            return sign_in(request, request.query_params["token"], nxt)
        return HTMLResponse(templates.get_template("login.html").render(error=None, next=nxt))

    async def logout(request: Request) -> Response:
        cookie = site.cookie(request)
        site.sessions.close(request.cookies.get(cookie))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(cookie, path="/", secure=request.url.scheme == "https", httponly=True, samesite="strict")
        return resp

    def index(request: Request) -> Response:
        principal = require(request)
        if isinstance(principal, Response):
            return principal
        areas: dict[SubjectArea, list[DashboardSpec]] = {}
        for spec in site.specs.values():
            areas.setdefault(spec.subject_area, []).append(spec)
        return page(request, "index.html", {"principal": principal, "areas": areas,
                                            "freshness": _freshness_text(None)})

    def _freshness_text(newest_day: date | None) -> dict[str, str | None]:
        f = site.freshness.get()
        return {"newest_record": _fmt_ts(f.newest_record, site.tz), "last_sync": _fmt_ts(f.last_sync, site.tz),
                "newest_day": format_date(newest_day) if newest_day else None}

    def compute(spec: DashboardSpec, principal: Principal, params: Any) -> dict[str, Any]:
        """Everything a dashboard page or its JSON shows. Raises Forbidden / BadRequest / duckdb.Error."""
        state, dates_given = parse_filters(spec, params)
        scope = Q.resolve_scope(principal, state.facility_ids)  # raises Forbidden before any query
        own_scope = Q.resolve_scope(principal, ())
        relation = LOCAL_NAME
        started = time.perf_counter()
        session = site.session(spec, own_scope)
        try:
            facilities = session.rows(*Q.facilities_sql(relation, own_scope))
            (lo, hi), = session.rows(*Q.bounds_sql(relation, own_scope))
            if not dates_given and hi is not None:
                state = Q.FilterState(state.facility_ids, max(lo, hi - timedelta(days=spec.date_filter.default_days - 1)),
                                      hi, state.selects)
            options = {f.column: [r[0] for r in session.rows(*Q.options_sql(relation, f.column, own_scope))]
                       for f in spec.select_filters}
            where_sql, params_ = Q.where(spec, state, scope)
            visuals = []
            for v in spec.visuals:
                rows = session.rows(Q.visual_sql(relation, v, where_sql), params_)
                visuals.append((v, rows))
        finally:
            session.close()
        return {"spec": spec, "state": state, "scope": scope, "facilities": facilities, "bounds": (lo, hi),
                "options": options, "visuals": visuals, "elapsed_ms": round((time.perf_counter() - started) * 1000)}

    def dashboard(request: Request) -> Response:
        principal = require(request)
        if isinstance(principal, Response):
            return principal
        spec = site.specs.get(request.path_params["id"])
        if spec is None:
            return page(request, "error.html", {"principal": principal, "title": "Not found",
                                                "message": "No such dashboard."}, 404)
        try:
            data = compute(spec, principal, request.query_params)
        except Q.Forbidden as exc:
            return forbidden(request, principal, str(exc))
        except BadRequest as exc:
            return page(request, "error.html", {"principal": principal, "title": "Bad request", "message": str(exc)}, 400)
        except (duckdb.Error, CatalogError) as exc:
            log.warning("%s: dashboard %s: %s", site.env, spec.id, exc)  # the detail goes to the server log only
            return page(request, "error.html", {"principal": principal, "title": "Dataset unavailable",
                                                "message": UNAVAILABLE.format(env=site.env)}, 503)
        rendered = [render(v, rows) for v, rows in data["visuals"]]
        state: Q.FilterState = data["state"]
        names_by_id = {fid: name for fid, name in data["facilities"]}
        chosen = [names_by_id.get(f, f) for f in state.facility_ids]
        return page(request, "dashboard.html", {
            "principal": principal, "spec": spec, "rendered": rendered, "state": state,
            "facilities": data["facilities"], "options": data["options"], "bounds": data["bounds"],
            "chosen_names": chosen, "elapsed_ms": data["elapsed_ms"],
            "freshness": _freshness_text(data["bounds"][1]),
            "figures": {r.visual.id: _script_json(r.payload) for r in rendered if r.kind == "chart"},
            "api_url": f"/api/d/{spec.id}?{urlencode(list(request.query_params.multi_items()))}",
        })

    def api_dashboard(request: Request) -> Response:
        principal = require(request)
        if isinstance(principal, Response):
            return principal
        spec = site.specs.get(request.path_params["id"])
        if spec is None:
            return JSONResponse({"error": "no such dashboard"}, status_code=404)
        try:
            data = compute(spec, principal, request.query_params)
        except Q.Forbidden as exc:
            return forbidden(request, principal, str(exc))
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (duckdb.Error, CatalogError) as exc:
            log.warning("%s: dashboard %s: %s", site.env, spec.id, exc)
            return JSONResponse({"error": UNAVAILABLE.format(env=site.env)}, status_code=503)
        state: Q.FilterState = data["state"]
        return JSONResponse(json.loads(json.dumps({
            "dashboard": spec.id, "env": site.env, "principal": principal.name,
            "facility_scope": list(data["scope"]) if data["scope"] is not None else None,
            "facilities": [{"facility_id": f, "facility_name": n} for f, n in data["facilities"]],
            "date_from": state.date_from, "date_to": state.date_to,
            "visuals": {v.id: {"columns": [f"d{i}:{d.column}" for i, d in enumerate(v.dimensions)]
                               + [f"m{i}:{m.column}" for i, m in enumerate(v.measures)], "rows": rows}
                        for v, rows in data["visuals"]},
        }, default=str)))

    async def plotly_js(request: Request) -> Response:
        return FileResponse(PLOTLY_JS, media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "env": site.env, "dashboards": len(site.specs)})

    routes = [
        Route("/", index),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout),
        Route("/d/{id}", dashboard),
        Route("/api/d/{id}", api_dashboard),
        Route("/healthz", healthz),
        Route("/static/plotly.min.js", plotly_js),
        Route("/favicon.ico", lambda request: RedirectResponse("/static/favicon.svg", status_code=301)),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("%s: %s %s failed", site.env, request.method, request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "internal error (details in the server log)"}, status_code=500)
        return HTMLResponse(templates.get_template("error.html").render(
            principal=None, title="Something went wrong", message="The server could not answer; the details are in "
                                                                   "its log."), status_code=500)

    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                     exception_handlers={Exception: server_error})


class SecurityHeaders:
    """Pure ASGI middleware: CSP and friends on every response; no caching of data pages; the server's
    own time to the first response byte as `Server-Timing: app;dur=<ms>` (the benchmark reads it)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")
        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_site(project: ProjectConfig, env: str, specs: list[DashboardSpec], tenants: Tenants,
                tokens: TokenStore) -> Site:
    """A Site over `env`'s catalog (DuckDB or Trino, `dashboards_engine`), read-only, one read per dataset."""
    return Site(project, env, {s.id: s for s in specs}, tenants, tokens, source=dataset_source(project, env))
