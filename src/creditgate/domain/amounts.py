"""Exact amounts of credits as integers of a smallest unit.

Why integers and not `Decimal` or `float`: SQLite has no exact decimal type, equal
decimals print differently ("1.0", "1.00") and would split idempotency fingerprints, and
floats cannot say 0.1. An integer count of thousandths is exact on every database and
canonical on the wire, where it travels as a decimal string.
"""

import decimal
from dataclasses import dataclass
from decimal import Decimal
from typing import Self

from creditgate.domain.errors import InvalidInput
from creditgate.domain.limits import AMOUNT_UNITS_MAX

SCALE = 1000
"""Units per credit: amounts are exact to 1/1000 of a credit."""

_SCALE_DIGITS = 3


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounded up, exact for any size of integer."""
    assert denominator > 0
    return -(-numerator // denominator)


@dataclass(frozen=True, slots=True, order=True)
class Credits:
    """An exact amount of credits, held as an integer of 1/1000 credit units.

    Construct from a count of units (`Credits(500)` is half a credit) or parse a human
    amount with `Credits.parse("0.5")`. Arithmetic stays in integers; nothing rounds.
    """

    units: int

    def __post_init__(self) -> None:
        if type(self.units) is not int:
            raise InvalidInput(field="amount", reason="credits are counted in integer units")
        if abs(self.units) > AMOUNT_UNITS_MAX:
            raise InvalidInput(field="amount", reason="amount is larger than the largest allowed")

    @classmethod
    def parse(cls, value: "Credits | str | int | Decimal", *, field: str = "amount") -> Self:
        """Read an amount written in credits: `"0.5"`, `5`, `Decimal("2.25")`.

        An `int` means whole credits. Floats are refused because they cannot hold most
        decimal fractions exactly; so are NaN, infinities, exponents that overflow, and
        anything finer than 1/1000 of a credit (no silent rounding).

        Raises:
            InvalidInput: the value is not an exact amount of credits.
        """
        if isinstance(value, Credits):
            return cls(value.units)
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            kind = type(value).__name__
            raise InvalidInput(
                field=field, reason=f"an amount must be text or an integer, not {kind}"
            )
        if isinstance(value, int):
            return cls._checked(value * SCALE, field)
        return cls._from_decimal(value, field)

    @classmethod
    def _from_decimal(cls, value: str | Decimal, field: str) -> Self:
        if isinstance(value, str):
            text = value.strip()
            if not text or len(text) > 40 or "_" in text:
                raise InvalidInput(field=field, reason=f"{value!r} is not a decimal amount")
            try:
                value = Decimal(text)
            except decimal.InvalidOperation:
                raise InvalidInput(
                    field=field, reason=f"{text!r} is not a decimal amount"
                ) from None
        if not value.is_finite():
            raise InvalidInput(field=field, reason="an amount must be a finite number")
        if value.adjusted() > 18:
            raise InvalidInput(field=field, reason="amount is larger than the largest allowed")
        # Exact integer arithmetic on the coefficient: Decimal operations round to the
        # context's 28 digits, which would turn "1.0000000000000000000000000001" into 1.
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        coefficient = int("".join(map(str, digits)) or "0")
        shift = exponent + _SCALE_DIGITS
        if shift >= 0:
            units = coefficient * 10**shift
        elif coefficient and (-shift > len(digits) or coefficient % 10**-shift):
            raise InvalidInput(field=field, reason="an amount has at most 3 decimal places")
        else:
            units = coefficient // 10**-shift
        return cls._checked(-units if sign else units, field)

    @classmethod
    def _checked(cls, units: int, field: str) -> Self:
        if abs(units) > AMOUNT_UNITS_MAX:
            raise InvalidInput(field=field, reason="amount is larger than the largest allowed")
        return cls(units)

    @classmethod
    def positive(cls, value: "Credits | str | int | Decimal", *, field: str = "amount") -> Self:
        """Parse an amount that must be greater than zero.

        Raises:
            InvalidInput: the value is not an exact amount, or is zero or negative.
        """
        amount = cls.parse(value, field=field)
        if amount.units <= 0:
            raise InvalidInput(field=field, reason="must be greater than zero")
        return amount

    def __add__(self, other: "Credits") -> "Credits":
        return Credits(self.units + other.units)

    def __sub__(self, other: "Credits") -> "Credits":
        return Credits(self.units - other.units)

    def __neg__(self) -> "Credits":
        return Credits(-self.units)

    def __mul__(self, factor: int) -> "Credits":
        if type(factor) is not int:
            return NotImplemented
        return Credits(self.units * factor)

    def __bool__(self) -> bool:
        return self.units != 0

    def __str__(self) -> str:
        whole, fraction = divmod(abs(self.units), SCALE)
        sign = "-" if self.units < 0 else ""
        if fraction == 0:
            return f"{sign}{whole}"
        return f"{sign}{whole}.{fraction:03d}".rstrip("0")

    def __repr__(self) -> str:
        return f"Credits('{self}')"

    def to_decimal(self) -> Decimal:
        """The amount as an exact `Decimal` of credits, for display and the wire."""
        return Decimal(self.units).scaleb(-_SCALE_DIGITS)


ZERO = Credits(0)

AmountLike = Credits | str | int | Decimal
"""What the public API accepts as an amount: `int` means whole credits, text is decimal."""
