"""Reading the ledger and its usage, and the operator's passes: equal on both faces."""

from datetime import timedelta

from creditgate import (
    Credits,
    Engine,
    Entry,
    EntryNotFound,
    ExpirePass,
    Ledger,
    Page,
    UsageEvent,
)
from creditgate.domain.ids import EntryId
from tests.conftest import START
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

MINUTE = timedelta(minutes=1)
PAGES_MAX = 20
"""A paging loop reads at most this many pages."""


def _busy(faces: Faces) -> None:
    """A studio account: welcome and purchased credits, then a call a minute, then a spend."""
    faces.arrange(lambda engine: engine.seed("media-studio"))
    faces.arrange(lambda engine: funded_account(engine, "user_1", 100))
    for _ in range(5):
        faces.clock.advance(MINUTE)
        faces.arrange(lambda engine: engine.charge("user_1", feature="audio.generate", quantity=15))
    faces.clock.advance(MINUTE)
    faces.arrange(lambda engine: engine.charge("user_1", 2, request_id="plain"))
    faces.clock.advance(MINUTE)


def _entry_pages(ledger: Ledger) -> list[Page[Entry]]:
    pages = [ledger.history("user_1", limit=2)]
    while pages[-1].next_cursor is not None and len(pages) < PAGES_MAX:
        pages.append(ledger.history("user_1", limit=2, cursor=pages[-1].next_cursor))
    return pages


def _usage_pages(ledger: Ledger) -> list[Page[UsageEvent]]:
    pages = [ledger.usage("user_1", limit=2)]
    while pages[-1].next_cursor is not None and len(pages) < PAGES_MAX:
        pages.append(ledger.usage("user_1", limit=2, cursor=pages[-1].next_cursor))
    return pages


def test_history_answers_equal_pages_when_followed_by_cursor(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(_entry_pages)

    assert embedded == remote
    assert [len(page.items) for page in remote] == [2, 2, 2, 2]


def test_history_answers_equal_pages_when_filtered(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(
        lambda ledger: ledger.history(
            "user_1",
            kinds=["charge"],
            since=START + 2 * MINUTE,
            until=START + 5 * MINUTE,
            feature="audio.generate",
        )
    )

    assert embedded == remote
    assert [entry.created_at for entry in remote.items] == [
        START + 4 * MINUTE,
        START + 3 * MINUTE,
        START + 2 * MINUTE,
    ]


def test_get_entry_answers_equal_entries(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(lambda ledger: ledger.get_entry(EntryId(3)))

    assert embedded == remote
    assert remote.moves


@ON_SQLITE_ONLY
def test_get_entry_raises_equal_entry_not_found(faces: Faces) -> None:
    embedded, remote = faces.each(lambda ledger: ledger.get_entry(EntryId(99)))

    assert embedded == remote == EntryNotFound(99)


def test_balance_at_answers_equal_balances(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(
        lambda ledger: ledger.balance_at("user_1", START + 3 * MINUTE + timedelta(seconds=1))
    )

    assert embedded == remote == Credits.parse(160 - 3)


def test_lifetime_answers_equal_figures(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(lambda ledger: ledger.lifetime("user_1"))

    assert embedded == remote
    assert remote.spent == Credits.parse(7)


def test_usage_answers_equal_pages_when_followed_by_cursor(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(_usage_pages)

    assert embedded == remote
    assert sum(len(page.items) for page in remote) == 6


def test_usage_answers_equal_pages_when_filtered(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(
        lambda ledger: ledger.usage(
            feature="audio.generate", outcome="succeeded", since=START + 2 * MINUTE
        )
    )

    assert embedded == remote
    assert len(remote.items) == 4


def test_usage_totals_answers_equal_totals(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(lambda ledger: ledger.usage_totals("user_1"))

    assert embedded == remote
    assert sum(total.events for total in remote) == 6


def _due(engine: Engine) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 10, source="promo", expires_at=START + MINUTE)
    engine.grant("user_1", 10, source="purchase")
    engine.hold("user_1", 3, ttl=MINUTE)


def test_expire_answers_equal_passes(faces: Faces) -> None:
    faces.arrange(_due)
    faces.clock.advance(2 * MINUTE)

    embedded, remote = faces.both(lambda ledger: (ledger.expire(), ledger.balance("user_1")))

    assert embedded == remote
    assert remote[0] == ExpirePass(
        accounts=1, lots_expired=1, holds_expired=1, credits_expired=Credits.parse(10)
    )


def test_verify_answers_equal_clean_reports(faces: Faces) -> None:
    _busy(faces)

    embedded, remote = faces.both(lambda ledger: ledger.verify())

    assert embedded == remote
    assert remote.is_clean
