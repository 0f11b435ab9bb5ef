"""Promo codes, pure: the code's one form, the window and the maximum, the keyword form."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgate import Credits, InvalidInput, Promo, PromoRefusal, PromoSpec
from creditgate.domain.promos import (
    check_code,
    check_maximum,
    parse_promo,
    promo_data,
    refusal,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def promo(**fields: object) -> Promo:
    """A stored code of 5 credits, redeemable now unless the fields say otherwise."""
    given: dict[str, object] = {
        "code": "SALE",
        "credits": Credits.parse(5),
        "redeemed": 0,
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Promo(**given)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "stored"),
    [("spring-25", "SPRING-25"), ("ABC", "ABC"), ("a_b-c", "A_B-C"), ("x" * 64, "X" * 64)],
)
def test_check_code_stores_one_upper_case_form(given: str, stored: str) -> None:
    assert check_code(given) == stored


@pytest.mark.parametrize(
    "given",
    ["", "ab", "x" * 65, "two words", "semi;colon", "été", "١٢٣", "tab\t", None, 123],
    ids=repr,
)
def test_check_code_refuses_what_is_not_3_to_64_ascii_letters_digits_and_dashes(
    given: object,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_code(given)

    assert raised.value.field == "code"


@given(st.text(alphabet="abcXYZ019_-", min_size=3, max_size=64))
def test_check_code_is_case_insensitive(code: str) -> None:
    assert check_code(code.lower()) == check_code(code.upper()) == code.upper()


@pytest.mark.parametrize(
    ("fields", "at", "expected"),
    [
        ({}, NOW, None),
        ({"is_active": False}, NOW, PromoRefusal.INACTIVE),
        ({"starts_at": NOW}, NOW - TICK, PromoRefusal.NOT_STARTED),
        ({"starts_at": NOW}, NOW, None),
        ({"ends_at": NOW}, NOW - TICK, None),
        ({"ends_at": NOW}, NOW, PromoRefusal.ENDED),
        ({"max_redemptions": 2, "redeemed": 1}, NOW, None),
        ({"max_redemptions": 2, "redeemed": 2}, NOW, PromoRefusal.USED_UP),
        ({"is_active": False, "ends_at": NOW, "max_redemptions": 1, "redeemed": 1}, NOW,
         PromoRefusal.INACTIVE),
        ({"ends_at": NOW, "max_redemptions": 1, "redeemed": 1}, NOW, PromoRefusal.ENDED),
    ],
    ids=[
        "open",
        "inactive",
        "just before the start",
        "at the start",
        "just before the end",
        "at the end",
        "below the maximum",
        "at the maximum",
        "inactive first",
        "ended before used up",
    ],
)  # fmt: skip
def test_refusal_says_why_a_code_cannot_be_redeemed_at_an_instant(
    fields: dict[str, object], at: datetime, expected: PromoRefusal | None
) -> None:
    assert refusal(promo(**fields), at) == expected


def test_lot_expires_at_counts_whole_days_from_the_redemption() -> None:
    assert promo(expires_after_days=30).lot_expires_at(NOW) == NOW + timedelta(days=30)
    assert promo().lot_expires_at(NOW) is None


def test_parse_promo_reads_the_keywords_and_converts_times_to_utc() -> None:
    paris = datetime(2026, 6, 1, 4, 0, tzinfo=timezone(timedelta(hours=2)))

    spec = parse_promo({"code": "sale", "credits": "2.5", "ends_at": paris, "is_active": True})

    assert spec == PromoSpec(
        code="SALE", credits=Credits.parse("2.5"), ends_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    )
    assert spec.ends_at is not None
    assert spec.ends_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"credits": None}, "credits"),
        ({"credits": -1}, "credits"),
        ({"credits": 1.5}, "credits"),
        ({"expires_after_days": 1.0}, "expires_after_days"),
        ({"max_redemptions": 10**9 + 1}, "max_redemptions"),
        ({"starts_at": "2026-01-01"}, "starts_at"),
        ({"ends_at": NOW, "starts_at": NOW + TICK}, "ends_at"),
        ({"is_active": None}, "is_active"),
        ({"surprise": 1}, "surprise"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_parse_promo_names_the_first_bad_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_promo({"code": "SALE", "credits": 5, **fields})

    assert raised.value.field == field


def test_promo_data_reads_back_to_an_equal_spec() -> None:
    spec = PromoSpec(
        code="SALE",
        credits=Credits.parse("7.125"),
        expires_after_days=3,
        starts_at=NOW,
        ends_at=NOW + timedelta(days=1),
        max_redemptions=9,
        is_active=False,
    )

    assert parse_promo(promo_data(spec)) == spec


def test_check_maximum_refuses_one_below_the_redemptions_made() -> None:
    made = promo(max_redemptions=5, redeemed=3)

    check_maximum(made, 3)
    check_maximum(made, None)
    with pytest.raises(InvalidInput) as raised:
        check_maximum(made, 2)

    assert raised.value.field == "max_redemptions"
