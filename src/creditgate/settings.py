"""Settings, read once from `CREDITGATE_*` environment variables."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from creditgate.storage.database import SqliteSync


class Settings(BaseSettings):
    """How creditgate connects and behaves; frozen once read.

    `database_url` takes a SQLite path or URL (the default, a file in the working
    directory) or a PostgreSQL URL (`postgresql://user@host/db`).
    """

    model_config = SettingsConfigDict(env_prefix="CREDITGATE_", frozen=True, extra="ignore")

    database_url: str = Field(default="sqlite:///creditgate.db")
    sqlite_synchronous: SqliteSync = SqliteSync.FULL
