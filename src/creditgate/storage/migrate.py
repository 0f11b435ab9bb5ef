"""Schema migrations: Alembic, run in-process against a `Database`."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

from creditgate.storage.database import Database
from creditgate.storage.tables import meta

_SCRIPTS = Path(__file__).parent / "migrations"


def config() -> Config:
    """Alembic's configuration for this package's migrations."""
    made = Config()
    made.set_main_option("script_location", str(_SCRIPTS))
    return made


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default), in one transaction."""
    with db.write() as conn:
        alembic_config = config()
        alembic_config.attributes["connection"] = conn
        command.upgrade(alembic_config, revision)


def current(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    """The newest revision this package ships."""
    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def recorded_scale(db: Database) -> int | None:
    """The units-per-credit the database was created with (None before the first migration)."""
    with db.read() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == "scale")).scalar_one_or_none()
    return None if value is None else int(value)
