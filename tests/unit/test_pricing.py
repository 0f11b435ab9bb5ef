"""Pricing: the rules that turn one use into credits, choosing a price, and checking input."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from creditgate import SCALE, Credits, InvalidInput
from creditgate.domain.limits import AMOUNT_UNITS_MAX, QUANTITY_MAX
from creditgate.domain.pricing import (
    Flat,
    PerBlock,
    Price,
    PriceId,
    PriceSpec,
    Quantity,
    Rounding,
    Rule,
    Tier,
    Tiered,
    TokenCounts,
    Tokens,
    check_feature_key,
    check_model,
    check_quantity,
    in_force,
    matches,
    parse_price,
    parse_rule,
    price_data,
    quote,
    rule_data,
    select_price,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

AUDIO = PerBlock(credits=Credits.parse("1"), block=15, unit="s")
"""Audio: 1 credit per started 15 seconds."""

LIPSYNC = PerBlock(credits=Credits.parse("20"), block=10, unit="s")
"""Lipsync: 20 credits per started 10 seconds."""

VIDEO = Tiered(
    tiers=(
        Tier(up_to=5, credits=Credits.parse("25")),
        Tier(up_to=10, credits=Credits.parse("50")),
    ),
    unit="s",
)
"""Video: up to 5 s costs 25, up to 10 s costs 50, longer is refused."""

CHAT = Tokens(input=Credits.parse("0.25"), output=Credits.parse("1"))
"""An LLM: 0.25 credits per 1,000 input tokens and 1 per 1,000 output tokens."""

MILLI = Tokens(input=Credits(1), output=Credits(1))
"""One unit (0.001 credit) per 1,000 tokens of any kind: costs in fractions of a unit."""


def make_price(
    rule: Rule | None,
    *,
    model: str | None = None,
    minimum: str | None = None,
    version: int = 1,
    effective_from: datetime = T0,
    price_id: int = 1,
) -> Price:
    return Price(
        id=PriceId(price_id),
        feature="f",
        model=model,
        version=version,
        rule=rule,
        minimum=None if minimum is None else Credits.parse(minimum),
        effective_from=effective_from,
        created_at=T0,
    )


def amount_of(rule: Rule, quantity: Quantity | None, *, minimum: str | None = None) -> Credits:
    return quote(make_price(rule, minimum=minimum), model=None, quantity=quantity).amount


# Flat


def test_quote_charges_the_flat_amount_per_call() -> None:
    rule = Flat(credits=Credits.parse("5"))

    result = quote(make_price(rule), model=None, quantity=None)

    assert result.amount == Credits(5 * SCALE)
    assert result.breakdown == "5 credits per call"


@pytest.mark.parametrize("quantity", [None, 0, 1, 10_000, TokenCounts(input=5, output=9)], ids=repr)
def test_quote_ignores_the_quantity_when_the_rule_is_flat(quantity: Quantity | None) -> None:
    rule = Flat(credits=Credits.parse("0.5"))

    amount = amount_of(rule, quantity)

    assert amount.units == 500


# Per block


@pytest.mark.parametrize(
    ("rule", "seconds", "expected"),
    [
        (AUDIO, 40, 3),
        (AUDIO, 45, 3),
        (AUDIO, 46, 4),
        (AUDIO, 15, 1),
        (AUDIO, 1, 1),
        (AUDIO, 0, 0),
        (LIPSYNC, 25, 60),
        (LIPSYNC, 10, 20),
        (LIPSYNC, 30, 60),
        (LIPSYNC, 31, 80),
    ],
)
def test_quote_charges_every_started_block(rule: PerBlock, seconds: int, expected: int) -> None:
    amount = amount_of(rule, seconds)

    assert amount == Credits(expected * SCALE)


def test_quote_explains_a_per_block_cost() -> None:
    result = quote(make_price(AUDIO), model=None, quantity=40)

    assert result.breakdown == "40 s = 3 x 15 s x 1 credit = 3 credits"


@pytest.mark.parametrize(
    ("rounding", "seconds", "blocks"),
    [
        (Rounding.UP, 15, 2),
        (Rounding.DOWN, 15, 1),
        (Rounding.NEAREST, 15, 2),
        (Rounding.NEAREST, 14, 1),
        (Rounding.DOWN, 19, 1),
        (Rounding.UP, 11, 2),
    ],
)
def test_quote_rounds_partial_blocks_in_the_rule_direction(
    rounding: Rounding, seconds: int, blocks: int
) -> None:
    rule = PerBlock(credits=Credits.parse("2"), block=10, unit="s", rounding=rounding)

    amount = amount_of(rule, seconds)

    assert amount == Credits(2 * SCALE * blocks)


@pytest.mark.parametrize("quantity", [None, TokenCounts(input=40)], ids=repr)
def test_quote_refuses_a_per_block_call_without_a_whole_quantity(
    quantity: Quantity | None,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(AUDIO, quantity)

    assert raised.value.field == "quantity"


# Tiered


@pytest.mark.parametrize(
    ("seconds", "expected"), [(0, 25), (1, 25), (5, 25), (6, 50), (8, 50), (10, 50)]
)
def test_quote_charges_the_first_tier_that_holds_the_quantity(seconds: int, expected: int) -> None:
    amount = amount_of(VIDEO, seconds)

    assert amount == Credits(expected * SCALE)


def test_quote_refuses_a_quantity_above_the_last_bounded_tier() -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(VIDEO, 11)

    assert raised.value.field == "quantity"


@pytest.mark.parametrize(("seconds", "expected"), [(10, 50), (11, 80), (QUANTITY_MAX, 80)])
def test_quote_charges_the_unbounded_tier_when_the_quantity_is_above_every_bound(
    seconds: int, expected: int
) -> None:
    rule = Tiered(tiers=(*VIDEO.tiers, Tier(up_to=None, credits=Credits.parse("80"))), unit="s")

    amount = amount_of(rule, seconds)

    assert amount == Credits(expected * SCALE)


def test_quote_explains_which_tier_it_used() -> None:
    result = quote(make_price(VIDEO), model=None, quantity=8)

    assert result.breakdown == "8 s: tier up to 10 s = 50 credits"


def test_quote_refuses_a_tiered_call_without_a_quantity() -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(VIDEO, None)

    assert raised.value.field == "quantity"


# Tokens


@pytest.mark.parametrize(
    ("counts", "units"),
    [
        (TokenCounts(input=1000), 250),
        (TokenCounts(output=1000), 1000),
        (TokenCounts(input=1000, output=500), 750),
        (TokenCounts(input=4000, output=2000), 3000),
        (TokenCounts(), 0),
    ],
)
def test_quote_charges_tokens_by_kind_per_thousand(counts: TokenCounts, units: int) -> None:
    amount = amount_of(CHAT, counts)

    assert amount.units == units


def test_quote_prices_cached_input_as_input_when_it_has_no_rate() -> None:
    amount = amount_of(CHAT, TokenCounts(cached_input=4000))

    assert amount.units == 1000


def test_quote_prices_cached_input_at_its_own_rate_when_set() -> None:
    rule = Tokens(
        input=Credits.parse("0.25"),
        cached_input=Credits.parse("0.1"),
        output=Credits.parse("1"),
    )

    amount = amount_of(rule, TokenCounts(input=1000, cached_input=4000))

    assert amount.units == 250 + 400


@pytest.mark.parametrize(("tokens", "units"), [(2000, 1000), (3000, 1500), (3001, 1501), (1, 1)])
def test_quote_charges_a_credit_per_two_thousand_tokens_when_per_tokens_is_2000(
    tokens: int, units: int
) -> None:
    rule = Tokens(input=Credits.parse("1"), output=Credits.parse("1"), per_tokens=2000)

    amount = amount_of(rule, tokens)

    assert amount.units == units


def test_quote_accepts_a_plain_count_when_cached_input_is_set_to_the_same_rate() -> None:
    rule = Tokens(input=Credits(500), cached_input=Credits(500), output=Credits(500))

    amount = amount_of(rule, 4000)

    assert amount.units == 2000


@pytest.mark.parametrize(
    "rule",
    [
        CHAT,
        Tokens(input=Credits(500), cached_input=Credits(100), output=Credits(500)),
    ],
    ids=["output_differs", "cached_differs"],
)
def test_quote_refuses_a_plain_count_when_kinds_cost_differently(rule: Tokens) -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(rule, 4000)

    assert raised.value.field == "quantity"


def test_quote_refuses_a_tokens_call_without_a_quantity() -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(CHAT, None)

    assert raised.value.field == "quantity"


def test_quote_explains_a_tokens_cost_term_by_term() -> None:
    result = quote(make_price(CHAT), model=None, quantity=TokenCounts(input=1000, output=500))

    assert result.breakdown == "1000 input x 0.25/1000 + 500 output x 1/1000 = 0.75 credits"


# Rounding: once per call, on the exact total


@pytest.mark.parametrize(
    ("counts", "rounding", "units"),
    [
        # 1.2 units in all; rounding each kind's 0.4 would give 3 (up) or 0 (down, nearest).
        (TokenCounts(input=400, cached_input=400, output=400), Rounding.UP, 2),
        (TokenCounts(input=400, cached_input=400, output=400), Rounding.DOWN, 1),
        (TokenCounts(input=400, cached_input=400, output=400), Rounding.NEAREST, 1),
        # 0.6 + 0.6 + 0.6 = 1.8 units; per kind nearest would give 3.
        (TokenCounts(input=600, cached_input=600, output=600), Rounding.NEAREST, 2),
        (TokenCounts(input=600, cached_input=600, output=600), Rounding.DOWN, 1),
        # Exactly half a unit rounds up when rounding to the nearest.
        (TokenCounts(input=500), Rounding.NEAREST, 1),
        (TokenCounts(input=1500), Rounding.NEAREST, 2),
        (TokenCounts(input=499), Rounding.NEAREST, 0),
        (TokenCounts(input=500), Rounding.DOWN, 0),
        (TokenCounts(input=1), Rounding.UP, 1),
        (TokenCounts(input=2000), Rounding.UP, 2),
    ],
)
def test_quote_rounds_the_exact_total_once(
    counts: TokenCounts, rounding: Rounding, units: int
) -> None:
    rule = Tokens(input=Credits(1), output=Credits(1), rounding=rounding)

    amount = amount_of(rule, counts)

    assert amount.units == units


def test_quote_says_how_it_rounded() -> None:
    result = quote(make_price(MILLI), model=None, quantity=1500)

    assert result.breakdown.endswith("= 0.0015 credits, rounded up to 0.002")


def test_quote_says_nothing_of_rounding_when_the_cost_is_exact() -> None:
    result = quote(make_price(MILLI), model=None, quantity=2000)

    assert "rounded" not in result.breakdown


# Minimum


@pytest.mark.parametrize(
    ("rule", "quantity", "minimum", "units"),
    [
        (Flat(credits=Credits.parse("1")), None, "2", 2000),
        (AUDIO, 0, "1", 1000),
        (AUDIO, 40, "1", 3000),
        (AUDIO, 40, "3", 3000),
        (AUDIO, 46, "3.5", 4000),
        # The minimum applies to the rounded amount: 1.2 units rounded down is 1, raised to 2.
        (
            Tokens(input=Credits(1), output=Credits(1), rounding=Rounding.DOWN),
            TokenCounts(input=1200),
            "0.002",
            2,
        ),
    ],
)
def test_quote_raises_the_amount_to_the_minimum_but_never_lowers_it(
    rule: Rule, quantity: Quantity | None, minimum: str, units: int
) -> None:
    amount = amount_of(rule, quantity, minimum=minimum)

    assert amount.units == units


def test_quote_says_it_raised_the_amount_to_the_minimum() -> None:
    result = quote(make_price(AUDIO, minimum="2"), model=None, quantity=10)

    assert result.breakdown.endswith(", raised to the minimum of 2")


# What a quote records


def test_quote_records_the_call_and_the_price_version_it_used() -> None:
    price = make_price(CHAT, model="gpt-4o*", version=7, price_id=42)
    counts = TokenCounts(input=10, output=20)

    result = quote(price, model="gpt-4o-2024", quantity=counts)

    assert (result.feature, result.model, result.quantity) == ("f", "gpt-4o-2024", counts)
    assert (result.price_id, result.price_version) == (42, 7)


# A cost out of range


@pytest.mark.parametrize(
    ("rule", "quantity"),
    [
        (Tokens(input=Credits(1000), output=Credits(1000), per_tokens=1), QUANTITY_MAX),
        (PerBlock(credits=Credits(1000), block=1), QUANTITY_MAX),
    ],
    ids=["tokens", "per_block"],
)
def test_quote_accepts_a_cost_of_exactly_the_largest_amount(rule: Rule, quantity: int) -> None:
    amount = amount_of(rule, quantity)

    assert amount.units == AMOUNT_UNITS_MAX


@pytest.mark.parametrize(
    ("rule", "quantity"),
    [
        (Tokens(input=Credits(2000), output=Credits(2000), per_tokens=1), QUANTITY_MAX),
        (Tokens(input=Credits(1000), output=Credits(1000), per_tokens=1), QUANTITY_MAX + 1),
        (PerBlock(credits=Credits(2000), block=1), QUANTITY_MAX),
    ],
    ids=["tokens", "tokens_one_more", "per_block"],
)
def test_quote_refuses_a_cost_above_the_largest_amount(rule: Rule, quantity: int) -> None:
    with pytest.raises(InvalidInput):
        amount_of(rule, quantity)


@pytest.mark.parametrize(
    "rule",
    [
        Tokens(input=Credits(2000), output=Credits(2000), per_tokens=1),
        PerBlock(credits=Credits(2000), block=1),
    ],
    ids=["tokens", "per_block"],
)
def test_quote_refuses_a_cost_above_the_largest_amount_naming_the_quantity(rule: Rule) -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_of(rule, QUANTITY_MAX)

    assert raised.value.field == "quantity"


# Choosing a price: exact model, longest family, default


FAMILY_PRICES = [
    make_price(Flat(credits=Credits(1)), model=None, price_id=1),
    make_price(Flat(credits=Credits(2)), model="gpt-4o*", price_id=2),
    make_price(Flat(credits=Credits(3)), model="gpt-4o-mini*", price_id=3),
    make_price(Flat(credits=Credits(4)), model="gpt-4o-mini", price_id=4),
]


@pytest.mark.parametrize(
    ("model", "chosen"),
    [
        ("gpt-4o-mini", 4),
        ("gpt-4o-mini-2024-07-18", 3),
        ("gpt-4o-2024-08-06", 2),
        ("gpt-4o", 2),
        ("claude-3", 1),
        (None, 1),
    ],
)
@pytest.mark.parametrize("order", ["as_written", "reversed"])
def test_select_price_prefers_exact_then_longest_family_then_default(
    model: str | None, chosen: int, order: str
) -> None:
    prices = FAMILY_PRICES if order == "as_written" else FAMILY_PRICES[::-1]

    price = select_price("f", prices, model)

    assert price.id == chosen


def test_select_price_refuses_an_unpriced_model_when_there_is_no_default() -> None:
    prices = FAMILY_PRICES[1:]

    with pytest.raises(InvalidInput) as raised:
        select_price("f", prices, "claude-3")

    assert raised.value.field == "model"


def test_select_price_refuses_a_call_without_a_model_when_prices_are_per_model() -> None:
    prices = FAMILY_PRICES[1:]

    with pytest.raises(InvalidInput) as raised:
        select_price("f", prices, None)

    assert raised.value.field == "model"


def test_select_price_refuses_a_call_when_the_feature_has_no_prices() -> None:
    with pytest.raises(InvalidInput) as raised:
        select_price("f", [], "gpt-4o")

    assert raised.value.field == "model"


def test_select_price_skips_a_retired_exact_price() -> None:
    prices = [*FAMILY_PRICES[:3], make_price(None, model="gpt-4o-mini", price_id=5)]

    price = select_price("f", prices, "gpt-4o-mini")

    assert price.id == 3


def test_select_price_refuses_a_call_without_a_model_when_the_default_is_retired() -> None:
    prices = [make_price(None, model=None, price_id=5), *FAMILY_PRICES[1:]]

    with pytest.raises(InvalidInput) as raised:
        select_price("f", prices, None)

    assert raised.value.field == "model"


@pytest.mark.parametrize(
    ("pattern", "model", "expected"),
    [
        ("gpt-4o", "gpt-4o", True),
        ("gpt-4o", "gpt-4o-mini", False),
        ("gpt-4o*", "gpt-4o", True),
        ("gpt-4o*", "gpt-4o-mini", True),
        ("gpt-4o*", "gpt-4", False),
        ("gpt-4o*", "my-gpt-4o", False),
        ("gpt-4o*", "GPT-4o", False),
    ],
)
def test_matches_covers_exact_names_and_family_prefixes(
    pattern: str, model: str, expected: bool
) -> None:
    covered = matches(pattern, model)

    assert covered is expected


# Versions in force


def test_in_force_picks_the_latest_version_already_effective() -> None:
    v1 = make_price(AUDIO, version=1, effective_from=T0, price_id=1)
    v2 = make_price(LIPSYNC, version=2, effective_from=T0 + DAY, price_id=2)

    chosen = in_force([v1, v2], T0 + 2 * DAY)

    assert chosen == [v2]


def test_in_force_ignores_a_version_effective_in_the_future() -> None:
    v1 = make_price(AUDIO, version=1, effective_from=T0, price_id=1)
    v2 = make_price(LIPSYNC, version=2, effective_from=T0 + DAY, price_id=2)

    chosen = in_force([v2, v1], T0 + DAY / 2)

    assert chosen == [v1]


def test_in_force_includes_a_version_effective_at_that_exact_time() -> None:
    v1 = make_price(AUDIO, version=1, effective_from=T0, price_id=1)
    v2 = make_price(LIPSYNC, version=2, effective_from=T0 + DAY, price_id=2)

    chosen = in_force([v1, v2], T0 + DAY)

    assert chosen == [v2]


def test_in_force_returns_nothing_before_the_first_version() -> None:
    v1 = make_price(AUDIO, version=1, effective_from=T0)

    chosen = in_force([v1], T0 - timedelta(seconds=1))

    assert chosen == []


def test_in_force_keeps_one_version_per_model() -> None:
    default = make_price(AUDIO, model=None, version=1, price_id=1)
    old = make_price(AUDIO, model="veo2", version=1, price_id=2)
    new = make_price(LIPSYNC, model="veo2", version=2, effective_from=T0 + DAY, price_id=3)

    chosen = in_force([default, old, new], T0 + DAY)

    assert sorted(p.id for p in chosen) == [1, 3]


def test_in_force_keeps_a_retired_version_so_it_hides_the_older_price() -> None:
    v1 = make_price(AUDIO, model="veo2", version=1, price_id=1)
    retired = make_price(None, model="veo2", version=2, effective_from=T0 + DAY, price_id=2)

    chosen = in_force([v1, retired], T0 + DAY)

    assert chosen == [retired]


# Feature keys and model names


@pytest.mark.parametrize("key", ["video.generate", "a", "llm_chat.v2", "3d", "x" * 100])
def test_check_feature_key_accepts_lowercase_keys(key: str) -> None:
    checked = check_feature_key(key)

    assert checked == key


@pytest.mark.parametrize(
    "key",
    [
        "Video.generate",
        "VIDEO",
        "video generate",
        " video",
        "video-generate",
        "",
        "x" * 101,
        ".video",
        "_video",
        "vidéo",
        None,
        5,
    ],
    ids=repr,
)
def test_check_feature_key_refuses_a_bad_key(key: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_feature_key(key)

    assert raised.value.field == "feature"


def test_check_feature_key_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_feature_key("Bad", field="features[3].key")

    assert raised.value.field == "features[3].key"


@pytest.mark.parametrize(
    "model",
    ["gpt-4o", "claude-3.5-sonnet@20241022", "meta/llama:70b", "a+b_c", "M" * 100],
)
def test_check_model_accepts_provider_model_names(model: str) -> None:
    checked = check_model(model)

    assert checked == model


def test_check_model_accepts_no_model() -> None:
    checked = check_model(None)

    assert checked is None


@pytest.mark.parametrize(
    "model",
    ["", " gpt", "gpt 4", "-gpt", "gpt-4o*", "m" * 101, "gpt\n4", 5, b"gpt"],
    ids=repr,
)
def test_check_model_refuses_a_bad_model_name(model: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_model(model)

    assert raised.value.field == "model"


def test_check_model_accepts_a_family_when_the_name_is_a_pattern() -> None:
    checked = check_model("gpt-4o*", pattern=True)

    assert checked == "gpt-4o*"


@pytest.mark.parametrize("model", ["*", "gpt**", "g*pt", " *"])
def test_check_model_refuses_a_bad_family(model: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_model(model, field="price.model", pattern=True)

    assert raised.value.field == "price.model"


# Quantities


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, 0),
        (40, 40),
        (QUANTITY_MAX, QUANTITY_MAX),
        ({}, TokenCounts()),
        ({"input": 3, "output": 4}, TokenCounts(input=3, output=4)),
        (
            {"input": 1, "cached_input": 2, "output": 3},
            TokenCounts(input=1, cached_input=2, output=3),
        ),
        (TokenCounts(output=9), TokenCounts(output=9)),
    ],
    ids=repr,
)
def test_check_quantity_accepts_whole_numbers_and_token_counts(
    value: object, expected: Quantity | None
) -> None:
    checked = check_quantity(value)

    assert checked == expected


@pytest.mark.parametrize(
    "value", [-1, 1.5, 2.0, True, False, "5", QUANTITY_MAX + 1, [1, 2]], ids=repr
)
def test_check_quantity_refuses_a_count_that_is_not_a_whole_number_in_range(
    value: object,
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_quantity(value)

    assert raised.value.field == "quantity"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"input": -1}, "quantity.input"),
        ({"output": 1.5}, "quantity.output"),
        ({"cached_input": True}, "quantity.cached_input"),
        ({"input": QUANTITY_MAX + 1}, "quantity.input"),
        (TokenCounts(cached_input=-5), "quantity.cached_input"),
    ],
    ids=repr,
)
def test_check_quantity_refuses_a_bad_token_count_naming_its_kind(
    value: object, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_quantity(value)

    assert raised.value.field == field


@pytest.mark.parametrize("value", [{"reasoning": 5}, {"input": 1, "Input": 2}, {3: 1}], ids=repr)
def test_check_quantity_refuses_an_unknown_token_kind(value: Mapping[object, int]) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_quantity(value)

    assert raised.value.field == "quantity"
    assert "unknown token kind" in raised.value.reason


# Rules as data


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        ({"rule": "flat", "credits": "0.5"}, Flat(credits=Credits(500))),
        ({"rule": "flat", "credits": 5}, Flat(credits=Credits(5000))),
        ({"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}, AUDIO),
        (
            {"rule": "per_block", "credits": "2", "block": 10, "rounding": "nearest"},
            PerBlock(credits=Credits(2000), block=10, rounding=Rounding.NEAREST),
        ),
        (
            {
                "rule": "tiered",
                "unit": "s",
                "tiers": [{"up_to": 5, "credits": "25"}, {"up_to": 10, "credits": 50}],
            },
            VIDEO,
        ),
        (
            {"rule": "tiered", "tiers": [{"up_to": 5, "credits": "1"}, {"credits": "2"}]},
            Tiered(
                tiers=(
                    Tier(up_to=5, credits=Credits(1000)),
                    Tier(up_to=None, credits=Credits(2000)),
                )
            ),
        ),
        ({"rule": "tokens", "input": "0.25", "output": "1"}, CHAT),
        (
            {
                "rule": "tokens",
                "input": "1",
                "cached_input": "0.5",
                "output": "2",
                "per_tokens": 2000,
                "rounding": "down",
            },
            Tokens(
                input=Credits(1000),
                cached_input=Credits(500),
                output=Credits(2000),
                per_tokens=2000,
                rounding=Rounding.DOWN,
            ),
        ),
    ],
    ids=[
        "flat_text",
        "flat_int",
        "per_block",
        "per_block_nearest",
        "tiered",
        "unbounded",
        "tokens",
        "tokens_full",
    ],
)
def test_parse_rule_reads_each_kind_of_rule(data: dict[str, object], rule: Rule) -> None:
    parsed = parse_rule(data)

    assert parsed == rule


def test_parse_rule_leaves_cached_input_unset_when_absent() -> None:
    parsed = parse_rule({"rule": "tokens", "input": "1", "output": "2"})

    assert isinstance(parsed, Tokens)
    assert (parsed.cached_input, parsed.per_tokens, parsed.rounding) == (None, 1000, Rounding.UP)


def _tiers(*tiers: object) -> dict[str, object]:
    return {"rule": "tiered", "tiers": list(tiers)}


BAD_RULES: list[tuple[str, dict[str, object], str]] = [
    ("negative", {"rule": "flat", "credits": "-1"}, "price.credits"),
    ("negative_int", {"rule": "flat", "credits": -1}, "price.credits"),
    ("toml_float", {"rule": "flat", "credits": 0.5}, "price.credits"),
    ("whole_float", {"rule": "flat", "credits": 1.0}, "price.credits"),
    ("four_decimals", {"rule": "flat", "credits": "0.0005"}, "price.credits"),
    ("bool_amount", {"rule": "flat", "credits": True}, "price.credits"),
    ("not_a_number", {"rule": "flat", "credits": "five"}, "price.credits"),
    ("unknown_rule", {"rule": "linear", "credits": "1"}, "price.rule"),
    ("no_rule", {"credits": "1"}, "price.rule"),
    ("unknown_field", {"rule": "flat", "credits": "1", "colour": "red"}, "price.colour"),
    ("field_of_another_rule", {"rule": "flat", "credits": "1", "block": 5}, "price.block"),
    ("no_credits", {"rule": "flat"}, "price.credits"),
    ("no_block", {"rule": "per_block", "credits": "1"}, "price.block"),
    ("no_tiers", {"rule": "tiered"}, "price.tiers"),
    ("no_output", {"rule": "tokens", "input": "1"}, "price.output"),
    ("no_input", {"rule": "tokens", "output": "1"}, "price.input"),
    ("zero_block", {"rule": "per_block", "credits": "1", "block": 0}, "price.block"),
    ("negative_block", {"rule": "per_block", "credits": "1", "block": -15}, "price.block"),
    ("float_block", {"rule": "per_block", "credits": "1", "block": 1.5}, "price.block"),
    ("bad_unit", {"rule": "per_block", "credits": "1", "block": 1, "unit": "1s"}, "price.unit"),
    (
        "bad_rounding",
        {"rule": "per_block", "credits": "1", "block": 1, "rounding": "ceil"},
        "price.rounding",
    ),
    (
        "uppercase_rounding",
        {"rule": "tokens", "input": "1", "output": "1", "rounding": "UP"},
        "price.rounding",
    ),
    (
        "int_rounding",
        {"rule": "tokens", "input": "1", "output": "1", "rounding": 1},
        "price.rounding",
    ),
    (
        "zero_per_tokens",
        {"rule": "tokens", "input": "1", "output": "1", "per_tokens": 0},
        "price.per_tokens",
    ),
    (
        "text_per_tokens",
        {"rule": "tokens", "input": "1", "output": "1", "per_tokens": "1000"},
        "price.per_tokens",
    ),
    (
        "huge_per_tokens",
        {"rule": "tokens", "input": "1", "output": "1", "per_tokens": 10**9 + 1},
        "price.per_tokens",
    ),
    (
        "bool_per_tokens",
        {"rule": "tokens", "input": "1", "output": "1", "per_tokens": True},
        "price.per_tokens",
    ),
    (
        "negative_cached",
        {"rule": "tokens", "input": "1", "output": "1", "cached_input": "-0.1"},
        "price.cached_input",
    ),
    ("empty_tiers", _tiers(), "price.tiers"),
    ("tiers_not_a_list", {"rule": "tiered", "tiers": "5=25"}, "price.tiers"),
    ("tier_not_a_table", _tiers({"up_to": 5, "credits": "1"}, 7), "price.tiers[1]"),
    ("tier_without_credits", _tiers({"up_to": 5}), "price.tiers[0].credits"),
    ("tier_unknown_field", _tiers({"up_to": 5, "credits": "1", "to": 3}), "price.tiers[0].to"),
    ("tier_zero_bound", _tiers({"up_to": 0, "credits": "1"}), "price.tiers[0].up_to"),
    (
        "equal_bounds",
        _tiers({"up_to": 5, "credits": "25"}, {"up_to": 5, "credits": "50"}),
        "price.tiers[1].up_to",
    ),
    (
        "unordered_bounds",
        _tiers({"up_to": 10, "credits": "25"}, {"up_to": 5, "credits": "50"}),
        "price.tiers[1].up_to",
    ),
    (
        "cheaper_larger_tier",
        _tiers({"up_to": 5, "credits": "50"}, {"up_to": 10, "credits": "25"}),
        "price.tiers[1].credits",
    ),
    (
        "cheaper_unbounded_tier",
        _tiers({"up_to": 5, "credits": "50"}, {"credits": "49.999"}),
        "price.tiers[1].credits",
    ),
    (
        "unbounded_not_last",
        _tiers({"credits": "25"}, {"up_to": 10, "credits": "50"}),
        "price.tiers[1]",
    ),
    (
        "two_unbounded",
        _tiers({"up_to": 5, "credits": "25"}, {"credits": "50"}, {"credits": "60"}),
        "price.tiers[2]",
    ),
    (
        "too_many_tiers",
        _tiers(*({"up_to": i + 1, "credits": "1"} for i in range(101))),
        "price.tiers",
    ),
]


@pytest.mark.parametrize(
    ("data", "field"), [(d, f) for _, d, f in BAD_RULES], ids=[n for n, _, _ in BAD_RULES]
)
def test_parse_rule_refuses_bad_data_naming_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rule(data)

    assert raised.value.field == field


def test_parse_rule_names_the_place_it_was_given() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rule({"rule": "flat", "credits": 0.5}, "features[2].prices[0]")

    assert raised.value.field == "features[2].prices[0].credits"


@pytest.mark.parametrize("kind", [["flat"], {"kind": "flat"}], ids=["array", "table"])
def test_parse_rule_refuses_a_rule_name_that_is_not_text(kind: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rule({"rule": kind, "credits": "1"})

    assert raised.value.field == "price.rule"


def test_parse_price_reads_the_model_rule_and_minimum() -> None:
    data = {"model": "gpt-4o*", "rule": "flat", "credits": "0.5", "minimum": "1"}

    spec = parse_price(data)

    assert spec == PriceSpec(
        model="gpt-4o*", rule=Flat(credits=Credits(500)), minimum=Credits(1000)
    )


def test_parse_price_reads_a_default_price_without_a_model() -> None:
    spec = parse_price({"rule": "flat", "credits": "5"})

    assert (spec.model, spec.minimum) == (None, None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"model": "gpt 4o", "rule": "flat", "credits": "1"}, "price.model"),
        ({"model": "*", "rule": "flat", "credits": "1"}, "price.model"),
        ({"model": 4, "rule": "flat", "credits": "1"}, "price.model"),
        ({"rule": "flat", "credits": "1", "minimum": "-1"}, "price.minimum"),
        ({"rule": "flat", "credits": "1", "minimum": 0.5}, "price.minimum"),
    ],
    ids=["space", "bare_star", "not_text", "negative_minimum", "float_minimum"],
)
def test_parse_price_refuses_a_bad_model_or_minimum(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_price(data)

    assert raised.value.field == field


def test_rule_data_writes_amounts_as_decimal_text() -> None:
    data = rule_data(CHAT)

    assert (data["input"], data["output"]) == ("0.25", "1")


@pytest.mark.parametrize(
    ("rounding", "written"),
    [(Rounding.UP, None), (Rounding.DOWN, "down"), (Rounding.NEAREST, "nearest")],
)
def test_rule_data_writes_rounding_only_when_it_is_not_up(
    rounding: Rounding, written: str | None
) -> None:
    rule = PerBlock(credits=Credits(1000), block=15, rounding=rounding)

    data = rule_data(rule)

    assert data.get("rounding") == written


@pytest.mark.parametrize(
    "rule",
    [
        Flat(credits=Credits(500)),
        AUDIO,
        PerBlock(credits=Credits(1), block=7, unit="frames", rounding=Rounding.DOWN),
        VIDEO,
        Tiered(tiers=(Tier(up_to=None, credits=Credits(0)),)),
        CHAT,
        Tokens(
            input=Credits(1),
            cached_input=Credits(1),
            output=Credits(3),
            per_tokens=2000,
            rounding=Rounding.NEAREST,
        ),
    ],
    ids=repr,
)
def test_parse_rule_reads_back_what_rule_data_writes(rule: Rule) -> None:
    data = rule_data(rule)

    assert parse_rule(data) == rule


def test_price_data_writes_the_model_first_and_the_minimum() -> None:
    spec = PriceSpec(model="veo2", rule=VIDEO, minimum=Credits(2500))

    data = price_data(spec)

    assert next(iter(data)) == "model"
    assert data["minimum"] == "2.5"
    assert parse_price(data) == spec
