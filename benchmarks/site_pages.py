"""Dashboard site page times over HTTP (issue 12): `catalog refresh`, then `kx-lake dashboards serve`
in a child process, then an HTTP client (httpx, not a browser) signed in as the admin asks for every
dashboard page in turn — first request after start, again warm, then a filter change (one facility
over the page's default date range).

Each figure is the client's wall time around the request on 127.0.0.1 and the server's own time
from the site's `Server-Timing` header. The first pages are asked for as soon as /healthz answers,
which is what a user meets right after a sync: the site's start-up work (warming, reading snapshots)
is inside them, never hidden before the clock starts. Also `python -m benchmarks.site_pages` on a
workspace that already holds a synced lake (A/B of site changes without syncing again).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx

from benchmarks.workspace import DEFAULT_DATA, KX, REPO, Workspace

_DUR = re.compile(r"app;dur=([0-9.]+)")
# issue 12, per page at scale 1: warm ≤ 1 s (server time), first request after start ≤ 3 s, filter ≤ 0.5 s
TARGETS = {"warm_server_s": 1.0, "first_wall_s": 3.0, "filter_server_s": 0.5}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timed(client: httpx.Client, url: str) -> dict:
    started = time.perf_counter()
    resp = client.get(url)
    wall = time.perf_counter() - started
    if resp.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {resp.status_code}: {resp.text[:300]}")
    server = _DUR.search(resp.headers.get("server-timing", ""))
    return {"wall_s": round(wall, 4), "server_s": round(float(server.group(1)) / 1000, 4) if server else None}


def _admin_token(ws: Workspace) -> str:
    tokens = json.loads((ws.home / "secrets" / "dashboard_tokens.json").read_text())["tokens"]
    return next(t for t, e in tokens.items() if e["env"] == ws.env and e["subject"] == "admin")


def measure_pages(ws: Workspace, log, refresh: bool = True) -> dict:  # noqa: ANN001 - a print-like callable
    from kx_lake.lib.dashboards.spec import load_dashboards

    out: dict = {"env": ws.env}
    if refresh:
        started = time.monotonic()
        ws.kx("catalog", "refresh", "--env", ws.env)
        out["catalog_refresh_s"] = round(time.monotonic() - started, 1)
        log(f"catalog refresh: {out['catalog_refresh_s']} s")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    logfile = ws.root / "logs" / "site.log"
    logfile.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(logfile, "wb") as sink:
        proc = subprocess.Popen([*KX, "dashboards", "serve", "--env", ws.env, "--port", str(port)], env=ws.environ(),
                                cwd=REPO, stdout=sink, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=base, timeout=600.0, follow_redirects=False) as client:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the site exited ({proc.returncode}); see {logfile}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            out["start_s"] = round(time.monotonic() - started, 2)
            signed = client.get(f"/login?token={_admin_token(ws)}")
            if signed.status_code != 303:
                raise RuntimeError(f"sign-in failed: HTTP {signed.status_code}")
            pages = {}
            for s in load_dashboards():  # page by page, so "warm" is never a re-read after the cache's TTL
                pages[s.id] = {"first": _timed(client, f"/d/{s.id}")}
                pages[s.id]["warm"] = _timed(client, f"/d/{s.id}")
                data = client.get(f"/api/d/{s.id}").json()
                if data["facilities"]:
                    query = httpx.QueryParams({"facility": data["facilities"][0]["facility_id"],
                                               "from": data["date_from"] or "", "to": data["date_to"] or ""})
                    pages[s.id]["filter"] = _timed(client, f"/d/{s.id}?{query}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log(f"first requests of {len(pages)} pages: {sum(p['first']['wall_s'] for p in pages.values()):.1f} s")
    out["pages"] = pages
    out["summary"] = summarize(pages)
    return out


def summarize(pages: dict) -> dict:
    def figures(kind: str, key: str) -> list[float]:
        return [p[kind][key] for p in pages.values() if kind in p and p[kind][key] is not None]

    out: dict = {}
    for name, limit in TARGETS.items():
        kind, key = name.split("_", 1)
        worst = max(figures(kind, key), default=None)
        out[f"target {kind} {key} ≤ {limit:g} s"] = {"worst": worst, "met": worst is not None and worst <= limit}
    for kind in ("first", "warm", "filter"):
        for key in ("wall_s", "server_s"):
            xs = figures(kind, key)
            if xs:
                out[f"{kind}_{key}"] = {"total": round(sum(xs), 2), "max": round(max(xs), 3),
                                        "median": round(sorted(xs)[len(xs) // 2], 3)}
    return out


def print_pages(console, site: dict) -> None:  # noqa: ANN001 - rich Console
    from rich.table import Table

    table = Table("dashboard", "first s", "first server s", "warm s", "filter s",
                  title=f"dashboard site ({site['env']}): catalog refresh {site.get('catalog_refresh_s', '-')} s, "
                        f"start {site['start_s']} s")
    for pid, p in site["pages"].items():
        table.add_row(pid, f"{p['first']['wall_s']:.3f}", f"{p['first']['server_s'] or 0:.3f}",
                      f"{p['warm']['wall_s']:.3f}", f"{p['filter']['wall_s']:.3f}" if "filter" in p else "-")
    console.print(table)
    for k, v in site["summary"].items():
        if k.startswith("target"):
            console.print(f"  {k}: worst page {v['worst']} s {'[green]met[/]' if v['met'] else '[red]not met[/]'}")
        else:
            console.print(f"  {k}: total {v['total']} s, max {v['max']} s, median {v['median']} s")


def main(argv: list[str] | None = None) -> None:
    from rich.console import Console

    parser = argparse.ArgumentParser(prog="python -m benchmarks.site_pages", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA, help="a workspace with a synced lake")
    parser.add_argument("--no-refresh", action="store_true", help="keep the catalog as it is")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    console = Console(width=150)
    site = measure_pages(Workspace(args.data_dir.resolve()), console.log, refresh=not args.no_refresh)
    print_pages(console, site)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(site, indent=2) + "\n")


if __name__ == "__main__":
    main()
