"""`kx-lake dashboards ...`: the dashboards built from `dashboards/*.yaml`.

`serve` runs the local site over the embedded DuckDB catalog; `validate` checks every spec against the
dataset SQL; QuickSight `deploy` and `refresh` run the `deploy_quicksight` job (the UI's path, like
`sync` and `catalog refresh`). Heavy imports happen inside the commands so `kx-lake --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
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
    ssl_certfile: Annotated[Path | None, typer.Option("--ssl-certfile", help="Serve over TLS: PEM certificate.")] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option("--ssl-keyfile", help="Serve over TLS: PEM private key.")] = None,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Allow a non-loopback --host over plain HTTP (tokens and cookies in clear text).")] = False,
    background: Annotated[bool, typer.Option(
        "--background", help="Run detached (log under .kx-lake/run/); stop with `kx-lake dashboards stop`.")] = False,
) -> None:
    """Serve every dashboard on a local web site, each tenant signed in with its own token."""
    import threading

    import uvicorn

    from kx_lake.lib.catalog.duckdb_catalog import catalog_path
    from kx_lake.lib.dashboards.site import build_app, create_site
    from kx_lake.lib.dashboards.site.binding import BindRefused, check_bind, local_url
    from kx_lake.lib.dashboards.spec import load_dashboards
    from kx_lake.lib.dashboards.tenants import ADMIN, TENANTS_FILE, Tenants, TokenStore, tokens_path

    cfg = project(ctx)
    if (ssl_certfile is None) != (ssl_keyfile is None):
        fail("--ssl-certfile and --ssl-keyfile go together", 2)
    for tls_file in (ssl_certfile, ssl_keyfile):
        if tls_file is not None and not tls_file.is_file():
            fail(f"{tls_file}: no such file", 2)
    tls = ssl_certfile is not None
    try:
        check_bind(host, tls=tls, insecure=insecure)
    except BindRefused as exc:
        fail(exc, 2)
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
    base = local_url(host, port, tls=tls)
    if created:
        console.print(f"New sign-in tokens for {env} (kept in {store.path}; shown only now):", highlight=False,
                      soft_wrap=True)
        names = {ADMIN: "admin (all facilities)", **{t.id: t.name for t in tenants.of(env).values()}}
        for subject, token in store.tokens_for(env).items():
            console.print(f"  {names.get(subject, subject):<34} {base}/login?token={token}", highlight=False, soft_wrap=True)
    else:
        console.print(f"Sign-in tokens for {env}: {store.path}", highlight=False)
    if background:
        from kx_lake.lib.dashboards import site_process

        try:
            proc = site_process.start(cfg, env, host=host, port=port, ssl_certfile=ssl_certfile,
                                      ssl_keyfile=ssl_keyfile, insecure=insecure)
        except site_process.SiteProcessError as exc:
            fail(exc, 1)
        console.print(f"Serving {len(specs)} dashboards for {env} on {proc.url}/  (pid {proc.pid}, log {proc.log}; "
                      f"stop: kx-lake dashboards stop --env {env})", highlight=False, soft_wrap=True)
        return
    site = create_site(cfg, env, specs, tenants, store)
    threading.Thread(target=site.warm, name="kx-dashboards-warm", daemon=True).start()
    console.print(f"Serving {len(specs)} dashboards for {env} on {base}/  (Ctrl+C to stop)", highlight=False)
    uvicorn.run(build_app(site), host=host, port=port, log_level="warning",
                ssl_certfile=str(ssl_certfile) if tls else None, ssl_keyfile=str(ssl_keyfile) if tls else None)


# QuickSight (docs/quicksight.md) ------------------------------------------------------------------


def _run_quicksight_job(ctx: typer.Context, env: str, endpoint_url: str | None, *, refresh_only: bool):
    """The `deploy_quicksight` job for one environment (the UI's path); configuration problems exit 2
    before any AWS call (the plan is built and validated first, as the job's steps will build it)."""
    from kx_lake.cli.sync_cmd import dagster_instance, load_definitions
    from kx_lake.builders.quicksight_runner import run_quicksight
    from kx_lake.defs.quicksight import QUICKSIGHT_JOB
    from kx_lake.lib.dashboards import quicksight_deploy as qsd
    from kx_lake.lib.dashboards.quicksight_definition import DefinitionError

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
        try:
            plan = qsd.plan(cfg, env, with_dashboards=not refresh_only)
        except DefinitionError as exc:
            fail(exc, 2)
    done = run_quicksight(load_definitions(cfg), QUICKSIGHT_JOB, env, instance=dagster_instance(cfg),
                          refresh_only=refresh_only, endpoint_url=endpoint_url)
    return plan, done


_ENDPOINT = typer.Option("--endpoint-url", help="QuickSight endpoint (testing, e.g. a moto server); "
                         "default: AWS. Credentials come from the standard AWS chain.")


def _print_ingestions(done) -> list[str]:
    for name, r in sorted(done.ingestions.items()):
        rows = "" if r.get("rows") is None else f" {r['rows']} rows"
        console.print(f"{name:<32} {r['status']}{rows} {r.get('seconds') or 0:.0f} s"
                      f"{': ' + r['error'] if r.get('error') else ''}", highlight=False, markup=False)
    return [name for name, r in sorted(done.ingestions.items()) if r["status"] != "COMPLETED"]


@dashboards_app.command("deploy")
def deploy(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment to deploy (assets_config/quicksight.yaml).")],
    endpoint_url: Annotated[str | None, _ENDPOINT] = None,
) -> None:
    """Run the `deploy_quicksight` job: the Athena data source, data sets (with row-level security and
    their SPICE refresh) and dashboards, created or updated."""
    plan, done = _run_quicksight_job(ctx, env, endpoint_url, refresh_only=False)
    for kind, counts in done.counts().items():
        console.print(f"{kind:<13} " + ", ".join(f"{n} {action}" for action, n in sorted(counts.items())),
                      highlight=False)
    failed = _print_ingestions(done)
    if not done.success:
        fail(f"{env}: QuickSight deploy failed (run {done.run_id[:8]}): " + "; ".join(
            e.splitlines()[0] for e in done.errors) + (f" — failed ingestions: {', '.join(failed)}" if failed else ""), 1)
    console.print(f"{env}: QuickSight deployed to account {plan.target.account_id} ({plan.target.region}, "
                  f"{plan.target.import_mode.value}); run {done.run_id[:8]}", highlight=False)


@dashboards_app.command("refresh")
def refresh(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment whose SPICE data sets to refresh.")],
    endpoint_url: Annotated[str | None, _ENDPOINT] = None,
) -> None:
    """Run the `deploy_quicksight` job's data-set step: each data set updated, its SPICE ingestion
    waited for; exit 1 naming any that failed."""
    plan, done = _run_quicksight_job(ctx, env, endpoint_url, refresh_only=True)
    failed = _print_ingestions(done)
    if not done.ingestions and done.success:
        console.print(f"{env}: {plan.target.import_mode.value}: nothing to refresh", highlight=False)
        return
    if failed or not done.success:
        fail(f"{env}: {len(failed)} of {len(done.ingestions)} ingestion(s) failed: {', '.join(failed)}"
             if failed else f"{env}: refresh failed: " + "; ".join(e.splitlines()[0] for e in done.errors), 1)


@dashboards_app.command("stop")
def stop(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment whose background site to stop.")],
) -> None:
    """Stop a site started with `serve --background`."""
    from kx_lake.lib.dashboards import site_process

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
    stopped = site_process.stop(cfg, env)
    console.print(f"{env}: dashboard site {'stopped' if stopped else 'was not running'}")


@dashboards_app.command("links")
def links(
    ctx: typer.Context,
    env: Annotated[str, typer.Option("--env", help="Environment.")],
    port: Annotated[int, typer.Option("--port", help="The site's port.")] = 8050,
) -> None:
    """Print each tenant's sign-in link again (the tokens stay in .kx-lake/secrets/, never in git)."""
    from kx_lake.lib.dashboards.tenants import ADMIN, TENANTS_FILE, Tenants, TokenStore, tokens_path

    cfg = project(ctx)
    with user_errors():
        cfg.environment(env)
        tenants = Tenants.load(cfg.settings.config_dir / TENANTS_FILE)
    store, _ = TokenStore.ensure(tokens_path(cfg.settings.home), env, tenants)
    names = {ADMIN: "admin (all facilities)", **{t.id: t.name for t in tenants.of(env).values()}}
    for subject, token in store.tokens_for(env).items():
        console.print(f"  {names.get(subject, subject):<34} http://127.0.0.1:{port}/login?token={token}",
                      highlight=False, soft_wrap=True)
