"""Usage events: one per use of a feature, whatever became of it, and the queries over them."""

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from creditgate import (
    AccountFrozen,
    AccountNotFound,
    Credits,
    Engine,
    InsufficientCredits,
    InvalidInput,
    ManualClock,
    MemberCapExceeded,
    Outcome,
    OwnerKind,
    TokenCounts,
    UsageEvent,
)
from creditgate.domain.ids import HoldId
from tests.factories import MINUTE, funded_account

TTL = 5 * MINUTE
NAIVE = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the naive datetime is the bad input


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def priced_catalog(engine: Engine) -> None:
    """Images at a flat price (more for one model), chat per 1,000 tokens."""
    engine.create_feature("image.generate", name="Image")
    engine.set_price("image.generate", {"rule": "flat", "credits": "2"})
    engine.set_price("image.generate", {"rule": "flat", "credits": "4"}, model="flux-pro")
    engine.create_feature("chat.complete", name="Chat")
    engine.set_price("chat.complete", {"rule": "tokens", "input": "1", "output": "1"})


def chat_hold(engine: Engine, account_id: str, tokens: int, model: str = "gpt-4o") -> HoldId:
    """A priced hold for an LLM call of at most `tokens` tokens; its id."""
    receipt = engine.hold(
        account_id,
        ttl=TTL,
        feature="chat.complete",
        model=model,
        quantity=tokens,
        metadata={"prompt": "p1"},
    )
    assert receipt.hold is not None
    return receipt.hold.id


def only_event(engine: Engine, account_id: str | None = None) -> UsageEvent:
    (event,) = engine.usage(account_id).items
    return event


Row = tuple[str, str | None, str | None, Outcome, Credits]


def row(event: UsageEvent) -> Row:
    """What the query tests compare of an event."""
    return (event.account_id, event.feature, event.model, event.outcome, event.credits)


# A day of usage, oldest first: event n is written n - 1 minutes after the first.
DAY_OF_USAGE: list[Row] = [
    ("user_1", "image.generate", None, Outcome.SUCCEEDED, credits(2)),
    ("user_1", "image.generate", "flux-pro", Outcome.SUCCEEDED, credits(4)),
    ("user_2", "chat.complete", "gpt-4o", Outcome.SUCCEEDED, credits("1.5")),
    ("user_1", "chat.complete", "gpt-4o", Outcome.FAILED, credits(2)),
    ("user_2", "chat.complete", "gpt-4o", Outcome.RELEASED, credits(1)),
    ("user_2", "image.generate", "flux-pro", Outcome.REFUSED, credits(4)),
    ("user_1", "chat.complete", "claude", Outcome.SUCCEEDED, credits("2.5")),
    ("user_1", "image.generate", None, Outcome.SUCCEEDED, credits(2)),
]


def day_of_usage(engine: Engine, clock: ManualClock) -> datetime:
    """Write the events of DAY_OF_USAGE; the instant of the first."""
    priced_catalog(engine)
    funded_account(engine, "user_1", credits=20)
    funded_account(engine, "user_2", credits=3)
    start = clock.now()
    steps: list[Callable[[], object]] = [
        lambda: engine.charge("user_1", feature="image.generate"),
        lambda: engine.charge("user_1", feature="image.generate", model="flux-pro"),
        lambda: engine.charge("user_2", feature="chat.complete", model="gpt-4o", quantity=1500),
        lambda: engine.release(chat_hold(engine, "user_1", 2000), failure="provider error"),
        lambda: engine.release(chat_hold(engine, "user_2", 1000)),
        lambda: refused(engine),
        lambda: engine.settle(chat_hold(engine, "user_1", 3000, "claude"), quantity=2500),
        lambda: engine.charge("user_1", feature="image.generate"),
    ]
    for step in steps:
        step()
        clock.advance(MINUTE)
    return start


def refused(engine: Engine) -> None:
    with pytest.raises(InsufficientCredits):
        engine.charge("user_2", feature="image.generate", model="flux-pro")


def newest_first(*positions: int) -> list[Row]:
    """The rows of DAY_OF_USAGE at these 1-based positions, newest first."""
    return [DAY_OF_USAGE[p - 1] for p in sorted(positions, reverse=True)]


# What writes an event


def test_charge_writes_one_succeeded_event_with_its_cost_quantity_and_price(
    engine: Engine, clock: ManualClock
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    quantity = TokenCounts(input=1200, output=300)

    receipt = engine.charge(
        "user_1",
        feature="chat.complete",
        model="gpt-4o",
        quantity=quantity,
        request_id="req-1",
        metadata={"prompt": "p1"},
    )

    assert receipt.quote is not None
    assert only_event(engine, "user_1") == UsageEvent(
        id=only_event(engine).id,
        account_id=receipt.entry.account_id,
        member_id=None,
        feature="chat.complete",
        model="gpt-4o",
        quantity=quantity,
        credits=credits("1.5"),
        outcome=Outcome.SUCCEEDED,
        latency_ms=None,
        request_id="req-1",
        metadata={"prompt": "p1"},
        entry_id=receipt.entry.id,
        hold_id=None,
        price_id=receipt.quote.price_id,
        created_at=clock.now(),
    )


def test_charge_of_an_amount_writes_a_succeeded_event_without_a_price(engine: Engine) -> None:
    funded_account(engine, credits=10)

    receipt = engine.charge("user_1", 3, feature="image.generate")

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits, event.feature) == (
        Outcome.SUCCEEDED,
        credits(3),
        "image.generate",
    )
    assert (event.entry_id, event.price_id) == (receipt.entry.id, None)


def test_charge_of_an_unlimited_account_writes_its_cost(engine: Engine) -> None:
    priced_catalog(engine)
    engine.create_account("vip", is_unlimited=True)

    engine.charge("vip", feature="image.generate", model="flux-pro")

    assert only_event(engine, "vip").credits == credits(4)


def short_of_credits(engine: Engine) -> str:
    funded_account(engine, credits=3)
    return "user_1"


def frozen(engine: Engine) -> str:
    funded_account(engine, credits=10)
    engine.update_account("user_1", is_frozen=True)
    return "user_1"


def over_the_member_cap(engine: Engine) -> str:
    engine.create_account("org_1", owner_kind=OwnerKind.ORGANIZATION)
    engine.grant("org_1", 10, source="purchase")
    engine.add_member("org_1", "alice", spend_cap=3)
    return "org_1"


REFUSALS = [
    pytest.param(short_of_credits, InsufficientCredits, id="insufficient-credits"),
    pytest.param(frozen, AccountFrozen, id="frozen"),
    pytest.param(over_the_member_cap, MemberCapExceeded, id="member-cap"),
]


@pytest.mark.parametrize(("refusal", "error"), REFUSALS)
@pytest.mark.parametrize("spend", ["charge", "hold"])
def test_refused_spend_writes_one_refused_event_and_no_entry(
    engine: Engine,
    refusal: Callable[[Engine], str],
    error: type[Exception],
    spend: str,
) -> None:
    priced_catalog(engine)
    account_id = refusal(engine)
    member = "alice" if account_id == "org_1" else None
    before = engine.history(account_id).items
    quoted = engine.quote("image.generate", model="flux-pro")
    call: dict[str, Any] = {
        "feature": "image.generate",
        "model": "flux-pro",
        "member_id": member,
        "metadata": {"prompt": "p1"},
    }

    attempts: dict[str, Callable[[], object]] = {
        "charge": lambda: engine.charge(account_id, request_id="req-1", **call),
        "hold": lambda: engine.hold(account_id, ttl=TTL, **call),
    }

    with pytest.raises(error):
        attempts[spend]()

    event = only_event(engine, account_id)
    assert (event.outcome, event.credits, event.price_id) == (
        Outcome.REFUSED,
        credits(4),
        quoted.price_id,
    )
    assert (event.feature, event.model, event.member_id, event.metadata) == (
        "image.generate",
        "flux-pro",
        member,
        {"prompt": "p1"},
    )
    assert (event.entry_id, event.hold_id) == (None, None)
    assert engine.history(account_id).items == before


def test_refused_spend_of_an_amount_writes_the_amount_refused(engine: Engine) -> None:
    funded_account(engine, credits=3)

    with pytest.raises(InsufficientCredits):
        engine.charge("user_1", 5, feature="image.generate")

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits, event.price_id) == (Outcome.REFUSED, credits(5), None)


def test_spend_refused_as_a_bad_input_writes_no_event(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    with pytest.raises(InvalidInput):
        engine.charge("user_1", feature="image.generate", quantity=-1)

    assert engine.usage().items == ()


def test_hold_writes_no_event_until_it_ends(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    chat_hold(engine, "user_1", 4000)

    assert engine.usage().items == ()


@pytest.mark.parametrize(
    ("latency_ms", "request_id"), [(1234, "req-7"), (0, None), (None, "req-8"), (None, None)]
)
def test_settle_writes_a_succeeded_event_with_its_latency_and_request_id(
    engine: Engine, latency_ms: int | None, request_id: str | None
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, "user_1", 4000)

    receipt = engine.settle(hold_id, quantity=1500, latency_ms=latency_ms, request_id=request_id)

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits, event.quantity) == (
        Outcome.SUCCEEDED,
        credits("1.5"),
        1500,
    )
    assert (event.latency_ms, event.request_id) == (latency_ms, request_id)
    assert (event.hold_id, event.entry_id) == (hold_id, receipt.entry.id)
    assert event.price_id == engine.get_hold(hold_id).price_id
    assert (event.feature, event.model, event.metadata) == (
        "chat.complete",
        "gpt-4o",
        {"prompt": "p1"},
    )


def test_settle_of_an_amount_writes_the_amount_settled(engine: Engine) -> None:
    funded_account(engine, credits=10)
    receipt = engine.hold("user_1", 4, ttl=TTL, feature="image.generate")
    assert receipt.hold is not None

    engine.settle(receipt.hold.id, 3)

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits, event.hold_id) == (
        Outcome.SUCCEEDED,
        credits(3),
        receipt.hold.id,
    )


def test_release_writes_a_released_event_for_what_was_held(engine: Engine) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, "user_1", 4000)

    receipt = engine.release(hold_id, latency_ms=20, request_id="req-2")

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits) == (Outcome.RELEASED, credits(4))
    assert (event.hold_id, event.entry_id) == (hold_id, receipt.entry.id)
    assert (event.latency_ms, event.request_id) == (20, "req-2")
    assert event.price_id == engine.get_hold(hold_id).price_id
    assert event.metadata == {"prompt": "p1"}


def test_release_with_a_failure_writes_a_failed_event_with_the_failure_in_its_metadata(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    hold_id = chat_hold(engine, "user_1", 4000)

    engine.release(hold_id, failure="provider timed out")

    event = only_event(engine, "user_1")
    assert (event.outcome, event.credits, event.hold_id) == (Outcome.FAILED, credits(4), hold_id)
    assert event.metadata == {"prompt": "p1", "failure": "provider timed out"}


def charge_twice(engine: Engine) -> None:
    for _ in range(2):
        engine.charge("user_1", feature="image.generate", idempotency_key="k1")


def settle_twice(engine: Engine) -> None:
    hold_id = chat_hold(engine, "user_1", 4000)
    for _ in range(2):
        engine.settle(hold_id, quantity=1500, idempotency_key="k1")


def release_twice(engine: Engine) -> None:
    hold_id = chat_hold(engine, "user_1", 4000)
    for _ in range(2):
        engine.release(hold_id, failure="boom", idempotency_key="k1")


@pytest.mark.parametrize("twice", [charge_twice, settle_twice, release_twice])
def test_idempotent_replay_writes_no_second_event(
    engine: Engine, twice: Callable[[Engine], None]
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)

    twice(engine)

    assert len(engine.usage("user_1").items) == 1


# Queries


def test_usage_lists_every_event_newest_first(engine: Engine, clock: ManualClock) -> None:
    day_of_usage(engine, clock)

    page = engine.usage()

    assert [row(e) for e in page.items] == newest_first(*range(1, 9))
    assert page.next_cursor is None


@pytest.mark.parametrize(
    ("query", "positions"),
    [
        pytest.param({"account_id": "user_2"}, (3, 5, 6), id="account"),
        pytest.param({"feature": "chat.complete"}, (3, 4, 5, 7), id="feature"),
        pytest.param({"model": "gpt-4o"}, (3, 4, 5), id="model"),
        pytest.param({"model": "flux-pro"}, (2, 6), id="model-exact-name"),
        pytest.param({"outcome": Outcome.SUCCEEDED}, (1, 2, 3, 7, 8), id="outcome"),
        pytest.param({"outcome": "refused"}, (6,), id="outcome-as-text"),
        pytest.param({"outcome": "failed"}, (4,), id="outcome-failed"),
        pytest.param({"outcome": "released"}, (5,), id="outcome-released"),
        pytest.param(
            {"account_id": "user_1", "feature": "image.generate"}, (1, 2, 8), id="combined"
        ),
        pytest.param({"feature": "video.generate"}, (), id="no-match"),
    ],
)
def test_usage_filters_events(
    engine: Engine, clock: ManualClock, query: dict[str, Any], positions: tuple[int, ...]
) -> None:
    day_of_usage(engine, clock)

    page = engine.usage(**query)

    assert [row(e) for e in page.items] == newest_first(*positions)


@pytest.mark.parametrize(
    ("since", "until", "positions"),
    [
        (2, 5, (3, 4, 5)),
        (7, None, (8,)),
        (None, 2, (1, 2)),
        (None, 1, (1,)),
        (None, 0, ()),
        (4, 4, ()),
    ],
)
def test_usage_filters_by_a_time_range_from_since_up_to_until(
    engine: Engine,
    clock: ManualClock,
    since: int | None,
    until: int | None,
    positions: tuple[int, ...],
) -> None:
    start = day_of_usage(engine, clock)

    page = engine.usage(
        since=None if since is None else start + since * MINUTE,
        until=None if until is None else start + until * MINUTE,
    )

    assert [row(e) for e in page.items] == newest_first(*positions)


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 7, 8, 9])
def test_usage_pages_through_every_event_without_duplicates_or_gaps(
    engine: Engine, clock: ManualClock, limit: int
) -> None:
    day_of_usage(engine, clock)
    everything = engine.usage(limit=500).items

    pages = []
    cursor = None
    while True:
        page = engine.usage(limit=limit, cursor=cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [e for items in pages for e in items] == list(everything)
    assert all(len(items) == limit for items in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit
    assert len(pages) == -(-len(DAY_OF_USAGE) // limit)


def test_usage_pages_of_one_account_stay_within_it(engine: Engine, clock: ManualClock) -> None:
    day_of_usage(engine, clock)

    first = engine.usage("user_2", limit=2)
    second = engine.usage("user_2", limit=2, cursor=first.next_cursor)

    assert [row(e) for e in first.items + second.items] == newest_first(3, 5, 6)
    assert second.next_cursor is None


def test_usage_totals_sums_events_and_credits_per_feature_model_and_outcome(
    engine: Engine, clock: ManualClock
) -> None:
    day_of_usage(engine, clock)

    totals = engine.usage_totals()

    assert [(t.feature, t.model, t.outcome, t.events, t.credits) for t in totals] == [
        ("chat.complete", "claude", Outcome.SUCCEEDED, 1, credits("2.5")),
        ("chat.complete", "gpt-4o", Outcome.FAILED, 1, credits(2)),
        ("chat.complete", "gpt-4o", Outcome.RELEASED, 1, credits(1)),
        ("chat.complete", "gpt-4o", Outcome.SUCCEEDED, 1, credits("1.5")),
        ("image.generate", None, Outcome.SUCCEEDED, 2, credits(4)),
        ("image.generate", "flux-pro", Outcome.REFUSED, 1, credits(4)),
        ("image.generate", "flux-pro", Outcome.SUCCEEDED, 1, credits(4)),
    ]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({}, id="all"),
        pytest.param({"account_id": "user_1"}, id="account"),
        pytest.param({"feature": "chat.complete"}, id="feature"),
        pytest.param({"model": "flux-pro"}, id="model"),
        pytest.param({"since": 2, "until": 6}, id="time-range"),
    ],
)
def test_usage_totals_match_a_sum_of_the_usage_pages(
    engine: Engine, clock: ManualClock, query: dict[str, Any]
) -> None:
    start = day_of_usage(engine, clock)
    query = {
        name: start + value * MINUTE if name in ("since", "until") else value
        for name, value in query.items()
    }
    summed: Counter[tuple[str | None, str | None, Outcome]] = Counter()
    counted: Counter[tuple[str | None, str | None, Outcome]] = Counter()
    cursor = None
    while True:
        page = engine.usage(limit=3, cursor=cursor, **query)
        for event in page.items:
            group = (event.feature, event.model, event.outcome)
            summed[group] += event.credits.units
            counted[group] += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    totals = engine.usage_totals(**query)

    assert {(t.feature, t.model, t.outcome): (t.events, t.credits.units) for t in totals} == {
        group: (counted[group], summed[group]) for group in counted
    }
    assert totals != ()


def test_usage_totals_of_an_account_without_events_is_empty(engine: Engine) -> None:
    engine.create_account("user_1")

    assert engine.usage_totals("user_1") == ()


@pytest.mark.parametrize("query", ["usage", "usage_totals"])
def test_usage_raises_account_not_found_for_an_unknown_account(engine: Engine, query: str) -> None:
    engine.create_account("user_1")

    with pytest.raises(AccountNotFound):
        getattr(engine, query)("ghost")


BAD_CURSORS: list[Any] = [
    pytest.param("", id="empty"),
    pytest.param("abc", id="letters"),
    pytest.param("0", id="zero"),
    pytest.param("-5", id="negative"),
    pytest.param("1.5", id="fraction"),
    pytest.param("9" * 20, id="too-long"),
    pytest.param(5, id="not-text"),
    pytest.param("\u00b2", id="superscript-digit"),
]


@pytest.mark.parametrize("cursor", BAD_CURSORS)
def test_usage_raises_invalid_input_for_a_bad_cursor(engine: Engine, cursor: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.usage(cursor=cursor)

    assert raised.value.field == "cursor"


@pytest.mark.parametrize("limit", [0, -1, 501, True, "10", 2.0, None])
def test_usage_raises_invalid_input_for_a_bad_limit(engine: Engine, limit: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.usage(limit=limit)

    assert raised.value.field == "limit"


BAD_OUTCOMES: list[Any] = [
    pytest.param("success", id="unknown"),
    pytest.param("SUCCEEDED", id="wrong-case"),
    pytest.param("", id="empty"),
    pytest.param(1, id="not-text"),
    pytest.param(["succeeded"], id="list"),
]


@pytest.mark.parametrize("outcome", BAD_OUTCOMES)
def test_usage_raises_invalid_input_for_a_bad_outcome(engine: Engine, outcome: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.usage(outcome=outcome)

    assert raised.value.field == "outcome"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param({"since": NAIVE}, "since", id="naive-since"),
        pytest.param({"until": "2026-01-01"}, "until", id="text-until"),
        pytest.param({"model": "bad model"}, "model", id="bad-model"),
        pytest.param({"feature": ""}, "feature", id="empty-feature"),
        pytest.param({"account_id": ""}, "account_id", id="empty-account"),
    ],
)
@pytest.mark.parametrize("query_name", ["usage", "usage_totals"])
def test_usage_raises_invalid_input_for_a_bad_filter(
    engine: Engine, query_name: str, query: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        getattr(engine, query_name)(**query)

    assert raised.value.field == field


def test_usage_reads_events_in_the_order_they_were_written_within_one_instant(
    engine: Engine,
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    receipts = [engine.charge("user_1", feature="image.generate") for _ in range(3)]

    events = engine.usage("user_1").items

    assert [e.entry_id for e in events] == [r.entry.id for r in reversed(receipts)]
    assert len({e.created_at for e in events}) == 1


def test_usage_since_includes_an_event_at_exactly_that_instant(
    engine: Engine, clock: ManualClock
) -> None:
    priced_catalog(engine)
    funded_account(engine, credits=10)
    clock.advance(timedelta(seconds=1))
    at = clock.now()
    engine.charge("user_1", feature="image.generate")

    since, until = engine.usage(since=at), engine.usage(until=at)

    assert (len(since.items), until.items) == (1, ())
