"""The ledger as read: history pages and filters, past balances, lifetime figures."""

from datetime import timedelta

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    ManualClock,
)
from tests.factories import DAY, MINUTE, funded_account

HOUR = timedelta(hours=1)


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def five_entries(engine: Engine, clock: ManualClock) -> None:
    """A grant and four charges, one hour apart, features alternating."""
    funded_account(engine, credits=100)
    for n, feature in enumerate(["image", "video", "image", "video"], start=1):
        clock.advance(HOUR)
        engine.charge("user_1", n, feature=feature)


def test_history_lists_entries_newest_first(engine: Engine, clock: ManualClock) -> None:
    five_entries(engine, clock)

    page = engine.history("user_1")

    assert [e.seq for e in page.items] == [5, 4, 3, 2, 1]
    assert [e.kind for e in page.items] == [EntryKind.CHARGE] * 4 + [EntryKind.GRANT]
    assert page.next_cursor is None


def test_history_pages_through_every_entry_once_with_the_cursor(
    engine: Engine, clock: ManualClock
) -> None:
    five_entries(engine, clock)
    first = engine.history("user_1", limit=2)
    assert first.next_cursor is not None
    second = engine.history("user_1", limit=2, cursor=first.next_cursor)
    assert second.next_cursor is not None

    third = engine.history("user_1", limit=2, cursor=second.next_cursor)

    pages = [first.items, second.items, third.items]
    assert [[e.seq for e in items] for items in pages] == [[5, 4], [3, 2], [1]]
    assert third.next_cursor is None


def test_history_has_no_next_cursor_when_the_last_page_is_exactly_full(
    engine: Engine, clock: ManualClock
) -> None:
    five_entries(engine, clock)

    page = engine.history("user_1", limit=5)

    assert len(page.items) == 5
    assert page.next_cursor is None


def test_history_cursor_stays_stable_when_new_entries_arrive(
    engine: Engine, clock: ManualClock
) -> None:
    five_entries(engine, clock)
    first = engine.history("user_1", limit=2)
    assert first.next_cursor is not None
    engine.charge("user_1", 1)

    second = engine.history("user_1", limit=2, cursor=first.next_cursor)

    assert [e.seq for e in second.items] == [3, 2]


def test_history_filters_by_kind(engine: Engine, clock: ManualClock) -> None:
    five_entries(engine, clock)
    hold = engine.hold("user_1", 1, ttl=MINUTE).hold
    assert hold is not None
    engine.release(hold.id)

    page = engine.history("user_1", kinds=["grant", EntryKind.RELEASE])

    assert [e.kind for e in page.items] == [EntryKind.RELEASE, EntryKind.GRANT]


def test_history_filters_by_time_range_including_since_and_excluding_until(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    five_entries(engine, clock)

    page = engine.history("user_1", since=start + HOUR, until=start + 3 * HOUR)

    assert [e.seq for e in page.items] == [3, 2]


def test_history_filters_by_feature(engine: Engine, clock: ManualClock) -> None:
    five_entries(engine, clock)

    page = engine.history("user_1", feature="video")

    assert [(e.seq, e.feature) for e in page.items] == [(5, "video"), (3, "video")]


def test_history_pages_through_a_filtered_listing(engine: Engine, clock: ManualClock) -> None:
    five_entries(engine, clock)
    first = engine.history("user_1", feature="image", limit=1)
    assert first.next_cursor is not None

    second = engine.history("user_1", feature="image", limit=1, cursor=first.next_cursor)

    assert [e.seq for e in first.items + second.items] == [4, 2]
    assert second.next_cursor is None


def test_history_shows_only_the_accounts_own_entries(engine: Engine) -> None:
    funded_account(engine, "user_1", credits=10)
    funded_account(engine, "user_2", credits=20)

    page = engine.history("user_2")

    assert [(e.account_id, e.amount) for e in page.items] == [("user_2", credits(20))]


def test_get_entry_returns_the_entry_as_written(engine: Engine) -> None:
    funded_account(engine, credits=10)
    charge = engine.charge("user_1", 2, feature="image", metadata={"n": 1})

    entry = engine.get_entry(charge.entry.id)

    assert entry == charge.entry


def test_balance_at_returns_the_balance_as_it_stood(engine: Engine, clock: ManualClock) -> None:
    start = clock.now()
    funded_account(engine, credits=10)
    clock.advance(HOUR)
    engine.charge("user_1", 3)
    clock.advance(HOUR)

    then = [engine.balance_at("user_1", start + d) for d in (-MINUTE, 30 * MINUTE, HOUR, 2 * HOUR)]

    assert then == [Credits(0), credits(10), credits(10 - 3), credits(10 - 3)]


def test_balance_at_sees_a_lot_before_its_expiry_and_not_after_it_without_a_sweep(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    engine.create_account("user_1")
    engine.grant("user_1", 7, source="promo", expires_at=start + DAY)
    engine.grant("user_1", 2, source="purchase")
    clock.advance(3 * DAY)

    before, at, after = (
        engine.balance_at("user_1", start + d) for d in (DAY - MINUTE, DAY, 2 * DAY)
    )

    assert (before, at, after) == (credits(7 + 2), credits(2), credits(2))
    assert engine.history("user_1", kinds=["expire"]).items == ()


def test_balance_at_is_the_same_before_and_after_the_sweep(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    engine.create_account("user_1")
    engine.grant("user_1", 7, source="promo", expires_at=start + DAY)
    clock.advance(3 * DAY)
    instants = [start + DAY - MINUTE, start + DAY, start + 2 * DAY]
    unswept = [engine.balance_at("user_1", at) for at in instants]

    engine.expire()

    assert [engine.balance_at("user_1", at) for at in instants] == unswept


def test_lifetime_splits_granted_credits_by_source(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="welcome")
    engine.grant("user_1", 20, source="purchase")
    engine.grant("user_1", "9.5", source="purchase")

    lifetime = engine.lifetime("user_1")

    assert lifetime.granted_by_source == {"purchase": credits("29.5"), "welcome": credits(5)}
    assert lifetime.granted == credits("34.5")


def test_lifetime_counts_spent_refunded_and_expired(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="welcome", expires_at=clock.now() + DAY)
    engine.grant("user_1", 20, source="purchase")
    charge = engine.charge("user_1", 4)
    hold = engine.hold("user_1", 3, ttl=MINUTE).hold
    assert hold is not None
    engine.settle(hold.id, 2)
    engine.refund(charge.entry.id, 1)
    clock.advance(2 * DAY)

    lifetime = engine.lifetime("user_1")

    welcome_left = 5 - 4 - 1 + 1
    assert lifetime.spent == credits(4 + 2)
    assert lifetime.refunded == credits(1)
    assert lifetime.expired == credits(welcome_left)
    assert engine.balance("user_1").balance == (
        lifetime.granted - lifetime.spent + lifetime.refunded - lifetime.expired
    )


def test_lifetime_counts_an_expiry_no_sweep_has_written(engine: Engine, clock: ManualClock) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 5, source="welcome", expires_at=clock.now() + DAY)
    clock.advance(DAY)

    lifetime = engine.lifetime("user_1")

    assert lifetime.expired == credits(5)
    assert lifetime.granted_by_source == {"welcome": credits(5)}
