"""Properties of `Credits`: exact integers of 1/1000 credit, decimal text at the edges."""

from decimal import Decimal

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from creditgate import SCALE, Credits, InvalidInput
from creditgate.domain.limits import AMOUNT_UNITS_MAX

any_units = st.integers(-AMOUNT_UNITS_MAX, AMOUNT_UNITS_MAX)
half_units = st.integers(-AMOUNT_UNITS_MAX // 2, AMOUNT_UNITS_MAX // 2)
small_factors = st.integers(-1000, 1000)


def _text(units: int) -> str:
    """The exact decimal text of `units`, written independently of `Credits.__str__`."""
    return format(Decimal(units).scaleb(-3).normalize(), "f")


@given(any_units)
def test_str_then_parse_returns_the_same_units(units: int) -> None:
    amount = Credits(units)

    parsed = Credits.parse(str(amount))

    assert parsed == amount
    assert parsed.units == units


@given(any_units)
def test_str_prints_the_exact_decimal_without_trailing_zeros(units: int) -> None:
    text = str(Credits(units))

    assert Decimal(text) == Decimal(units) / SCALE
    assert text == _text(units)
    assert "e" not in text.lower()


@given(any_units)
def test_to_decimal_then_parse_returns_the_same_units(units: int) -> None:
    amount = Credits(units)

    assert Credits.parse(amount.to_decimal()) == amount


@given(st.integers(-(AMOUNT_UNITS_MAX // SCALE), AMOUNT_UNITS_MAX // SCALE))
def test_parse_reads_an_int_as_whole_credits(whole: int) -> None:
    assert Credits.parse(whole).units == whole * SCALE


@given(any_units, st.integers(0, 6), st.sampled_from(["", " ", "\t"]))
def test_parse_accepts_any_exact_spelling_of_an_amount(units: int, zeros: int, pad: str) -> None:
    digits = _text(units)
    if zeros and "." not in digits:
        digits += "."
    spelled = f"{pad}{digits}{'0' * zeros}{pad}"

    assert Credits.parse(spelled).units == units


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_parse_refuses_every_float(value: float) -> None:
    with pytest.raises(InvalidInput):
        Credits.parse(value)  # type: ignore[arg-type]


# Integer parts of every length up to 30 digits, not only the small ones.
integer_parts = st.integers(1, 30).flatmap(lambda n: st.integers(10 ** (n - 1), 10**n - 1))


@example(10**25, 0, 4, False, False)  # decimal.InvalidOperation escaped (coefficient > 28 digits)
@example(1, 0, 28, False, True)  # "1.0000000000000000000000000001" rounded to 1 credit
@given(
    integer_parts | st.just(0),
    st.integers(0, 10**8),
    st.integers(4, 40),
    st.booleans(),
    st.booleans(),
)
def test_parse_refuses_more_than_three_decimals(
    whole: int, fraction: int, places: int, negative: bool, as_text: bool
) -> None:
    # The last of `places` (>= 4) decimals is non-zero: no exact count of 1/1000 units.
    digits = f"{fraction * 10 + 1:0{places}d}"[-places:]
    text = f"{'-' if negative else ''}{whole}.{digits}"
    value = Decimal(text)  # exact: constructing from text never rounds
    assert value.as_tuple().exponent == -places

    with pytest.raises(InvalidInput):
        Credits.parse(text if as_text else value)


@given(
    st.sampled_from(["NaN", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "-inf", "+Inf"]),
    st.booleans(),
)
def test_parse_refuses_non_finite_numbers(spelling: str, as_text: bool) -> None:
    with pytest.raises(InvalidInput):
        Credits.parse(spelling if as_text else Decimal(spelling))


@given(st.integers(AMOUNT_UNITS_MAX + 1, 10**40), st.booleans())
def test_parse_refuses_amounts_above_the_largest(units: int, negative: bool) -> None:
    signed = -units if negative else units
    text = format(Decimal(signed).scaleb(-3), "f")
    assume(len(text) <= 40)

    with pytest.raises(InvalidInput):
        Credits.parse(text)
    with pytest.raises(InvalidInput):
        Credits(signed)


@given(half_units, half_units)
def test_addition_and_subtraction_are_exact(a: int, b: int) -> None:
    x, y = Credits(a), Credits(b)

    assert (x + y).units == a + b
    assert (x - y).units == a - b
    assert (x + y) - y == x
    assert (x + y).to_decimal() == x.to_decimal() + y.to_decimal()
    assert Credits.parse(str(x + y)) == Credits.parse(x.to_decimal() + y.to_decimal())


@given(st.integers(-(10**12), 10**12), small_factors)
def test_multiplication_by_an_int_is_exact(units: int, factor: int) -> None:
    product = Credits(units) * factor

    assert product.units == units * factor
    assert product.to_decimal() == Credits(units).to_decimal() * factor


@given(any_units, any_units)
def test_order_and_negation_follow_the_units(a: int, b: int) -> None:
    x, y = Credits(a), Credits(b)

    assert (x < y) == (a < b)
    assert (x == y) == (a == b)
    assert (-x).units == -a
    assert bool(x) == (a != 0)
