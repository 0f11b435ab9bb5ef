"""An account's lots and holds: equal on both faces, results and errors alike."""

from collections.abc import Callable
from datetime import timedelta

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    Engine,
    Hold,
    HoldStatus,
    InvalidInput,
    Ledger,
    Page,
)
from tests.conftest import START
from tests.factories import DAY, funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

MINUTE = timedelta(minutes=1)
PAGES_MAX = 10
"""A paging loop reads at most this many pages."""

Act = Callable[[Ledger], object]


def _wallet(engine: Engine) -> None:
    """Lots of every burn-order rank, a spent one, an expiring one, and holds of each status.

    Two minutes on, the welcome lot has expired, and so has the 1-credit hold.
    """
    funded_account(engine, "user_1", 20)
    engine.grant("user_1", 5, source="promo", expires_at=START + 7 * DAY)
    engine.grant("user_1", 2, source="bonus", priority=-1)
    engine.grant("user_1", 4, source="welcome", priority=1, expires_at=START + MINUTE)
    engine.charge("user_1", 2)
    released = engine.hold("user_1", 3, ttl=MINUTE).hold
    settled = engine.hold("user_1", 3, ttl=timedelta(hours=1)).hold
    assert released is not None
    assert settled is not None
    engine.release(released.id)
    engine.settle(settled.id, 1)
    engine.hold("user_1", 1, ttl=MINUTE)
    engine.hold("user_1", 2, ttl=timedelta(hours=1), metadata={"job": "render"})


def test_lots_answer_equal_lists_in_burn_order(faces: Faces) -> None:
    faces.arrange(_wallet)
    faces.clock.advance(2 * MINUTE)

    embedded, remote = faces.both(lambda ledger: ledger.lots("user_1"))
    every = faces.both(lambda ledger: ledger.lots("user_1", include_spent=True))

    assert embedded == remote
    assert every[0] == every[1]
    assert [lot.source.value for lot in remote] == ["promo", "purchase"]
    assert [lot.source.value for lot in every[1]] == ["bonus", "promo", "purchase", "welcome"]
    balance = faces.engine.balance("user_1").balance
    assert sum((lot.remaining for lot in remote), Credits(0)) == balance


@pytest.mark.parametrize("status", [None, "pending", HoldStatus.EXPIRED, "released", "settled"])
def test_holds_answer_equal_pages_by_status(faces: Faces, status: str | None) -> None:
    faces.arrange(_wallet)
    faces.clock.advance(2 * MINUTE)

    embedded, remote = faces.both(lambda ledger: ledger.holds("user_1", status=status))

    assert embedded == remote
    assert remote.items != ()


def test_holds_answer_equal_pages_when_followed_by_cursor(faces: Faces) -> None:
    faces.arrange(_wallet)

    def pages(ledger: Ledger) -> list[Page[Hold]]:
        found = [ledger.holds("user_1", limit=3)]
        while found[-1].next_cursor is not None and len(found) < PAGES_MAX:
            found.append(ledger.holds("user_1", limit=3, cursor=found[-1].next_cursor))
        return found

    embedded, remote = faces.both(pages)

    assert embedded == remote
    assert [len(page.items) for page in remote] == [3, 1]


@ON_SQLITE_ONLY
@pytest.mark.parametrize(
    "act",
    [
        lambda ledger: ledger.lots("nobody"),
        lambda ledger: ledger.holds("nobody"),
    ],
    ids=["lots", "holds"],
)
def test_an_unknown_account_raises_an_equal_account_not_found(faces: Faces, act: Act) -> None:
    embedded, remote = faces.each(act)

    assert isinstance(remote, AccountNotFound)
    assert embedded == remote


@ON_SQLITE_ONLY
@pytest.mark.parametrize(
    "act",
    [
        lambda ledger: ledger.lots("user_1", include_spent="yes"),
        lambda ledger: ledger.lots(""),
        lambda ledger: ledger.holds("user_1", cursor="abc"),
    ],
    ids=["include_spent_not_a_bool", "account_id_empty", "cursor_not_one"],
)
def test_bad_input_raises_an_equal_invalid_input(faces: Faces, act: Act) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))

    embedded, remote = faces.each(act)

    assert isinstance(remote, InvalidInput)
    assert embedded == remote
