"""An account's lots and holds, and the console's purchases and subscriptions, on both databases.

The lots are listed in the one burn order, as of now: a lot past its expiry has nothing
left and a hold past its ttl has expired, whether or not the expiry pass has run, so what
is listed adds up to the balance.
"""

from collections.abc import Callable
from datetime import timedelta

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    Engine,
    HoldStatus,
    InvalidInput,
    Lot,
    ManualClock,
    Provider,
    PurchaseStatus,
)
from creditgate.domain.ids import HoldId
from creditgate.domain.plans import SubscriptionStatus, subscription_status
from tests.conftest import START
from tests.factories import DAY, MINUTE, bought, funded_account

PAGES_MAX = 20
"""A paging loop reads at most this many pages."""

Read = Callable[[Engine], object]


def c(value: int | str) -> Credits:
    return Credits.parse(value)


def _sources(lots: tuple[Lot, ...]) -> list[str]:
    return [lot.source.value for lot in lots]


def _held(engine: Engine, account_id: str, amount: int, ttl: timedelta = MINUTE) -> HoldId:
    hold = engine.hold(account_id, amount, ttl=ttl).hold
    assert hold is not None
    return hold.id


def test_lots_are_listed_in_burn_order(engine: Engine) -> None:
    funded_account(engine, "user_1", 10)
    engine.grant("user_1", 4, source="welcome", expires_at=START + 30 * DAY)
    engine.grant("user_1", 3, source="promo", expires_at=START + 7 * DAY)
    engine.grant("user_1", 2, source="bonus", priority=-5)
    engine.grant("user_1", 1, source="referral", priority=5, expires_at=START + DAY)

    lots = engine.lots("user_1")

    assert _sources(lots) == ["bonus", "promo", "welcome", "purchase", "referral"]
    assert [lot.expires_at for lot in lots] == [
        None,
        START + 7 * DAY,
        START + 30 * DAY,
        None,
        START + DAY,
    ]
    assert (lots[0].amount, lots[0].remaining, lots[0].priority) == (c(2), c(2), -5)


def test_a_charge_takes_from_the_first_listed_lot(engine: Engine) -> None:
    funded_account(engine, "user_1", 10)
    engine.grant("user_1", 3, source="promo", expires_at=START + 7 * DAY)
    first = engine.lots("user_1")[0]

    engine.charge("user_1", 2)

    after = {lot.id: lot.remaining for lot in engine.lots("user_1")}
    assert (first.source.value, after[first.id]) == ("promo", c(1))


def test_spent_lots_are_listed_only_when_asked(engine: Engine) -> None:
    funded_account(engine, "user_1", 5)
    engine.grant("user_1", 3, source="bonus", priority=-1)
    engine.charge("user_1", 4)

    live = engine.lots("user_1")
    every = engine.lots("user_1", include_spent=True)

    assert [(lot.source.value, lot.remaining) for lot in live] == [("purchase", c(4))]
    assert [(lot.source.value, lot.remaining) for lot in every] == [
        ("bonus", c(0)),
        ("purchase", c(4)),
    ]


def test_an_expired_lot_reads_alike_before_and_after_the_expiry_pass(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 10)
    engine.grant("user_1", 5, source="promo", expires_at=START + DAY)
    clock.advance(2 * DAY)

    before = (engine.lots("user_1"), engine.lots("user_1", include_spent=True))
    engine.expire()
    after = (engine.lots("user_1"), engine.lots("user_1", include_spent=True))

    assert before == after
    assert _sources(after[0]) == ["purchase"]
    assert [(lot.source.value, lot.remaining) for lot in after[1]] == [
        ("promo", c(0)),
        ("purchase", c(10)),
    ]
    assert sum(lot.remaining.units for lot in before[0]) == engine.balance("user_1").balance.units


def test_an_expired_lot_a_live_hold_pins_keeps_only_the_pinned_part(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="promo", expires_at=START + DAY)
    engine.grant("user_1", 10, source="purchase")
    clock.advance(DAY - MINUTE)
    _held(engine, "user_1", 3, ttl=timedelta(hours=1))
    clock.advance(2 * MINUTE)

    lots = engine.lots("user_1")

    assert [(lot.source.value, lot.remaining, lot.held) for lot in lots] == [
        ("promo", c(3), c(3)),
        ("purchase", c(10), c(0)),
    ]
    assert sum(lot.remaining.units for lot in lots) == engine.balance("user_1").balance.units


def test_a_hold_past_its_ttl_lets_go_of_its_lots_before_the_pass(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 10)
    _held(engine, "user_1", 4)
    pinned = engine.lots("user_1")
    clock.advance(2 * MINUTE)

    before = engine.lots("user_1")
    engine.expire()

    assert [lot.held for lot in pinned] == [c(4)]
    assert [lot.held for lot in before] == [c(0)]
    assert before == engine.lots("user_1")


def test_holds_are_listed_newest_first_with_their_status_as_of_now(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 100)
    settled = _held(engine, "user_1", 5)
    released = _held(engine, "user_1", 5)
    expired = _held(engine, "user_1", 5)
    engine.settle(settled, 3)
    engine.release(released)
    clock.advance(2 * MINUTE)
    pending = _held(engine, "user_1", 5)

    page = engine.holds("user_1")

    assert [(h.id, h.status) for h in page.items] == [
        (pending, HoldStatus.PENDING),
        (expired, HoldStatus.EXPIRED),
        (released, HoldStatus.RELEASED),
        (settled, HoldStatus.SETTLED),
    ]
    assert page.next_cursor is None
    assert page.items[1] == engine.get_hold(expired)


def test_a_hold_past_its_ttl_reads_the_same_before_and_after_the_expiry_pass(
    engine: Engine, clock: ManualClock
) -> None:
    funded_account(engine, "user_1", 100)
    overdue = _held(engine, "user_1", 5)
    clock.advance(2 * MINUTE)

    before = (engine.get_hold(overdue), engine.holds("user_1").items)
    engine.expire()
    after = (engine.get_hold(overdue), engine.holds("user_1").items)

    assert before == after
    assert (after[0].status, after[0].ended_at) == (HoldStatus.EXPIRED, after[0].expires_at)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", [3]),
        (HoldStatus.EXPIRED, [2]),
        ("released", [1]),
        ("settled", []),
    ],
)
def test_holds_filter_by_status_as_of_now(
    engine: Engine, clock: ManualClock, status: str, expected: list[int]
) -> None:
    funded_account(engine, "user_1", 100)
    engine.release(_held(engine, "user_1", 5))
    _held(engine, "user_1", 5)
    clock.advance(2 * MINUTE)
    _held(engine, "user_1", 5)

    found = engine.holds("user_1", status=status)

    assert [h.id for h in found.items] == expected


def test_holds_page_with_the_next_cursor(engine: Engine) -> None:
    funded_account(engine, "user_1", 100)
    made = [_held(engine, "user_1", 1) for _ in range(5)]

    pages = [engine.holds("user_1", limit=2)]
    while pages[-1].next_cursor is not None and len(pages) < PAGES_MAX:
        pages.append(engine.holds("user_1", limit=2, cursor=pages[-1].next_cursor))

    assert [len(page.items) for page in pages] == [2, 2, 1]
    assert [h.id for page in pages for h in page.items] == made[::-1]


def test_another_accounts_holds_and_lots_are_not_listed(engine: Engine) -> None:
    funded_account(engine, "user_1", 10)
    funded_account(engine, "user_2", 20)
    _held(engine, "user_2", 5)

    assert engine.holds("user_1").items == ()
    assert [lot.amount for lot in engine.lots("user_1")] == [c(10)]


@pytest.mark.parametrize(
    "read",
    [
        lambda engine: engine.lots("nobody"),
        lambda engine: engine.holds("nobody"),
        lambda engine: engine.holds("nobody", status="pending"),
    ],
    ids=["lots", "holds", "holds_by_status"],
)
def test_reads_of_an_unknown_account_raise_account_not_found(engine: Engine, read: Read) -> None:
    with pytest.raises(AccountNotFound):
        read(engine)


@pytest.mark.parametrize(
    ("read", "field"),
    [
        (lambda engine: engine.holds("user_1", status="won"), "status"),
        (lambda engine: engine.holds("user_1", status=5), "status"),
        (lambda engine: engine.holds("user_1", limit=0), "limit"),
        (lambda engine: engine.holds("user_1", limit=501), "limit"),
        (lambda engine: engine.holds("user_1", cursor="abc"), "cursor"),
        (lambda engine: engine.lots("user_1", include_spent="yes"), "include_spent"),
        (lambda engine: engine.lots(""), "account_id"),
        (lambda engine: engine.recent_purchases(status="lost"), "status"),
        (lambda engine: engine.recent_purchases(limit=0), "limit"),
        (lambda engine: engine.subscriptions(status="paused"), "status"),
        (lambda engine: engine.subscriptions(cursor="-1"), "cursor"),
    ],
    ids=[
        "hold_status_unknown",
        "hold_status_not_text",
        "holds_limit_zero",
        "holds_limit_too_large",
        "holds_cursor_not_one",
        "include_spent_not_a_bool",
        "account_id_empty",
        "purchase_status_unknown",
        "purchases_limit_zero",
        "subscription_status_unknown",
        "subscriptions_cursor_negative",
    ],
)
def test_bad_arguments_raise_invalid_input_naming_the_field(
    engine: Engine, read: Read, field: str
) -> None:
    funded_account(engine, "user_1", 10)

    with pytest.raises(InvalidInput) as raised:
        read(engine)

    assert raised.value.field == field


def _shop(engine: Engine) -> None:
    engine.create_pack("creator", name="Creator", credits=110, price_minor=1499)
    for person in ("user_1", "user_2", "user_3"):
        engine.create_account(person)


def test_recent_purchases_list_every_accounts_newest_first(engine: Engine) -> None:
    _shop(engine)
    bought(engine, "user_1", "creator", 1499)
    bought(engine, "user_2", "creator", 1499)
    pending = engine.open_checkout("user_3", "creator", provider=Provider.STRIPE, reference="cs_3")

    every = engine.recent_purchases()
    paid = engine.recent_purchases(status=PurchaseStatus.PAID)
    waiting = engine.recent_purchases(status="pending")

    assert [(p.account_id, p.status) for p in every.items] == [
        ("user_3", PurchaseStatus.PENDING),
        ("user_2", PurchaseStatus.PAID),
        ("user_1", PurchaseStatus.PAID),
    ]
    assert [p.account_id for p in paid.items] == ["user_2", "user_1"]
    assert waiting.items == (pending,)
    assert every.items[1] == engine.get_purchase("user_2", every.items[1].id)


def test_recent_purchases_page_with_the_next_cursor(engine: Engine) -> None:
    _shop(engine)
    for person in ("user_1", "user_2", "user_3"):
        bought(engine, person, "creator", 1499)

    first = engine.recent_purchases(limit=2)
    rest = engine.recent_purchases(limit=2, cursor=first.next_cursor)

    assert [p.account_id for p in first.items + rest.items] == ["user_3", "user_2", "user_1"]
    assert rest.next_cursor is None


def test_subscriptions_list_every_accounts_with_their_status(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_plan("basic", name="Basic", credits=10, prices={"month": 900})
    for person in ("user_1", "user_2", "user_3"):
        engine.create_account(person)
        engine.subscribe(person, "basic")
    engine.cancel_subscription("user_3")
    clock.advance(40 * DAY)
    engine.balance("user_3")  # a read writes the renewal that fell due: user_3's plan ends
    engine.cancel_subscription("user_2")

    listed = engine.subscriptions()
    ended = engine.subscriptions(status=SubscriptionStatus.ENDED)

    assert [(s.account_id, subscription_status(s)) for s in listed.items] == [
        ("user_3", SubscriptionStatus.ENDED),
        ("user_2", SubscriptionStatus.CANCELLING),
        ("user_1", SubscriptionStatus.ACTIVE),
    ]
    assert [s.account_id for s in ended.items] == ["user_3"]
    assert [s.plan for s in listed.items] == ["basic", "basic", "basic"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("active", ["user_1"]), ("cancelling", ["user_2"]), ("awaiting_payment", []), ("ended", [])],
)
def test_subscriptions_filter_by_status(engine: Engine, status: str, expected: list[str]) -> None:
    engine.create_plan("basic", name="Basic", credits=10, prices={"month": 900})
    for person in ("user_1", "user_2"):
        engine.create_account(person)
        engine.subscribe(person, "basic")
    engine.cancel_subscription("user_2")

    found = engine.subscriptions(status=status)

    assert [s.account_id for s in found.items] == expected
    assert all(subscription_status(s) == status for s in found.items)
