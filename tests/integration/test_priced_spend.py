"""Priced spends: charges, checks and holds that the catalog prices, and the shipped presets."""

from collections.abc import Callable

import pytest

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    HeldWork,
    HoldStatus,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    Outcome,
    TokenCounts,
)
from creditgate.domain.ids import HoldId
from creditgate.domain.pricing import Quantity
from creditgate.engine.clock import ManualClock
from creditgate.presets import PRESETS
from tests.factories import MINUTE, funded_account

TTL = 5 * MINUTE


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def priced_catalog(engine: Engine) -> None:
    """Images at a flat price (more for one model), speech per 15 s, chat per 1,000 tokens."""
    engine.create_feature("image.generate", name="Image")
    engine.set_price("image.generate", {"rule": "flat", "credits": "2"})
    engine.set_price("image.generate", {"rule": "flat", "credits": "4"}, model="flux-pro")
    engine.create_feature("audio.speech", name="Speech")
    engine.set_price(
        "audio.speech", {"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}
    )
    engine.create_feature("chat.complete", name="Chat")
    engine.set_price("chat.complete", {"rule": "tokens", "input": "1", "output": "1"})


def chat_hold(engine: Engine, tokens: int, account_id: str = "user_1") -> HoldId:
    """A hold for an LLM call of at most `tokens` tokens; its id."""
    receipt = engine.hold(
        account_id, ttl=TTL, feature="chat.complete", model="gpt-4o", quantity=tokens
    )
    assert receipt.hold is not None
    return receipt.hold.id


CALLS = [
    pytest.param("image.generate", None, None, "2", id="flat-default"),
    pytest.param("image.generate", "flux-pro", None, "4", id="flat-model"),
    pytest.param("image.generate", "sdxl", 3, "2", id="flat-quantity-not-priced"),
    pytest.param("audio.speech", None, 40, "3", id="per-block"),
    pytest.param("chat.complete", "gpt-4o", 2500, "2.5", id="tokens-count"),
    pytest.param(
        "chat.complete",
        "gpt-4o",
        TokenCounts(input=1000, cached_input=250, output=500),
        "1.75",
        id="tokens-by-kind",
    ),
]


@pytest.mark.parametrize(("feature", "model", "quantity", "amount"), CALLS)
def test_charge_of_a_feature_takes_the_quoted_amount(
    engine: Engine, feature: str, model: str | None, quantity: Quantity | None, amount: str
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    quoted = engine.quote(feature, model=model, quantity=quantity)

    receipt = engine.charge("user_1", feature=feature, model=model, quantity=quantity)

    assert quoted.amount == credits(amount)
    assert receipt.credits_used == quoted.amount
    assert engine.balance("user_1").balance == credits(10) - quoted.amount
    assert engine.verify().is_clean


@pytest.mark.parametrize(("feature", "model", "quantity", "amount"), CALLS)
def test_charge_of_a_feature_records_its_feature_model_quantity_and_price_id(
    engine: Engine, feature: str, model: str | None, quantity: Quantity | None, amount: str
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    quoted = engine.quote(feature, model=model, quantity=quantity)

    receipt = engine.charge("user_1", feature=feature, model=model, quantity=quantity)

    entry = receipt.entry
    assert (entry.kind, entry.amount, entry.cost) == (
        EntryKind.CHARGE,
        -credits(amount),
        credits(amount),
    )
    assert (entry.feature, entry.model, entry.quantity) == (feature, model, quantity)
    assert entry.price_id == quoted.price_id
    assert engine.get_entry(entry.id) == entry


def test_charge_of_a_feature_sets_the_receipts_quote(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    quoted = engine.quote("audio.speech", quantity=40)

    receipt = engine.charge("user_1", feature="audio.speech", quantity=40)

    assert receipt.quote == quoted
    assert receipt.quote.breakdown == "40 s = 3 x 15 s x 1 credit = 3 credits"


def test_charge_of_an_amount_sets_no_quote_and_no_price_id(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    receipt = engine.charge("user_1", 3, feature="image.generate")

    assert receipt.quote is None
    assert (receipt.credits_used, receipt.entry.price_id) == (credits(3), None)


@pytest.mark.parametrize(("feature", "model", "quantity", "amount"), CALLS)
def test_charge_of_a_feature_on_an_unlimited_account_records_the_cost_and_deducts_nothing(
    engine: Engine, feature: str, model: str | None, quantity: Quantity | None, amount: str
) -> None:
    priced_catalog(engine)
    engine.create_account("vip", is_unlimited=True)
    quoted = engine.quote(feature, model=model, quantity=quantity)

    receipt = engine.charge("vip", feature=feature, model=model, quantity=quantity)

    assert (receipt.entry.amount, receipt.entry.cost) == (Credits(0), credits(amount))
    assert receipt.entry.price_id == quoted.price_id
    assert receipt.quote == quoted
    assert engine.balance("vip").balance == Credits(0)
    assert engine.verify().is_clean


@pytest.mark.parametrize(
    ("funded", "has_enough"),
    [("10", True), ("4", True), ("3.999", False), ("0", False)],
)
def test_check_says_whether_the_account_can_pay_for_the_call(
    engine: Engine, funded: str, has_enough: bool
) -> None:
    priced_catalog(engine)
    engine.create_account("user_1")
    if funded != "0":
        engine.grant("user_1", funded, source="purchase")

    check = engine.check("user_1", "image.generate", model="flux-pro")

    assert check.has_enough is has_enough
    assert (check.required, check.available) == (credits(4), credits(funded))
    assert check.quote == engine.quote("image.generate", model="flux-pro")


def test_check_leaves_out_what_holds_set_aside(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=5)
    engine.hold("user_1", 2, ttl=TTL)

    check = engine.check("user_1", "image.generate", model="flux-pro")

    assert (check.has_enough, check.required, check.available) == (False, credits(4), credits(3))


def test_check_of_an_unlimited_account_always_has_enough(engine: Engine) -> None:
    priced_catalog(engine)
    engine.create_account("vip", is_unlimited=True)

    check = engine.check("vip", "image.generate", model="flux-pro")

    assert (check.has_enough, check.required, check.available) == (True, credits(4), Credits(0))


def test_check_writes_nothing(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=1)
    before = (engine.balance("user_1"), engine.history("user_1").items, engine.usage().items)

    engine.check("user_1", "image.generate")

    assert (engine.balance("user_1"), engine.history("user_1").items, engine.usage().items) == (
        before
    )


SPENDS: dict[str, Callable[[Engine], object]] = {
    "charge": lambda e: e.charge("user_1"),
    "hold": lambda e: e.hold("user_1", ttl=TTL),
    "charge-model-only": lambda e: e.charge("user_1", model="gpt-4o", quantity=10),
}


@pytest.mark.parametrize("spend", list(SPENDS))
def test_spend_raises_invalid_input_without_an_amount_or_a_feature(
    engine: Engine, spend: str
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    before = engine.history("user_1").items

    with pytest.raises(InvalidInput) as raised:
        SPENDS[spend](engine)

    assert raised.value.field == "amount"
    assert engine.history("user_1").items == before


# Holds priced by the catalog


def test_hold_of_a_feature_sets_aside_the_cost_of_the_most_it_may_use(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    receipt = engine.hold("user_1", ttl=TTL, feature="chat.complete", model="gpt-4o", quantity=4000)

    assert receipt.hold is not None
    assert receipt.quote == engine.quote("chat.complete", model="gpt-4o", quantity=4000)
    assert (receipt.hold.amount, receipt.hold.price_id) == (credits(4), receipt.quote.price_id)
    assert (receipt.hold.model, receipt.hold.quantity) == ("gpt-4o", 4000)
    assert receipt.balance.held == credits(4)


def test_settle_by_quantity_charges_the_cost_of_the_quantity_really_used(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, 4000)

    receipt = engine.settle(hold_id, quantity=1500)

    assert receipt.credits_used == credits("1.5")
    assert (receipt.entry.kind, receipt.entry.quantity) == (EntryKind.SETTLE, 1500)
    assert receipt.quote is not None
    assert receipt.quote.amount == credits("1.5")
    assert receipt.balance.balance == credits("8.5")
    assert receipt.balance.held == Credits(0)
    assert engine.get_hold(hold_id).captured == credits("1.5")
    assert engine.verify().is_clean


def change_price(engine: Engine) -> None:
    engine.set_price("chat.complete", {"rule": "tokens", "input": "10", "output": "10"})


def retire_price(engine: Engine) -> None:
    engine.retire_price("chat.complete")


def deactivate(engine: Engine) -> None:
    engine.update_feature("chat.complete", is_active=False)


@pytest.mark.parametrize("change", [change_price, retire_price, deactivate])
def test_settle_by_quantity_uses_the_price_version_of_the_hold(
    engine: Engine, change: Callable[[Engine], None]
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, 4000)
    held_at = engine.get_hold(hold_id).price_id
    change(engine)

    receipt = engine.settle(hold_id, quantity=1500)

    assert receipt.credits_used == credits("1.5")
    assert receipt.entry.price_id == held_at
    assert receipt.quote is not None
    assert (receipt.quote.price_id, receipt.quote.price_version) == (held_at, 1)


def test_settle_by_quantity_after_a_price_change_ignores_the_price_now_in_force(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=100)
    hold_id = chat_hold(engine, 4000)
    change_price(engine)

    settled = engine.settle(hold_id, quantity=1500)
    charged = engine.charge("user_1", feature="chat.complete", model="gpt-4o", quantity=1500)

    assert (settled.credits_used, charged.credits_used) == (credits("1.5"), credits(15))
    assert charged.entry.price_id != settled.entry.price_id


def test_settle_by_quantity_raises_invalid_input_for_a_hold_of_an_amount(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    receipt = engine.hold("user_1", 4, ttl=TTL, feature="chat.complete", model="gpt-4o")
    assert receipt.hold is not None

    with pytest.raises(InvalidInput) as raised:
        engine.settle(receipt.hold.id, quantity=1500)

    assert raised.value.field == "quantity"
    assert engine.get_hold(receipt.hold.id).status is HoldStatus.PENDING
    assert engine.balance("user_1").held == credits(4)


@pytest.mark.parametrize(
    ("actual", "quantity"),
    [pytest.param(1, 1500, id="both"), pytest.param(None, None, id="neither")],
)
def test_settle_raises_invalid_input_with_both_or_neither_of_actual_and_quantity(
    engine: Engine, actual: int | None, quantity: int | None
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, 4000)

    with pytest.raises(InvalidInput):
        engine.settle(hold_id, actual, quantity=quantity)

    assert engine.get_hold(hold_id).status is HoldStatus.PENDING
    assert engine.balance("user_1").held == credits(4)


def test_settle_by_quantity_above_the_hold_takes_the_extra_when_it_is_available(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, 1000)

    receipt = engine.settle(hold_id, quantity=3000)

    assert receipt.credits_used == credits(3)
    assert (receipt.balance.balance, receipt.balance.held) == (credits(7), Credits(0))
    assert engine.get_hold(hold_id).captured == credits(3)
    assert engine.verify().is_clean


def test_settle_by_quantity_above_the_hold_raises_insufficient_credits_beyond_the_balance(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=2)
    hold_id = chat_hold(engine, 1000)

    with pytest.raises(InsufficientCredits) as raised:
        engine.settle(hold_id, quantity=3000)

    assert (raised.value.required, raised.value.available) == (credits(3), credits(2))
    assert engine.get_hold(hold_id).status is HoldStatus.PENDING
    assert engine.balance("user_1").balance == credits(2)


class WorkFailed(Exception):
    pass


def use_then_fail(work: HeldWork) -> None:
    """Work that reports the tokens it used, then fails."""
    work.quantity = 1500
    raise WorkFailed("provider timed out")


def test_holding_a_feature_settles_at_the_quantity_set_on_the_work(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    with engine.holding(
        "user_1", ttl=TTL, feature="chat.complete", model="gpt-4o", quantity=4000
    ) as work:
        inside = engine.balance("user_1")
        work.quantity = 1500

    assert inside.held == credits(4)
    assert work.receipt is not None
    assert (work.receipt.entry.kind, work.receipt.credits_used) == (
        EntryKind.SETTLE,
        credits("1.5"),
    )
    assert work.receipt.entry.quantity == 1500
    assert engine.balance("user_1").balance == credits("8.5")
    assert engine.verify().is_clean


def test_holding_a_feature_releases_as_failed_when_the_work_raises(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    with (
        pytest.raises(WorkFailed),
        engine.holding(
            "user_1", ttl=TTL, feature="chat.complete", model="gpt-4o", quantity=4000
        ) as work,
    ):
        use_then_fail(work)

    assert engine.get_hold(work.hold.id).status is HoldStatus.RELEASED
    assert engine.balance("user_1").available == credits(10)
    ended = engine.usage("user_1", outcome=Outcome.FAILED).items
    assert [(e.hold_id, e.metadata["failure"]) for e in ended] == [
        (work.hold.id, "WorkFailed: provider timed out")
    ]


# Idempotency of priced calls


def test_charge_with_a_key_replays_the_first_receipt_even_after_a_price_change(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=100)
    first = engine.charge(
        "user_1", feature="chat.complete", model="gpt-4o", quantity=1500, idempotency_key="k1"
    )
    change_price(engine)

    again = engine.charge(
        "user_1", feature="chat.complete", model="gpt-4o", quantity=1500, idempotency_key="k1"
    )

    assert again == first
    assert again.credits_used == credits("1.5")
    assert engine.balance("user_1").balance == credits("98.5")
    assert len(engine.history("user_1", kinds=["charge"]).items) == 1


def test_charge_with_a_key_raises_idempotency_conflict_for_a_different_quantity(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=100)
    engine.charge(
        "user_1", feature="chat.complete", model="gpt-4o", quantity=1500, idempotency_key="k1"
    )

    with pytest.raises(IdempotencyConflict):
        engine.charge(
            "user_1", feature="chat.complete", model="gpt-4o", quantity=1600, idempotency_key="k1"
        )

    assert engine.balance("user_1").balance == credits("98.5")


def test_settle_with_a_key_replays_the_first_settle_after_a_price_change(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, 4000)
    first = engine.settle(hold_id, quantity=1500, idempotency_key="s1")
    change_price(engine)

    again = engine.settle(hold_id, quantity=1500, idempotency_key="s1")

    assert again == first
    assert engine.balance("user_1").balance == credits("8.5")


# The shipped presets, priced through the engine

PRESET_QUOTES = [
    ("media-studio", "video.generate", None, 8, "50"),
    ("media-studio", "video.generate", None, 10, "50"),
    ("media-studio", "video.generate", None, 5, "25"),
    ("media-studio", "audio.generate", None, 40, "3"),
    ("media-studio", "lipsync.generate", None, 25, "60"),
    ("media-studio", "image.text_to_image", None, None, "5"),
    ("media-studio", "image.image_to_image", None, None, "5"),
    ("media-studio", "image.upscale", None, None, "5"),
    ("image-models", "image.generate", "nano-banana", None, "0.5"),
    ("image-models", "image.generate", "flux-dev", None, "1"),
    ("image-models", "image.generate", "nano-banana-pro", None, "2"),
    ("video-models", "video.generate", "hailuo", None, "8"),
    ("video-models", "video.generate", "veo2", None, "15"),
    ("video-models", "map.animate", "hailuo", None, "5"),
    ("video-models", "map.animate", "veo2", None, "10"),
    ("video-models", "image.generate", None, None, "3"),
    ("video-models", "image.generate", "any-model", None, "3"),
    ("token-credits", "code.generate", None, 2000, "1"),
    ("token-credits", "code.review", None, 4000, "2"),
    ("token-credits", "code.generate", None, 2001, "1.001"),
    ("token-credits", "code.generate", None, 100, "1"),
    ("org-features", "kling_motion_control", None, None, "30"),
    ("demo", "image.generate", None, None, "2"),
    ("demo", "image.generate", "flux-schnell", None, "0.5"),
    ("demo", "video.generate", None, 7, "40"),
    ("demo", "video.generate", None, 60, "80"),
    ("demo", "audio.speech", None, 40, "3"),
    ("demo", "audio.transcribe", None, 89, "0.5"),
    ("demo", "audio.transcribe", None, 90, "1"),
    ("demo", "audio.transcribe", None, 10, "0.5"),
    (
        "demo",
        "chat.complete",
        "gpt-4o-mini-2024-07-18",
        TokenCounts(input=1000, output=1000),
        "0.075",
    ),
    (
        "demo",
        "chat.complete",
        "gpt-4o-2024-08-06",
        TokenCounts(input=1000, cached_input=1000, output=1000),
        "1.375",
    ),
    ("demo", "chat.complete", "claude-3", TokenCounts(input=1, output=1), "0.01"),
]


@pytest.mark.parametrize(("preset", "feature", "model", "quantity", "amount"), PRESET_QUOTES)
def test_seed_prices_each_preset_as_its_file_says(
    engine: Engine,
    preset: str,
    feature: str,
    model: str | None,
    quantity: Quantity | None,
    amount: str,
) -> None:
    engine.seed(preset)

    quote = engine.quote(feature, model=model, quantity=quantity)

    assert quote.amount == credits(amount)


@pytest.mark.parametrize(
    ("preset", "feature", "model", "quantity"),
    [
        ("media-studio", "video.generate", None, 11),
        ("image-models", "image.generate", "sdxl", None),
        ("video-models", "video.generate", "sora", None),
        ("video-models", "map.animate", None, None),
    ],
)
def test_seed_refuses_a_call_its_preset_does_not_price(
    engine: Engine, preset: str, feature: str, model: str | None, quantity: int | None
) -> None:
    engine.seed(preset)

    with pytest.raises(InvalidInput):
        engine.quote(feature, model=model, quantity=quantity)


def test_seed_image_models_charges_nano_banana_twice_for_exactly_one_credit(
    engine: Engine,
) -> None:
    engine.seed("image-models")
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="purchase")
    before = engine.balance("user_1").balance

    for _ in range(2):
        engine.charge("user_1", feature="image.generate", model="nano-banana")

    assert before - engine.balance("user_1").balance == credits(1)
    assert engine.verify().is_clean


@pytest.mark.parametrize("preset", PRESETS)
def test_seed_returns_no_changes_the_second_time(engine: Engine, preset: str) -> None:
    first = engine.seed(preset)
    before = engine.export_catalog()

    again = engine.seed(preset)

    assert first != ()
    assert again == ()
    assert engine.export_catalog() == before


def test_seed_raises_invalid_input_for_an_unknown_preset(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.seed("nonexistent")

    assert raised.value.field == "preset"
    assert engine.features() == ()


def test_charge_uses_a_price_changed_by_another_engine_on_the_same_database(
    engine: Engine, db_url: str, clock: ManualClock
) -> None:
    """Each engine caches price rows by the catalog's revision: a change written by another
    process (here, a second engine) renews the revision, so the next charge reprices."""
    priced_catalog(engine)
    funded_account(engine, credits=100)
    first = engine.charge("user_1", feature="image.generate")
    other = Engine(db_url, clock=clock)
    clock.advance(MINUTE)

    other.set_price("image.generate", {"rule": "flat", "credits": "3"})
    second = engine.charge("user_1", feature="image.generate")
    other.close()

    assert (first.credits_used, second.credits_used) == (credits(2), credits(3))
    assert second.entry.price_id != first.entry.price_id
