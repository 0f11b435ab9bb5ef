"""Settings, read once from `CREDITGATE_*` environment variables."""

import re
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from creditgate.domain.errors import InvalidInput
from creditgate.domain.guests import parse_trusted_proxies
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
    """Database connections per worker, and as many threads for its database calls.

    The pool may open as many again on overflow (an engine used from more threads, outside
    the service); the service itself never runs more database calls at once than this.
    """
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
    redis_url: str | None = None
    """Where guest quotas are counted (`redis://127.0.0.1:6379/0`); None: in the database.
    With one configured, a Redis that does not answer refuses guests (503)."""
    redis_timeout_s: float = Field(default=0.5, gt=0, le=30)
    """How long a guest call waits for Redis before it is refused."""
    redis_prefix: str = Field(default="creditgate:guest:", min_length=1, max_length=100)
    """What every guest counter's key in Redis starts with: deployments sharing one Redis
    each take their own."""
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    """Proxies (addresses or networks, comma-separated) whose `X-Forwarded-For` names the
    client; from any other peer the header is ignored. A wildcard is refused at start."""
    auth_failures_max: int = Field(default=20, ge=1)
    """Failed API-key attempts one client address may make in a burst; then 429."""
    auth_failures_window_s: int = Field(default=60, ge=1)
    """The time in which a client address earns back its `auth_failures_max` attempts."""
    webhook_disable_after_s: int = Field(default=5 * 86400, ge=60)
    """An outgoing webhook endpoint that has failed this long without a success is disabled."""
    webhook_retention_s: int = Field(default=30 * 86400, ge=3600)
    """Outbox events delivered to every endpoint are pruned after this long."""
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=30)
    """How long one delivery attempt may take before it counts as failed."""

    widget_origins: Annotated[tuple[str, ...], NoDecode] = ()
    """Origins (`https://app.example`, comma-separated) whose pages may call the widget
    routes from the browser (CORS). Empty: only pages served from the service's own origin.
    `*` lets any page call them: safe for the tokens, which no cookie carries, but it lets
    any site show a stolen token's figures."""

    @field_validator("widget_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """Comma-separated text from the environment; each `*` or `scheme://host[:port]`."""
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, list | tuple):
            return value
        texts = tuple(str(entry).strip().rstrip("/") for entry in entries if str(entry).strip())
        for text in texts:
            if text != "*" and not re.fullmatch(r"https?://[A-Za-z0-9.\[\]:-]+", text):
                raise ValueError(f"{text!r} is not an origin such as https://app.example")
        return texts

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        """Comma-separated text from the environment; every entry a proxy, never a wildcard."""
        entries = value.split(",") if isinstance(value, str) else value
        if not isinstance(entries, list | tuple):
            return value
        texts = tuple(str(entry).strip() for entry in entries if str(entry).strip())
        try:
            parse_trusted_proxies(texts)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None
        return texts
