"""Alembic environment for StepBack, configured from code (no alembic.ini).

:meth:`records.db.Database.upgrade` passes an open connection in
``config.attributes["connection"]``. Run by hand, the URL comes from the
``sqlalchemy.url`` option, else as :func:`records.db.resolve_url` finds it.
"""

from __future__ import annotations

from alembic import context

from records.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER constraints: later migrations use batch mode there.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    from records.db import resolve_url

    context.configure(
        url=config.get_main_option("sqlalchemy.url") or resolve_url(),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from records.db import Database

    database = Database(config.get_main_option("sqlalchemy.url") or None)
    try:
        with database.engine.begin() as conn:
            _configure(conn)
    finally:
        database.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
