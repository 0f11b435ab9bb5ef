"""Packs, the refund policy and auto top-up's crossings, as pure functions."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgate import Credits, InvalidInput
from creditgate.domain.packs import pack_data, parse_pack, take_back_units
from creditgate.domain.topups import TopUpState, next_state

CREATOR = {"key": "creator", "name": "Creator", "credits": "110", "price": 1499}


def test_parse_pack_reads_back_what_pack_data_writes() -> None:
    data = {
        **CREATOR,
        "bonus_credits": "10.5",
        "badge": "best value",
        "expires_after_days": 365,
        "sort_order": -2,
        "currency": "eur",
        "active": False,
        "description": "For regular use",
    }

    spec = parse_pack(data)

    assert parse_pack(pack_data(spec)) == spec
    assert (spec.total_credits, spec.price_minor, spec.is_active) == (
        Credits.parse("120.5"),
        1499,
        False,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"credits": "0"}, "packs[0].credits"),
        ({"credits": 1.5}, "packs[0].credits"),
        ({"price": -1}, "packs[0].price"),
        ({"price": "1499"}, "packs[0].price"),
        ({"price": 0}, "packs[0].price"),
        ({"free_once": True}, "packs[0].free_once"),
        ({"bonus_credits": "-1"}, "packs[0].bonus_credits"),
        ({"currency": "USD"}, "packs[0].currency"),
        ({"badge": "x" * 41}, "packs[0].badge"),
        ({"expires_after_days": 0}, "packs[0].expires_after_days"),
        ({"sort_order": True}, "packs[0].sort_order"),
        ({"key": "Creator"}, "packs[0].key"),
        ({"colour": "gold"}, "packs[0].colour"),
    ],
)
def test_parse_pack_names_the_bad_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_pack({**CREATOR, **change}, "packs[0]")

    assert refused.value.field == field


def test_free_once_pack_is_the_only_free_pack() -> None:
    spec = parse_pack({**CREATOR, "price": 0, "free_once": True})

    assert (spec.is_free_once, spec.price_minor) == (True, 0)


@pytest.mark.parametrize(
    ("refunded", "expected"),
    [(0, 0), (1, 81), (500, 40_027), (749, 59_960), (1499, 120_000), (2000, 120_000)],
)
def test_take_back_is_the_refunded_share_rounded_up(refunded: int, expected: int) -> None:
    assert (
        take_back_units(
            granted_units=120_000, price_minor=1499, refunded_minor=refunded, is_disputed=False
        )
        == expected
    )


@given(
    granted=st.integers(0, 10**12),
    price=st.integers(1, 10**8),
    first=st.integers(0, 10**8),
    second=st.integers(0, 10**8),
)
def test_take_back_grows_with_the_refund_and_never_passes_the_grant(
    granted: int, price: int, first: int, second: int
) -> None:
    low, high = sorted((first, second))

    less = take_back_units(
        granted_units=granted, price_minor=price, refunded_minor=low, is_disputed=False
    )
    more = take_back_units(
        granted_units=granted, price_minor=price, refunded_minor=high, is_disputed=False
    )
    disputed = take_back_units(
        granted_units=granted, price_minor=price, refunded_minor=low, is_disputed=True
    )

    assert 0 <= less <= more <= granted
    assert disputed == granted
    assert less * price >= granted * min(low, price)  # at least the refunded share


@pytest.mark.parametrize(
    ("state", "available", "expected"),
    [
        (TopUpState.ARMED, 9, (TopUpState.PENDING, True)),
        (TopUpState.ARMED, 10, (TopUpState.ARMED, False)),
        (TopUpState.PENDING, 0, (TopUpState.PENDING, False)),
        (TopUpState.PENDING, 50, (TopUpState.PENDING, False)),
        (TopUpState.SPENT, 9, (TopUpState.SPENT, False)),
        (TopUpState.SPENT, 10, (TopUpState.ARMED, False)),
    ],
)
def test_next_state_starts_one_payment_per_crossing(
    state: TopUpState, available: int, expected: tuple[TopUpState, bool]
) -> None:
    assert next_state(state, available_units=available, threshold_units=10) == expected


@given(st.lists(st.integers(-50, 50), max_size=200))
def test_payments_started_never_outnumber_the_falls_below_the_line(moves: list[int]) -> None:
    """Any walk of the balance: a payment per fall from at-or-above to below, at most."""
    state, available, starts, falls = TopUpState.ARMED, 100, 0, 0
    above = True
    for move in moves:
        available += move
        if above and available < 10:
            falls += 1
        above = available >= 10
        state, started = next_state(state, available_units=available, threshold_units=10)
        if started:
            starts += 1
            state = TopUpState.SPENT  # the payment settles before the next write
    assert starts <= falls
