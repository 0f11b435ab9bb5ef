"""The migrations build exactly the schema the tables declare, on both databases."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from creditgate.storage import migrate
from creditgate.storage.database import Database
from creditgate.storage.tables import metadata


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
