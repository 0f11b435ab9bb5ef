"""Packs, purchases and provider events on real SQLite and PostgreSQL.

The provider verbs are what a verified webhook calls: each event is claimed by its id in
the transaction of its effect, and a purchase is paid once, whichever events say so.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from creditgate import (
    AccountFrozen,
    Credits,
    Engine,
    EventResult,
    InvalidInput,
    ManualClock,
    PackClaimed,
    PackExists,
    PackNotFound,
    Provider,
    ProviderEvent,
    PurchaseNotFound,
    PurchaseStatus,
)
from creditgate.domain.events import Outcome
from creditgate.domain.lots import LotSource
from creditgate.storage import accounts as account_rows
from creditgate.storage import packs as purchase_rows
from tests.factories import DAY

PRICE = 1499
"""The Creator pack: 110 credits and 10 bonus for $14.99."""


def c(value: int | str) -> Credits:
    return Credits.parse(value)


@pytest.fixture
def shop(engine: Engine) -> Engine:
    """The Creator pack for sale, a free Starter, and a customer."""
    engine.create_pack("creator", name="Creator", credits=110, bonus_credits=10, price_minor=PRICE)
    engine.create_pack("starter", name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.create_account("user_1")
    return engine


def event(event_id: str, kind: str = "checkout.session.completed") -> ProviderEvent:
    return ProviderEvent(provider=Provider.STRIPE, event_id=event_id, type=kind)


def completed(
    engine: Engine,
    event_id: str,
    *,
    reference: str = "cs_1",
    kind: str = "checkout.session.completed",
    **facts: Any,
) -> EventResult:
    """Deliver a paid `checkout.session.completed` (or `kind`) for the Creator pack."""
    values: dict[str, Any] = {
        "account_id": "user_1",
        "pack": "creator",
        "reference": reference,
        "amount_minor": PRICE,
        "currency": "usd",
        "payment_ref": f"pi_{reference}",
        "is_paid": True,
        **facts,
    }
    return engine.complete_checkout(event(event_id, kind), **values)


def test_complete_checkout_grants_credits_and_bonus_as_two_lots_once(shop: Engine) -> None:
    shop.open_checkout("user_1", "creator", provider=Provider.STRIPE, reference="cs_1")

    first = completed(shop, "evt_1")
    again = completed(shop, "evt_1")

    assert (first.outcome, again.outcome) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert shop.balance("user_1").balance == c(120)
    lifetime = shop.lifetime("user_1")
    assert lifetime.granted_by_source[LotSource.PURCHASE] == c(110)
    assert lifetime.granted_by_source[LotSource.BONUS] == c(10)
    purchase = shop.get_purchase("user_1", first.purchase_id or 0)
    assert (purchase.status, purchase.credits, purchase.payment_ref) == (
        PurchaseStatus.PAID,
        c(120),
        "pi_cs_1",
    )
    assert shop.verify().problems == ()


@pytest.mark.parametrize("order", ["completed first", "async first"])
def test_two_event_types_for_one_purchase_grant_once_in_either_order(
    shop: Engine, order: str
) -> None:
    kinds = ["checkout.session.completed", "checkout.session.async_payment_succeeded"]
    if order == "async first":
        kinds.reverse()

    outcomes = [
        shop.complete_checkout(
            event(f"evt_{i}", kind),
            account_id="user_1",
            pack="creator",
            reference="cs_1",
            amount_minor=PRICE,
            currency="usd",
            payment_ref="pi_1",
            is_paid=True,
        ).outcome
        for i, kind in enumerate(kinds)
    ]

    assert outcomes == [Outcome.APPLIED, Outcome.NO_CHANGE]
    assert shop.balance("user_1").balance == c(120)


def test_delayed_payment_grants_only_when_it_succeeds(shop: Engine) -> None:
    pending = completed(shop, "evt_1", is_paid=False)
    balance_while_pending = shop.balance("user_1").balance

    paid = completed(shop, "evt_2", kind="checkout.session.async_payment_succeeded")

    assert (pending.outcome, paid.outcome) == (Outcome.RECORDED, Outcome.APPLIED)
    assert balance_while_pending == c(0)
    assert shop.balance("user_1").balance == c(120)


def test_delayed_payment_that_fails_grants_nothing(shop: Engine) -> None:
    completed(shop, "evt_1", is_paid=False)

    failed = shop.fail_checkout(
        event("evt_2", "checkout.session.async_payment_failed"), reference="cs_1"
    )

    assert failed.outcome is Outcome.APPLIED
    assert shop.balance("user_1").balance == c(0)
    purchase = shop.purchases("user_1").items[0]
    assert purchase.status is PurchaseStatus.FAILED


@pytest.mark.parametrize(
    ("amount_minor", "currency"), [(PRICE - 1, "usd"), (PRICE + 1, "usd"), (PRICE, "eur")]
)
def test_payment_that_does_not_match_the_checkout_grants_nothing(
    shop: Engine, amount_minor: int, currency: str
) -> None:
    shop.open_checkout("user_1", "creator", provider=Provider.STRIPE, reference="cs_1")

    result = completed(shop, "evt_1", amount_minor=amount_minor, currency=currency)

    assert result.outcome is Outcome.MISMATCH
    assert shop.balance("user_1").balance == c(0)
    purchase = shop.purchases("user_1").items[0]
    assert purchase.status is PurchaseStatus.FAILED
    assert purchase.note is not None
    assert str(amount_minor) in purchase.note
    assert [e.outcome for e in shop.provider_events()] == [Outcome.MISMATCH]


def test_checkout_keeps_the_price_it_was_opened_with(shop: Engine) -> None:
    shop.open_checkout("user_1", "creator", provider=Provider.STRIPE, reference="cs_1")
    shop.update_pack("creator", price_minor=1999)

    result = completed(shop, "evt_1", amount_minor=PRICE)

    assert result.outcome is Outcome.APPLIED


def test_completed_checkout_never_recorded_is_judged_by_the_pack_price(shop: Engine) -> None:
    wrong = completed(shop, "evt_1", reference="cs_lost", amount_minor=100)
    right = completed(shop, "evt_2", reference="cs_lost_2")

    assert (wrong.outcome, right.outcome) == (Outcome.MISMATCH, Outcome.APPLIED)
    assert shop.balance("user_1").balance == c(120)


def test_completed_checkout_for_an_unknown_account_is_recorded(shop: Engine) -> None:
    result = completed(shop, "evt_1", account_id="nobody")

    assert result.outcome is Outcome.RECORDED
    assert result.detail is not None
    assert "nobody" in result.detail


def test_grant_that_fails_after_the_claim_is_applied_once_when_redelivered(
    shop: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim commits with the grant: a failure after both were written loses both."""
    original = purchase_rows.save_purchase
    failures = iter([True])

    def failing_once(*args: Any, **kwargs: Any) -> None:
        if next(failures, False):
            raise RuntimeError("the database went away after the lots were written")
        original(*args, **kwargs)

    monkeypatch.setattr(purchase_rows, "save_purchase", failing_once)
    with pytest.raises(RuntimeError):
        completed(shop, "evt_1")
    after_failure = (shop.balance("user_1").balance, shop.provider_events())

    redelivered = completed(shop, "evt_1")
    again = completed(shop, "evt_1")

    assert after_failure == (c(0), ())
    assert (redelivered.outcome, again.outcome) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert shop.balance("user_1").balance == c(120)
    assert shop.verify().problems == ()


def test_refund_in_full_takes_back_what_is_left_and_records_the_rest_as_owed(
    shop: Engine,
) -> None:
    completed(shop, "evt_1")
    shop.charge("user_1", 100)

    result = shop.reverse_payment(
        event("evt_2", "charge.refunded"), payment_ref="pi_cs_1", refunded_minor=PRICE
    )

    assert result.outcome is Outcome.APPLIED
    purchase = shop.purchases("user_1").items[0]
    assert (purchase.status, purchase.taken_back, purchase.owed) == (
        PurchaseStatus.REFUNDED,
        c(20),
        c(100),
    )
    assert shop.balance("user_1").balance == c(0)
    assert shop.verify().problems == ()


def test_partial_refunds_take_back_the_refunded_share_rounded_up_and_never_twice(
    shop: Engine,
) -> None:
    completed(shop, "evt_1")

    third = shop.reverse_payment(
        event("evt_2", "charge.refunded"), payment_ref="pi_cs_1", refunded_minor=500
    )
    replayed_total = shop.reverse_payment(
        event("evt_3", "charge.refunded"), payment_ref="pi_cs_1", refunded_minor=500
    )

    # 120 credits * 500 / 1499 = 40.026... credits, rounded up to the unit.
    taken = -(-120_000 * 500 // PRICE)
    assert (third.outcome, replayed_total.outcome) == (Outcome.APPLIED, Outcome.NO_CHANGE)
    purchase = shop.purchases("user_1").items[0]
    assert (purchase.status, purchase.taken_back.units, purchase.refunded_minor) == (
        PurchaseStatus.PAID,
        taken,
        500,
    )
    assert shop.balance("user_1").balance.units == 120_000 - taken


def test_dispute_takes_back_everything_left_but_not_what_a_hold_pinned(shop: Engine) -> None:
    completed(shop, "evt_1")
    shop.charge("user_1", 30)
    hold = shop.hold("user_1", 50, ttl=timedelta(minutes=5))
    assert hold.hold is not None

    result = shop.reverse_payment(
        event("evt_2", "charge.dispute.created"), payment_ref="pi_cs_1", is_disputed=True
    )

    purchase = shop.purchases("user_1").items[0]
    assert result.outcome is Outcome.APPLIED
    assert (purchase.status, purchase.taken_back, purchase.owed) == (
        PurchaseStatus.DISPUTED,
        c(40),
        c(80),
    )
    assert shop.balance("user_1").balance == c(50)
    assert shop.settle(hold.hold.id, 50).entry.amount == c(-50)
    assert shop.verify().problems == ()


def test_refund_after_a_dispute_takes_nothing_more(shop: Engine) -> None:
    completed(shop, "evt_1")
    shop.reverse_payment(
        event("evt_2", "charge.dispute.created"), payment_ref="pi_cs_1", is_disputed=True
    )

    result = shop.reverse_payment(
        event("evt_3", "charge.refunded"), payment_ref="pi_cs_1", refunded_minor=PRICE
    )

    purchase = shop.purchases("user_1").items[0]
    assert (purchase.status, purchase.taken_back + purchase.owed) == (
        PurchaseStatus.DISPUTED,
        c(120),
    )
    assert result.outcome is Outcome.APPLIED  # the refunded amount is recorded
    assert shop.balance("user_1").balance == c(0)


def test_refund_of_an_unknown_payment_is_recorded(shop: Engine) -> None:
    result = shop.reverse_payment(
        event("evt_1", "charge.refunded"), payment_ref="pi_other", refunded_minor=100
    )

    assert result.outcome is Outcome.RECORDED


def test_pack_credits_expire_after_the_packs_days(shop: Engine, clock: ManualClock) -> None:
    shop.create_pack("monthly", name="Monthly", credits=30, price_minor=500, expires_after_days=30)
    shop.complete_checkout(
        event("evt_1"),
        account_id="user_1",
        pack="monthly",
        reference="cs_m",
        amount_minor=500,
        currency="usd",
        payment_ref=None,
        is_paid=True,
    )

    clock.advance(30 * DAY - timedelta(seconds=1))
    before = shop.balance("user_1").balance
    clock.advance(timedelta(seconds=1))

    assert (before, shop.balance("user_1").balance) == (c(30), c(0))


def test_claim_pack_grants_a_free_once_pack_once(shop: Engine) -> None:
    claimed = shop.claim_pack("user_1", "starter")

    with pytest.raises(PackClaimed):
        shop.claim_pack("user_1", "starter")
    assert (claimed.status, claimed.amount_minor, claimed.provider) == (
        PurchaseStatus.PAID,
        0,
        "free",
    )
    assert shop.balance("user_1").balance == c(50)


def test_claim_pack_refuses_a_paid_or_inactive_pack_and_changes_nothing(shop: Engine) -> None:
    shop.create_pack("old", name="Old", credits=5, price_minor=0, is_free_once=True)
    shop.deactivate_pack("old")

    with pytest.raises(InvalidInput):
        shop.claim_pack("user_1", "creator")
    with pytest.raises(PackNotFound):
        shop.claim_pack("user_1", "old")
    assert shop.purchases("user_1").items == ()


def test_create_pack_refuses_a_taken_key_and_bad_fields(shop: Engine) -> None:
    with pytest.raises(PackExists):
        shop.create_pack("creator", name="Again", credits=1, price_minor=100)
    bad: list[dict[str, Any]] = [
        {"credits": 0, "price_minor": 100},
        {"credits": 1, "price_minor": -1},
        {"credits": 1, "price_minor": 100, "currency": "USD"},
        {"credits": 1, "price_minor": 100, "bonus_credits": -1},
        {"credits": 1, "price_minor": 100, "is_free_once": True},
        {"credits": 1, "price_minor": 100, "expires_after_days": 0},
        {"credits": "0.0001", "price_minor": 100},
        {"credits": 1, "price_minor": 100, "badge": "x" * 41},
    ]
    for fields in bad:
        with pytest.raises(InvalidInput):
            shop.create_pack("new", name="New", **fields)
    assert [p.key for p in shop.packs(include_inactive=True)] == ["starter", "creator"]


def test_remove_of_a_bought_pack_deactivates_it_and_keeps_its_purchases(shop: Engine) -> None:
    completed(shop, "evt_1")

    shop.deactivate_pack("creator")

    assert shop.get_pack("creator").is_active is False
    assert shop.purchases("user_1").items[0].pack == "creator"


def test_get_purchase_of_another_account_is_not_found(shop: Engine) -> None:
    result = completed(shop, "evt_1")
    shop.create_account("user_2")

    with pytest.raises(PurchaseNotFound):
        shop.get_purchase("user_2", result.purchase_id or 0)


def test_sign_up_creates_the_account_with_its_welcome_once(engine: Engine) -> None:
    engine.apply_catalog({"welcome": {"credits": "50"}})
    signed_up = ProviderEvent(provider=Provider.CLERK, event_id="msg_1", type="user.created")
    resent = ProviderEvent(provider=Provider.CLERK, event_id="msg_2", type="user.created")

    outcomes = [
        engine.sign_up(signed_up, "user_9").outcome,
        engine.sign_up(signed_up, "user_9").outcome,
        engine.sign_up(resent, "user_9").outcome,
    ]

    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.NO_CHANGE]
    assert engine.balance("user_9").balance == c(50)


def test_close_account_freezes_it_and_keeps_its_ledger(shop: Engine) -> None:
    completed(shop, "evt_1")
    deleted = ProviderEvent(provider=Provider.CLERK, event_id="msg_1", type="user.deleted")

    result = shop.close_account(deleted, "user_1")

    assert result.outcome is Outcome.APPLIED
    assert shop.get_account("user_1").is_frozen
    with pytest.raises(AccountFrozen):
        shop.charge("user_1", 1)
    assert shop.balance("user_1").balance == c(120)


def test_one_event_delivered_by_many_threads_at_once_grants_once(
    shop: Engine, backend: str
) -> None:
    """20 deliveries of one event race; without the claim each would see the purchase
    unpaid. Checked once against a variant that skips the claim: the account lock still
    serialized them and the purchase status let one grant (NO_CHANGE for the rest), and with
    the status check also removed every thread granted."""
    start = threading.Barrier(20)

    def deliver(_: int) -> Outcome:
        start.wait()
        return completed(shop, "evt_1").outcome

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(deliver, range(20)))

    assert sorted(outcomes).count(Outcome.APPLIED) == 1
    assert outcomes.count(Outcome.DUPLICATE) == 19
    assert shop.balance("user_1").balance == c(120)
    assert shop.verify().problems == ()


def test_catalog_file_packs_are_created_changed_and_removed(shop: Engine) -> None:
    completed(shop, "evt_1")
    desired = {
        "packs": [
            {"key": "creator", "name": "Creator", "credits": "110", "price": 1299},
            {"key": "mega", "name": "Mega", "credits": "1000", "price": 7999, "badge": "best"},
        ]
    }

    planned = shop.apply_catalog(desired, dry_run=True)
    applied = shop.apply_catalog(desired)
    again = shop.apply_catalog(desired)

    assert [str(c) for c in planned] == [str(c) for c in applied]
    assert [c.kind.value for c in applied] == ["update_pack", "create_pack", "remove_pack"]
    assert again == ()
    assert shop.get_pack("creator").price_minor == 1299
    assert shop.get_pack("creator").bonus_credits == c(0)
    assert [p.key for p in shop.packs()] == ["creator", "mega"]
    with pytest.raises(PackNotFound):
        shop.get_pack("starter")  # never claimed: deleted


def test_export_catalog_round_trips_the_packs(shop: Engine) -> None:
    exported = shop.export_catalog()

    assert [p.key for p in exported.packs] == ["creator", "starter"]
    assert shop.apply_catalog(exported) == ()


def test_first_paid_purchase_grants_a_pending_referral_once(shop: Engine) -> None:
    shop.apply_catalog(
        {
            "referrals": {
                "referrer_credits": "20",
                "referee_credits": "10",
                "condition": "first_purchase",
            },
            "packs": [
                {"key": "creator", "name": "Creator", "credits": "110", "price": PRICE},
                {"key": "starter", "name": "Starter", "credits": "50", "price": 0,
                 "free_once": True},
            ],
        }
    )  # fmt: skip
    shop.create_account("friend")
    shop.refer("user_1", "friend")
    shop.claim_pack("user_1", "starter")  # free: not a purchase a referral waits for
    after_free = shop.balance("friend").balance

    completed(shop, "evt_1")
    completed(shop, "evt_2", reference="cs_2")

    assert after_free == c(0)
    assert shop.balance("friend").balance == c(20)
    assert shop.balance("user_1").balance == c(50 + 110 + 110 + 10)
    assert shop.verify().problems == ()


def test_sign_up_that_fails_after_the_claim_welcomes_once_when_redelivered(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim commits with the account and its welcome: a failure loses all three."""
    engine.apply_catalog({"welcome": {"credits": "50"}})
    original = account_rows.insert_account
    failures = iter([True])

    def failing_once(*args: Any, **kwargs: Any) -> bool:
        created = original(*args, **kwargs)
        if next(failures, False):
            raise RuntimeError("the database went away after the account was written")
        return created

    monkeypatch.setattr(account_rows, "insert_account", failing_once)
    signed_up = ProviderEvent(provider=Provider.CLERK, event_id="msg_1", type="user.created")
    with pytest.raises(RuntimeError):
        engine.sign_up(signed_up, "user_9")
    after_failure = engine.provider_events()

    outcomes = [engine.sign_up(signed_up, "user_9").outcome for _ in range(2)]

    assert after_failure == ()
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE]
    assert engine.balance("user_9").balance == c(50)
    assert engine.verify().problems == ()
