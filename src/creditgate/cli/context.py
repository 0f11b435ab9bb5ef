"""What every command shares: the database option, the engine it opens, time parsing."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer

from creditgate.cli.output import failures
from creditgate.engine import Engine
from creditgate.settings import Settings
from creditgate.storage.database import Database

DatabaseOpt = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="SQLite path or URL, or PostgreSQL URL.",
        envvar="CREDITGATE_DATABASE_URL",
    ),
]
KeyOpt = Annotated[
    str | None, typer.Option("--key", help="Idempotency key: a retry takes effect once.")
]


def settings_for(database: str | None) -> Settings:
    """The settings of one command: `--database` over the environment."""
    return Settings() if database is None else Settings(database_url=database)


@contextmanager
def open_engine(database: str | None) -> Iterator[Engine]:
    """Open the engine for one command, print a creditgate error as one line, then close."""
    settings = settings_for(database)
    with failures():
        engine = Engine(Database(settings.database_url, sqlite_sync=settings.sqlite_synchronous))
        try:
            yield engine
        finally:
            engine.close()


def parse_instant(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time; a time without a zone is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "an ISO 8601 time, e.g. 2026-12-31T23:59:59Z", param_hint=option
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_quantity(value: str | None) -> int | dict[str, int] | None:
    """A quantity: `40`, or token counts by kind: `input=1200,output=300,cached_input=0`."""
    if value is None:
        return None
    try:
        if "=" not in value:
            return int(value)
        counts: dict[str, int] = {}
        for part in value.split(","):
            kind, _, count = part.partition("=")
            counts[kind.strip()] = int(count)
    except ValueError:
        raise typer.BadParameter(
            "a whole number, or token counts such as input=1200,output=300",
            param_hint="--quantity",
        ) from None
    return counts


QuantityOpt = Annotated[
    str | None,
    typer.Option(help="How much was used: 40, or token counts input=1200,output=300."),
]
ModelOpt = Annotated[str | None, typer.Option(help="Model or variant, e.g. veo2.")]
