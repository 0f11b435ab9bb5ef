"""Credits: exact amounts in integer units, parsed and printed at the edges."""

from decimal import Decimal

import pytest

from creditgate import SCALE, Credits, InvalidInput
from creditgate.domain.amounts import ZERO, ceil_div
from creditgate.domain.limits import AMOUNT_UNITS_MAX


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0.5", 500),
        ("1", 1000),
        ("2.25", 2250),
        ("0.001", 1),
        ("-1.5", -1500),
        (" 3 ", 3000),
        ("+4", 4000),
        ("1.2300", 1230),
        ("1E+2", 100_000),
        ("1.5e-1", 150),
    ],
)
def test_parse_reads_decimal_text_exactly(text: str, units: int) -> None:
    amount = Credits.parse(text)

    assert amount.units == units


def test_parse_reads_an_int_as_whole_credits() -> None:
    amount = Credits.parse(7)

    assert amount.units == 7 * SCALE


def test_parse_reads_a_decimal_exactly() -> None:
    amount = Credits.parse(Decimal("2.125"))

    assert amount.units == 2125


def test_parse_returns_an_equal_copy_of_credits() -> None:
    original = Credits(1234)

    amount = Credits.parse(original)

    assert amount == original


@pytest.mark.parametrize("value", [0.5, 1.0, float("nan"), float("inf")])
def test_parse_refuses_a_float(value: float) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse(value)  # type: ignore[arg-type]

    assert raised.value.field == "amount"


@pytest.mark.parametrize("value", [True, False, None, [1], b"1"])
def test_parse_refuses_a_value_that_is_not_text_or_an_integer(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse(value)  # type: ignore[arg-type]

    assert raised.value.field == "amount"


@pytest.mark.parametrize(
    "text", ["NaN", "nan", "sNaN", "Infinity", "-inf", "inf", "", "   ", "abc", "1_000", "1,5"]
)
def test_parse_refuses_text_that_is_not_a_finite_decimal(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse(text)

    assert raised.value.field == "amount"


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_parse_refuses_a_decimal_that_is_not_finite(value: Decimal) -> None:
    with pytest.raises(InvalidInput):
        Credits.parse(value)


@pytest.mark.parametrize("text", ["1.2345", "0.0001", "-0.0005", "1e-4"])
def test_parse_refuses_more_than_three_decimal_places(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse(text)

    assert "3 decimal places" in raised.value.reason


@pytest.mark.parametrize(
    "value",
    [
        "1e19",
        "1e999999",
        "1000000000001",
        10**13,
        -(10**13),
        Decimal("1e30"),
        "123456789012345678901234567890.1234",
        Decimal("123456789012345678901234567890.1234"),
    ],
    ids=repr,
)
def test_parse_refuses_an_amount_above_the_largest_allowed(value: str | int | Decimal) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse(value)

    assert raised.value.field == "amount"


def test_parse_accepts_the_largest_allowed_amount() -> None:
    largest = str(Credits(AMOUNT_UNITS_MAX))

    amount = Credits.parse(largest)

    assert amount.units == AMOUNT_UNITS_MAX


def test_parse_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.parse("x", field="spend_cap")

    assert raised.value.field == "spend_cap"


@pytest.mark.parametrize("value", ["0", "-1", 0, -3, "-0.001"])
def test_positive_refuses_zero_and_negative_amounts(value: str | int) -> None:
    with pytest.raises(InvalidInput) as raised:
        Credits.positive(value, field="more")

    assert raised.value.field == "more"
    assert "greater than zero" in raised.value.reason


def test_positive_accepts_the_smallest_unit() -> None:
    amount = Credits.positive("0.001")

    assert amount.units == 1


@pytest.mark.parametrize("units", [1.5, True, "5", Decimal(5)])
def test_construct_refuses_units_that_are_not_an_int(units: object) -> None:
    with pytest.raises(InvalidInput):
        Credits(units)  # type: ignore[arg-type]


def test_construct_refuses_units_above_the_largest_allowed() -> None:
    with pytest.raises(InvalidInput):
        Credits(AMOUNT_UNITS_MAX + 1)


@pytest.mark.parametrize(
    ("units", "text"),
    [
        (0, "0"),
        (1, "0.001"),
        (10, "0.01"),
        (500, "0.5"),
        (1000, "1"),
        (1250, "1.25"),
        (-1500, "-1.5"),
        (-1, "-0.001"),
        (123_456_789, "123456.789"),
    ],
)
def test_str_prints_the_shortest_exact_decimal(units: int, text: str) -> None:
    printed = str(Credits(units))

    assert printed == text


def test_repr_shows_the_decimal_amount() -> None:
    shown = repr(Credits(2500))

    assert shown == "Credits('2.5')"


@pytest.mark.parametrize("units", [0, 1, 999, 1000, -1, -123_456, AMOUNT_UNITS_MAX])
def test_parse_of_str_round_trips(units: int) -> None:
    amount = Credits(units)

    again = Credits.parse(str(amount))

    assert again == amount


def test_to_decimal_is_exact() -> None:
    value = Credits(1005).to_decimal()

    assert value == Decimal("1.005")


def test_add_and_subtract_stay_in_units() -> None:
    a, b = Credits(1500), Credits(250)

    total, difference = a + b, a - b

    assert (total.units, difference.units) == (1750, 1250)


def test_negate_flips_the_sign() -> None:
    negated = -Credits(300)

    assert negated.units == -300


def test_multiply_by_an_int_scales_the_units() -> None:
    tripled = Credits(500) * 3

    assert tripled == Credits(1500)


@pytest.mark.parametrize("factor", [1.5, True, Decimal(2)])
def test_multiply_refuses_a_factor_that_is_not_an_int(factor: object) -> None:
    with pytest.raises(TypeError):
        Credits(500) * factor  # type: ignore[operator]


def test_compare_orders_by_units() -> None:
    small, large = Credits(1), Credits(2)

    assert small < large
    assert large > small
    assert small == Credits(1)


def test_bool_is_false_only_for_zero() -> None:
    assert not ZERO
    assert Credits(1)
    assert Credits(-1)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(7, 2, 4), (6, 2, 3), (0, 5, 0), (1, 1000, 1), (-7, 2, -3), (10**30 + 1, 10**15, 10**15 + 1)],
)
def test_ceil_div_rounds_up(numerator: int, denominator: int, expected: int) -> None:
    result = ceil_div(numerator, denominator)

    assert result == expected
