"""The `voronka` command: serve, worker, migrate, deploy (users and demo come with identity)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.settings import get_settings

cli = typer.Typer(help="Voronka BPMN workflow server for the sales process.", no_args_is_help=True)


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

    if no_worker:
        os.environ["VORONKA_EMBEDDED_WORKER"] = "false"  # read again by app.main in every uvicorn process
        get_settings.cache_clear()
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        current = schema_is_current(engine, settings.database_url)
    finally:
        engine.dispose()
    if not current:
        if migrate or settings.auto_migrate:
            upgrade(settings.database_url)
        else:
            typer.echo("The database schema is behind this version of Voronka. Run `voronka migrate` "
                       "(or start with --migrate / VORONKA_AUTO_MIGRATE=true).", err=True)
            raise typer.Exit(code=2)
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, proxy_headers=True)


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the newest version."""
    from app.db.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    typer.echo("schema is up to date")


@cli.command()
def deploy(
    paths: Annotated[list[Path] | None, typer.Argument(help="BPMN files or folders (default: ./bpmn).")] = None,
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
    except VoronkaError as exc:
        typer.echo(f"deploy failed: {exc.detail}", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem.as_dict()}", err=True)
        raise typer.Exit(code=1) from exc
    finally:
        ctx.close()
    for definition in result.definitions:
        typer.echo(f"{definition.key} v{definition.version} ({definition.name})")
    if not result.created:
        typer.echo("nothing new: every process is identical to its latest version")


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
