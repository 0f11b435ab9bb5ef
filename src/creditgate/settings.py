"""Settings, read once from `CREDITGATE_*` environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from creditgate.storage.database import SqliteSync


class Settings(BaseSettings):
    """How creditgate connects, serves and logs; frozen once read.

    `database_url` takes a SQLite path or URL (the default, a file in the working
    directory) or a PostgreSQL URL (`postgresql://user@host/db`).
    """

    model_config = SettingsConfigDict(env_prefix="CREDITGATE_", frozen=True, extra="ignore")

    database_url: str = Field(default="sqlite:///creditgate.db")
    sqlite_synchronous: SqliteSync = SqliteSync.FULL
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    """Worker processes; on SQLite they share the file's one writer, so more rarely helps."""
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error|critical)$")
    body_bytes_max: int = Field(default=65_536, ge=1024)
    """The largest request body the service reads: a credit call is small."""
    key_rate_per_s: float | None = Field(default=None, gt=0)
    """Calls per second each API key may make, per worker (None: no limit); then 429."""
    key_burst: int = Field(default=50, ge=1)
    """Calls a key may make at once before its rate applies."""
    pool_size: int = Field(default=10, ge=1, le=200)
    """PostgreSQL connections per worker (and as many again on overflow)."""
    stripe_secret_key: SecretStr | None = None
    """Stripe's secret API key (`sk_…`): without one, checkouts answer 503."""
    stripe_webhook_secret: SecretStr | None = None
    """The Stripe webhook endpoint's signing secret (`whsec_…`): without one, every Stripe
    delivery is refused (503), so nothing unsigned is ever applied."""
    stripe_api_base: str | None = None
    """Another address for Stripe's API (a local fake in tests); None: Stripe's own."""
    clerk_webhook_secret: SecretStr | None = None
    """The Clerk webhook's Svix signing secret (`whsec_…`): without one, every Clerk
    delivery is refused (503)."""
    webhook_tolerance_s: int = Field(default=300, ge=1, le=3600)
    """How far a Stripe signature's timestamp may lie from now, either way."""
