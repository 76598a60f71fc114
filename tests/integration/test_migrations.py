"""The schema comes from Alembic alone: it upgrades on an empty database and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import app.db.models  # noqa: F401
from app.db.base import Base
from app.db.migrate import head_revision
from app.db.session import make_engine


def test_migrations_reach_head_and_agree_with_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert context.get_current_revision() == head_revision(database_url)
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_serve_refuses_a_schema_that_is_behind(tmp_path) -> None:
    from app.main import SchemaBehind, prepare_database
    from app.services.context import AppContext
    from app.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", _env_file=None)
    context = AppContext(settings)
    try:
        try:
            prepare_database(context)
        except SchemaBehind as exc:
            assert "voronka migrate" in str(exc)
        else:
            raise AssertionError("an empty database must be refused")
        auto = AppContext(Settings(database_url=settings.database_url, auto_migrate=True, _env_file=None))
        prepare_database(auto)
        assert "process_instance" in inspect(auto.db.engine).get_table_names()
        auto.close()
    finally:
        context.close()
