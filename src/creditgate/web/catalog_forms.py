"""What the plan, pack and promo pages read from their forms, and how they show money.

A browser posts text; the engine's catalog verbs take whole numbers, flags and instants.
These readers turn one field into what the verb takes and refuse a malformed one with
`InvalidInput` naming the field, the same error the engine raises, so a refused form is
shown the same way whichever side caught it and changes nothing. Amounts of credits stay
text: the engine parses them, exactly.
"""

from datetime import UTC, datetime

from creditgate.domain.errors import InvalidInput

WHOLE_DIGITS_MAX = 19
"""The longest whole number a form may hold: any int64, and nothing `int()` chokes on."""

_DECIMALS = {
    **dict.fromkeys(
        [
            "bif",
            "clp",
            "djf",
            "gnf",
            "jpy",
            "kmf",
            "krw",
            "mga",
            "pyg",
            "rwf",
            "ugx",
            "vnd",
            "vuv",
            "xaf",
            "xof",
            "xpf",
        ],
        0,
    ),
    **dict.fromkeys(["bhd", "jod", "kwd", "omr", "tnd"], 3),
}
"""Currencies whose minor unit is not a hundredth (Stripe's zero- and three-decimal lists)."""


def text(fields: dict[str, str], name: str) -> str | None:
    """A field's text without surrounding blanks; None when it is empty or absent."""
    return fields.get(name, "").strip() or None


def whole(fields: dict[str, str], name: str) -> int | None:
    """A field's whole number (`-3`, `499`); None when the field is empty.

    Raises:
        InvalidInput: anything but ASCII digits with an optional minus sign.
    """
    value = text(fields, name)
    if value is None:
        return None
    digits = value.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > WHOLE_DIGITS_MAX:
        raise InvalidInput(field=name, reason="a whole number")
    return int(value)


def flag(fields: dict[str, str], name: str) -> bool:
    """A checkbox: ticked when the browser sent it at all."""
    return name in fields


def instant(fields: dict[str, str], name: str) -> datetime | None:
    """A `datetime-local` field read as UTC; None when it is empty.

    Raises:
        InvalidInput: not a date and time.
    """
    value = text(fields, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field=name, reason="a date and time, in UTC") from None
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    return parsed.replace(tzinfo=UTC)


def local(at: datetime | None) -> str:
    """An instant as a `datetime-local` field's value, in UTC (empty for None)."""
    if at is None:
        return ""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def money(amount_minor: int, currency: str) -> str:
    """Minor units as money with its currency: `499, "usd"` is `4.99 USD`."""
    decimals = _DECIMALS.get(currency, 2)
    sign = "-" if amount_minor < 0 else ""
    major, minor = divmod(abs(amount_minor), 10**decimals)
    fraction = f".{minor:0{decimals}d}" if decimals else ""
    return f"{sign}{major:,}{fraction} {currency.upper()}"
