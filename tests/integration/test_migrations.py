"""The migrations build exactly the schema the tables declare, on both databases."""

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from creditgate import SCALE, Credits, Engine
from creditgate.storage import migrate
from creditgate.storage.database import Database
from creditgate.storage.tables import metadata
from tests.factories import funded_account


def test_upgrade_reaches_head_with_no_difference_from_the_tables(database: Database) -> None:
    migrate.upgrade(database)

    with database.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)

    assert migrate.current(database) == migrate.head()
    assert diff == []


def test_upgrade_twice_changes_nothing(database: Database) -> None:
    migrate.upgrade(database)

    migrate.upgrade(database)

    assert migrate.current(database) == migrate.head()


def test_database_records_the_unit_scale(database: Database) -> None:
    with database.read() as conn:
        scale = conn.exec_driver_sql(
            "SELECT value FROM creditgate_meta WHERE key = 'scale'"
        ).scalar()

    assert scale == "1000"


def test_downgrade_to_the_ledger_core_and_back_keeps_the_ledger_append_only(
    engine: Engine, database: Database
) -> None:
    """The pricing migration alters `entries` in place, and its downgrade restores the
    append-only triggers that SQLite's table copy would otherwise drop."""
    funded_account(engine, credits=10)

    with database.write() as conn:
        config = migrate.config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    migrate.upgrade(database)

    with pytest.raises(DBAPIError, match="append-only"), database.write() as conn:
        conn.exec_driver_sql("UPDATE entries SET amount = 0")
    assert engine.balance("user_1").balance == Credits(10 * SCALE)
