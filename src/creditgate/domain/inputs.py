"""Checks of free-form input at the edge of the engine: text, metadata, keys, times.

Each check raises `InvalidInput` naming the field, so a bad request changes nothing and
says exactly what was wrong.
"""

import json
from datetime import UTC, datetime
from typing import Any

from creditgate.domain.errors import InvalidInput
from creditgate.domain.limits import (
    IDEMPOTENCY_KEY_LENGTH_MAX,
    METADATA_BYTES_MAX,
    TEXT_LENGTH_MAX,
)


def check_text(value: object, *, field: str, required: bool = False) -> str | None:
    """Optional (or required) printable text of bounded length.

    Raises:
        InvalidInput: wrong type, empty when required, too long, or not printable.
    """
    if value is None:
        if required:
            raise InvalidInput(field=field, reason="is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field=field, reason="must be a non-empty string")
    if len(value) > TEXT_LENGTH_MAX:
        raise InvalidInput(field=field, reason=f"at most {TEXT_LENGTH_MAX} characters")
    if not value.isprintable():
        raise InvalidInput(field=field, reason="must be printable text")
    return value


def check_required_text(value: object, *, field: str) -> str:
    """Required printable text; see `check_text`."""
    text = check_text(value, field=field, required=True)
    assert text is not None
    return text


def check_key(value: object) -> str | None:
    """An optional idempotency key: printable ASCII, at most IDEMPOTENCY_KEY_LENGTH_MAX long.

    ASCII on every face: the service takes the key in a header, which carries ASCII only,
    so the engine refuses a key the wire could not carry.

    Raises:
        InvalidInput: the key is empty, too long or not printable ASCII.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > IDEMPOTENCY_KEY_LENGTH_MAX:
        reason = f"a string of 1 to {IDEMPOTENCY_KEY_LENGTH_MAX} characters"
        raise InvalidInput(field="idempotency_key", reason=reason)
    if not value.isprintable() or not value.isascii():
        raise InvalidInput(field="idempotency_key", reason="must be printable ASCII")
    return value


def check_metadata(value: object) -> dict[str, Any]:
    """A small JSON object (string keys, JSON values), or None for an empty one.

    Raises:
        InvalidInput: not a JSON object, or larger than METADATA_BYTES_MAX.
    """
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(field="metadata", reason="must be an object with string keys")
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise InvalidInput(field="metadata", reason="must hold JSON values only") from None
    if len(encoded.encode()) > METADATA_BYTES_MAX:
        raise InvalidInput(field="metadata", reason=f"at most {METADATA_BYTES_MAX} bytes as JSON")
    loaded: dict[str, Any] = json.loads(encoded)
    return loaded


def check_instant(value: object, *, field: str) -> datetime:
    """A timezone-aware datetime (a naive one is ambiguous), converted to UTC.

    The same instant written in two zones is one instant: converting here keeps
    fingerprints and stored times canonical.

    Raises:
        InvalidInput: not a datetime, naive, or beyond the range of times in UTC.
    """
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field=field, reason="must be a timezone-aware datetime")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field=field, reason="is outside the range of times") from None


def check_cursor(value: object, *, listing: str) -> int | None:
    """A page cursor: the decimal text of a positive id that a listing returned.

    Raises:
        InvalidInput: anything else (ASCII digits only: `int()` reads other digits too).
    """
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not (value.isascii() and value.isdigit())
        or len(value) > 19
        or int(value) <= 0
    ):
        raise InvalidInput(field="cursor", reason=f"not a cursor returned by {listing}")
    return int(value)
