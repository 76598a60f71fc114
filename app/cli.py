"""The `voronka` command: serve, worker, migrate, deploy, users, demo."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.settings import get_settings

if TYPE_CHECKING:
    from app.services.context import AppContext

cli = typer.Typer(help="Voronka BPMN workflow server for the sales process.", no_args_is_help=True)
users_cli = typer.Typer(help="Manage users (acts as the system; no sign-in needed on this machine).",
                        no_args_is_help=True)
cli.add_typer(users_cli, name="users")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run the job worker in-process.")] = False,
    migrate: Annotated[bool, typer.Option("--migrate", help="Upgrade the schema first if it is behind.")] = False,
) -> None:
    """Serve the API, the Camunda dialect and the inbox with uvicorn on app.main:app."""
    import os

    import uvicorn

    from app.db.migrate import schema_is_current, upgrade
    from app.db.session import make_engine
    from app.db.startup_lock import startup_lock

    if no_worker:
        os.environ["VORONKA_EMBEDDED_WORKER"] = "false"  # read again by app.main in every uvicorn process
        get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with startup_lock(engine):  # a `voronka migrate` running now finishes first
            current = schema_is_current(engine, settings.database_url)
            if not current and (migrate or settings.auto_migrate):
                upgrade(settings.database_url)
                current = True
    finally:
        engine.dispose()
    if not current:
        typer.echo("The database schema is behind this version of Voronka. Run `voronka migrate` "
                   "(or start with --migrate / VORONKA_AUTO_MIGRATE=true).", err=True)
        raise typer.Exit(code=2)
    from app.observability.logs import logging_config

    if workers > 1:
        _share_metrics_between_processes()
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=True,
                log_config=logging_config(json_lines=settings.log_json, level=settings.log_level),
                timeout_graceful_shutdown=int(settings.shutdown_seconds) or None)


def _share_metrics_between_processes() -> None:
    """prometheus-client's multi-process mode: each uvicorn process writes its samples under one directory that
    every process reads on a scrape. Set before the processes start (they read it on import); emptied here so a
    previous run's samples do not count."""
    import os
    import shutil
    import tempfile

    from app.observability.metrics import MULTIPROC_ENV

    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
    else:
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="voronka-metrics-")


@cli.command()
def worker(
    worker_id: Annotated[str | None, typer.Option("--id", help="Name in job locks and history.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Due jobs claimed at a time.")] = None,
    once: Annotated[bool, typer.Option("--once", help="Run what is due now, then exit.")] = False,
    metrics_port: Annotated[int | None, typer.Option(help="Serve this worker's Prometheus metrics (timers "
                                                          "fired, their lag) on this port, without auth.")] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface of --metrics-port (keep it on a private "
                                                   "network).")] = "127.0.0.1",
) -> None:
    """Run the job worker (timers, start timers) as its own process; run as many as you like."""
    import signal

    from app.db.migrate import schema_is_current
    from app.db.startup_lock import startup_lock
    from app.observability.logs import configure_logging
    from app.observability.setup import instrument
    from app.services.context import AppContext
    from app.worker.loop import Worker

    settings = get_settings()
    configure_logging(json_lines=settings.log_json, level=settings.log_level)
    ctx = AppContext(settings)
    try:
        with startup_lock(ctx.db.engine):  # a `voronka migrate` running now finishes first
            current = schema_is_current(ctx.db.engine, settings.database_url)
        if not current:
            typer.echo("The database schema is behind this version of Voronka. Run `voronka migrate`.", err=True)
            raise typer.Exit(code=2)
        instrument(ctx.db.engine)
        if metrics_port:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=metrics_host)
        loop = Worker(ctx, worker_id=worker_id, batch_size=batch_size)
        if once:
            typer.echo(f"{loop.run_until_idle()} job(s) run")
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: loop.request_stop())  # finish the current job, then exit
        loop.run()
    finally:
        ctx.close()


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest version."""
    from app.db.migrate import upgrade
    from app.db.session import make_engine
    from app.db.startup_lock import startup_lock

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        with startup_lock(engine):  # servers starting meanwhile wait for the new schema
            upgrade(settings.database_url)
    finally:
        engine.dispose()
    typer.echo("schema is up to date")


@cli.command()
def deploy(
    paths: Annotated[list[Path] | None, typer.Argument(help="BPMN files or folders (default: ./bpmn).")] = None,
    approve: Annotated[bool, typer.Option(help="Approve new versions that need the head of sales' approval "
                                               "(otherwise they wait as drafts in her inbox).")] = False,
) -> None:
    """Deploy BPMN files (all of them together, so call activities resolve) as the system."""
    from app.auth.actor import SYSTEM
    from app.errors import VoronkaError
    from app.services.context import AppContext
    from app.services.deployments import deploy as deploy_files

    settings = get_settings()
    files: list[tuple[str, bytes]] = []
    for path in paths or [settings.bpmn_dir]:
        candidates = sorted(path.glob("*.bpmn")) if path.is_dir() else [path]
        files.extend((p.name, p.read_bytes()) for p in candidates)
    if not files:
        typer.echo("no .bpmn files found", err=True)
        raise typer.Exit(code=1)
    ctx = AppContext(settings)
    try:
        result = deploy_files(ctx, files=files, actor=SYSTEM, name="bpmn/", source="cli")
        if approve:
            from app.services.approvals import approve as approve_version

            result.definitions = [approve_version(ctx, actor=SYSTEM, definition_id=d.id, comment="voronka deploy")
                                  if d.state == "draft" else d for d in result.definitions]
    except VoronkaError as exc:
        typer.echo(f"deploy failed: {exc.detail}", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem.as_dict()}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        ctx.close()
    for definition in result.definitions:
        waits = " - a draft: deals start on it once the head of sales approves it" if definition.state == "draft" \
            else ""
        typer.echo(f"{definition.key} v{definition.version} ({definition.name}){waits}")
    if not result.created:
        typer.echo("nothing new: every process is identical to its latest version")


@contextmanager
def _identity_context() -> Iterator[AppContext]:
    """A context on a current schema, with the role groups present; domain errors become exit code 1."""
    from app.db.migrate import schema_is_current
    from app.errors import VoronkaError
    from app.services.context import AppContext
    from app.services.identity import ensure_role_groups

    settings = get_settings()
    ctx = AppContext(settings)
    try:
        if not schema_is_current(ctx.db.engine, settings.database_url):
            typer.echo("The database schema is behind: run `voronka migrate` first.", err=True)
            raise typer.Exit(code=2)
        ensure_role_groups(ctx)
        yield ctx
    except VoronkaError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        ctx.close()


def _ask_password(username: str) -> str:
    return typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


def _split(groups: str | None) -> list[str]:
    return [g.strip() for g in (groups or "").split(",") if g.strip()]


@users_cli.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="User name (no spaces or colons).")],
    password: Annotated[str | None, typer.Option(help="Asked for when omitted (better: the command line "
                                                     "ends up in shell history).")] = None,
    groups: Annotated[str | None, typer.Option(help="Comma-separated groups, e.g. hunter,closer.")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the inbox.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
) -> None:
    """Create a user."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    with _identity_context() as ctx:
        user = identity.create_user(ctx, actor=SYSTEM, username=username,
                                    password=password or _ask_password(username), display_name=display_name,
                                    email=email, groups=_split(groups))
        typer.echo(f"created {user.username} ({', '.join(user.group_ids) or 'no groups'})")


@users_cli.command("list")
def users_list(
    all_users: Annotated[bool, typer.Option("--all", help="Include deactivated users.")] = False,
) -> None:
    """List users with their groups."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    with _identity_context() as ctx:
        rows, _total = identity.list_users(ctx, actor=SYSTEM, active=None if all_users else True, limit=10_000)
        for user in rows:
            state = "" if user.is_active else "  (deactivated)"
            typer.echo(f"{user.username}\t{','.join(user.group_ids)}\t{user.display_name or ''}{state}")


@users_cli.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Whose password to set.")],
    password: Annotated[str | None, typer.Option(help="Asked for when omitted.")] = None,
) -> None:
    """Set a user's password (signs them out everywhere)."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    with _identity_context() as ctx:
        identity.set_password(ctx, actor=SYSTEM, username=username, password=password or _ask_password(username))
        typer.echo(f"password of {username} changed; their tokens are revoked")


@users_cli.command("deactivate")
def users_deactivate(username: Annotated[str, typer.Argument(help="Who can no longer sign in.")]) -> None:
    """Deactivate a user (kept for history; signs them out everywhere)."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    with _identity_context() as ctx:
        identity.deactivate_user(ctx, actor=SYSTEM, username=username)
        typer.echo(f"{username} deactivated")


@cli.command()
def demo(
    force: Annotated[bool, typer.Option("--force", help="Also on a non-SQLite (production-like) database.")] = False,
) -> None:
    """Create one demo user per role (hunter, closer, accounting, account_manager, head_of_sales, designer)
    and print their passwords once. Refused on PostgreSQL without --force: nothing is created silently in
    production."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    settings = get_settings()
    if not settings.is_sqlite and not force:
        typer.echo("refusing: the database is not SQLite (production?). Use --force to create demo users "
                   "there anyway.", err=True)
        raise typer.Exit(code=2)
    with _identity_context() as ctx:
        created = identity.create_demo_users(ctx, actor=SYSTEM)
    typer.echo("Demo users (the passwords are shown only now):")
    for username, password in created:
        typer.echo(f"  {username:<16} {password if password else '(exists already; password unchanged)'}")


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()


if __name__ == "__main__":  # `python -m app.cli worker` from a checkout
    main()
