"""Properties of price rules: exact integer amounts, rounded once, read back from their data."""

import math
from datetime import UTC, datetime
from fractions import Fraction
from itertools import accumulate

from hypothesis import given
from hypothesis import strategies as st

from creditgate import Credits, InvalidInput
from creditgate.domain.limits import AMOUNT_UNITS_MAX, PER_TOKENS_MAX, QUANTITY_MAX
from creditgate.domain.pricing import (
    UNIT_NAME,
    Flat,
    PerBlock,
    Price,
    PriceId,
    Quantity,
    Quote,
    Rounding,
    Rule,
    Tier,
    Tiered,
    TokenCounts,
    Tokens,
    parse_rule,
    quote,
    rule_data,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)

small_units = st.integers(0, 10**6)
"""Rates up to 1,000 credits: with the counts below, every cost stays in range."""

positive_units = st.integers(1, 10**6)
any_units = st.integers(0, AMOUNT_UNITS_MAX)
roundings = st.sampled_from(Rounding)
unit_names = st.from_regex(UNIT_NAME, fullmatch=True)
token_counts = st.builds(
    TokenCounts,
    input=st.integers(0, 10**8),
    cached_input=st.integers(0, 10**8),
    output=st.integers(0, 10**8),
)


def make_price(rule: Rule) -> Price:
    return Price(
        id=PriceId(1),
        feature="f",
        model=None,
        version=1,
        rule=rule,
        minimum=None,
        effective_from=T0,
        created_at=T0,
    )


def quote_of(rule: Rule, quantity: Quantity | None) -> Quote:
    return quote(make_price(rule), model=None, quantity=quantity)


@st.composite
def tier_lists(
    draw: st.DrawFn, units: st.SearchStrategy[int] = small_units, most: int = QUANTITY_MAX
) -> tuple[Tier, ...]:
    """Valid tiers: rising bounds, amounts that never fall, perhaps an unbounded last tier."""
    bounds = sorted(draw(st.lists(st.integers(1, most), max_size=8, unique=True)))
    unbounded = not bounds or draw(st.booleans())
    uppers: list[int | None] = [*bounds, None] if unbounded else list(bounds)
    first = draw(units)
    steps = draw(st.lists(units, min_size=len(uppers) - 1, max_size=len(uppers) - 1))
    amounts = [min(a, AMOUNT_UNITS_MAX) for a in accumulate(steps, initial=first)]
    return tuple(
        Tier(up_to=up_to, credits=Credits(a)) for up_to, a in zip(uppers, amounts, strict=True)
    )


def credits_of(units: st.SearchStrategy[int]) -> st.SearchStrategy[Credits]:
    return units.map(Credits)


def rules(units: st.SearchStrategy[int]) -> st.SearchStrategy[Rule]:
    """Every kind of rule, with amounts drawn from `units`."""
    amounts = credits_of(units)
    return st.one_of(
        st.builds(Flat, credits=amounts),
        st.builds(
            PerBlock,
            credits=amounts,
            block=st.integers(1, QUANTITY_MAX),
            unit=unit_names,
            rounding=roundings,
        ),
        st.builds(Tiered, tiers=tier_lists(units), unit=unit_names),
        st.builds(
            Tokens,
            input=amounts,
            output=amounts,
            cached_input=st.none() | amounts,
            per_tokens=st.integers(1, PER_TOKENS_MAX),
            rounding=roundings,
        ),
    )


def _rounded(exact: Fraction, rounding: Rounding) -> int:
    """`exact` rounded as the rule says, computed with `math` (half rounds up)."""
    if rounding is Rounding.UP:
        return math.ceil(exact)
    if rounding is Rounding.DOWN:
        return math.floor(exact)
    return math.floor(exact + Fraction(1, 2))


@given(positive_units, st.integers(1, 10**6), st.integers(0, 10**9))
def test_per_block_charges_at_least_the_exact_rate_and_less_than_one_block_more(
    units: int, block: int, quantity: int
) -> None:
    rule = PerBlock(credits=Credits(units), block=block)

    amount = quote_of(rule, quantity).amount

    assert amount.units * block >= quantity * units
    assert amount.units * block < (quantity + block) * units
    assert amount.units % units == 0


@given(st.data())
def test_tiered_cost_never_falls_as_the_quantity_rises(data: st.DataObject) -> None:
    tiers = data.draw(tier_lists(most=1000))
    rule = Tiered(tiers=tiers)
    most = tiers[-1].up_to or 2000
    low, high = sorted(data.draw(st.lists(st.integers(0, most), min_size=2, max_size=2)))

    cheaper, dearer = quote_of(rule, low).amount, quote_of(rule, high).amount

    assert cheaper <= dearer


@given(st.data())
def test_tiered_charges_the_first_tier_that_holds_the_quantity(data: st.DataObject) -> None:
    tiers = data.draw(tier_lists(most=1000))
    rule = Tiered(tiers=tiers)
    quantity = data.draw(st.integers(0, tiers[-1].up_to or 2000))
    held = [t for t in tiers if t.up_to is None or quantity <= t.up_to]

    amount = quote_of(rule, quantity).amount

    assert amount == held[0].credits


def _outcome(rule: Rule, quantity: Quantity | None) -> Quote | InvalidInput:
    try:
        return quote_of(rule, quantity)
    except InvalidInput as refused:
        return refused


@given(
    rules(small_units),
    st.none() | st.integers(0, 10**6) | token_counts,
)
def test_quote_is_deterministic_and_integer_exact(rule: Rule, quantity: Quantity | None) -> None:
    first = _outcome(rule, quantity)

    second = _outcome(rule, quantity)

    assert first == second
    if isinstance(first, Quote):
        assert isinstance(first.amount, Credits)
        assert type(first.amount.units) is int
        assert 0 <= first.amount.units <= AMOUNT_UNITS_MAX


@given(
    small_units, small_units, st.none() | small_units, st.integers(1, PER_TOKENS_MAX), token_counts
)
def test_tokens_amount_is_the_ceiling_of_the_exact_sum(
    input_rate: int, output_rate: int, cached_rate: int | None, per_tokens: int, counts: TokenCounts
) -> None:
    rule = Tokens(
        input=Credits(input_rate),
        output=Credits(output_rate),
        cached_input=None if cached_rate is None else Credits(cached_rate),
        per_tokens=per_tokens,
    )
    cached = input_rate if cached_rate is None else cached_rate
    exact = (
        Fraction(counts.input * input_rate, per_tokens)
        + Fraction(counts.cached_input * cached, per_tokens)
        + Fraction(counts.output * output_rate, per_tokens)
    )

    amount = quote_of(rule, counts).amount

    assert amount.units == math.ceil(exact)
    assert 0 <= amount.units - exact < 1


@given(
    small_units,
    small_units,
    st.none() | small_units,
    st.integers(1, PER_TOKENS_MAX),
    token_counts,
    roundings,
)
def test_tokens_amount_rounds_the_exact_sum_once_in_the_rule_direction(
    input_rate: int,
    output_rate: int,
    cached_rate: int | None,
    per_tokens: int,
    counts: TokenCounts,
    rounding: Rounding,
) -> None:
    rule = Tokens(
        input=Credits(input_rate),
        output=Credits(output_rate),
        cached_input=None if cached_rate is None else Credits(cached_rate),
        per_tokens=per_tokens,
        rounding=rounding,
    )
    cached = input_rate if cached_rate is None else cached_rate
    exact = Fraction(
        counts.input * input_rate + counts.cached_input * cached + counts.output * output_rate,
        per_tokens,
    )

    amount = quote_of(rule, counts).amount

    assert amount.units == _rounded(exact, rounding)
    assert abs(amount.units - exact) < 1


@given(small_units, st.integers(1, PER_TOKENS_MAX), st.integers(0, 10**8))
def test_tokens_plain_count_costs_as_much_as_the_same_tokens_as_input(
    rate: int, per_tokens: int, tokens: int
) -> None:
    rule = Tokens(input=Credits(rate), output=Credits(rate), per_tokens=per_tokens)

    plain = quote_of(rule, tokens).amount

    assert plain == quote_of(rule, TokenCounts(input=tokens)).amount
    assert plain.units == math.ceil(Fraction(tokens * rate, per_tokens))


@given(rules(any_units))
def test_parse_rule_reads_back_what_rule_data_writes(rule: Rule) -> None:
    data = rule_data(rule)

    parsed = parse_rule(data)

    assert parsed == rule
    assert rule_data(parsed) == data


@given(st.integers(0, 500))
def test_half_credit_flat_price_quoted_n_times_sums_to_exactly_n_halves(n: int) -> None:
    rule = Flat(credits=Credits.parse("0.5"))

    total = sum((quote_of(rule, None).amount for _ in range(n)), start=Credits(0))

    assert total.units == n * 500
