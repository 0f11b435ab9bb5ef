"""Column types that behave the same on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases.

    SQLite has no timezone type: values are stored as naive UTC text of fixed width (which
    sorts and compares correctly) and come back aware. Naive datetimes are refused on the
    way in, because a naive time is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert value.tzinfo is not None, "naive datetimes are refused: pass a UTC-aware time"
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(name: str) -> Column[str]:
    """A text column holding one of an enum's values (the CHECK is added by `enum_check`)."""
    return Column(name, String(32), nullable=False)


def enum_check(name: str, enum: type[StrEnum]) -> CheckConstraint:
    """The CHECK that keeps a text column within an enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{name} IN ({values})", name=f"{name}_valid")
