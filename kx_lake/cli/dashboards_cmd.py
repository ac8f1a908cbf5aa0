"""`kx-lake dashboards ...`: the dashboards built from `dashboards/*.yaml`.

`serve` runs the local site over the embedded DuckDB catalog; `validate` checks every spec against the
dataset SQL. (QuickSight `deploy` and `refresh` join this same `dashboards_app`.) Commands only call
kx_lake.lib.dashboards; heavy imports happen inside them so `kx-lake --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from kx_lake.cli.common import console, fail, project, user_errors

dashboards_app = typer.Typer(help="Dashboards as code: validate the specs, serve them locally.", no_args_is_help=True)


@dashboards_app.command("validate")
def validate(ctx: typer.Context) -> None:
    """Validate every dashboards/*.yaml against the dataset queries in sql/datasets (no catalog needed)."""
    from kx_lake.lib.dashboards.spec import load_dashboards

    project(ctx)
    with user_errors():
        specs = load_dashboards()
    for spec in specs:
        console.print(f"{spec.subject_area.value:<15} {spec.id:<30} {len(spec.visuals)} visuals  {spec.title}")
    console.print(f"{len(specs)} dashboard(s) valid")


@dashboards_app.command("serve")
def serve(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment whose catalog the site reads.")],
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8050,
    host: Annotated[str, typer.Option("--host", help="Interface to bind (loopback by default).")] = "127.0.0.1",
) -> None:
    """Serve every dashboard on a local web site, each tenant signed in with its own token."""
    import uvicorn

    from kx_lake.lib.catalog.duckdb_catalog import catalog_path
    from kx_lake.lib.dashboards.site import build_app, create_site
    from kx_lake.lib.dashboards.spec import load_dashboards
    from kx_lake.lib.dashboards.tenants import ADMIN, TENANTS_FILE, Tenants, TokenStore, tokens_path

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
        specs = load_dashboards()
        tenants = Tenants.load(cfg.settings.config_dir / TENANTS_FILE)
    if not catalog_path(cfg, env).exists():
        fail(f"{env}: no DuckDB catalog at {catalog_path(cfg, env)}; run `kx-lake sync --env {env}` and "
             f"`kx-lake catalog refresh --env {env}` first", 2)
    if not tenants.of(env):
        console.print(f"[yellow]warning:[/] {TENANTS_FILE} lists no tenants for {env}: only the admin can sign in")
    store, created = TokenStore.ensure(tokens_path(cfg.settings.home), env, tenants)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if created:
        console.print(f"New sign-in tokens for {env} (kept in {store.path}; shown only now):", highlight=False)
        names = {ADMIN: "admin (all facilities)", **{t.id: t.name for t in tenants.of(env).values()}}
        for subject, token in store.tokens_for(env).items():
            console.print(f"  {names.get(subject, subject):<34} {base}/login?token={token}", highlight=False, soft_wrap=True)
    else:
        console.print(f"Sign-in tokens for {env}: {store.path}", highlight=False)
    site = create_site(cfg, env, specs, tenants, store)
    console.print(f"Serving {len(specs)} dashboards for {env} on {base}/  (Ctrl+C to stop)", highlight=False)
    uvicorn.run(build_app(site), host=host, port=port, log_level="warning")
