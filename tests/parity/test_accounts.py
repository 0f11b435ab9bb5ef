"""Accounts and members: the same results and errors from the engine and the client."""

from datetime import timedelta

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    InvalidInput,
    Ledger,
    Member,
    MemberNotFound,
    OwnerKind,
)
from tests.factories import funded_account, organization
from tests.parity.conftest import ON_SQLITE_ONLY, Faces


def test_create_account_answers_equal_accounts(faces: Faces) -> None:
    embedded, remote = faces.both(
        lambda ledger: ledger.create_account("user_1", floor="-5", metadata={"plan": "free"})
    )

    assert embedded == remote
    assert remote.floor == Credits.parse(-5)


def test_create_account_answers_equal_organizations(faces: Faces) -> None:
    embedded, remote = faces.both(
        lambda ledger: ledger.create_account(
            "org_1", owner_kind=OwnerKind.ORGANIZATION, is_unlimited=True
        )
    )

    assert embedded == remote
    assert remote.owner_kind is OwnerKind.ORGANIZATION


def test_create_account_answers_the_existing_account_unchanged_when_called_again(
    faces: Faces,
) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1", metadata={"plan": "free"}))
    faces.clock.advance(timedelta(minutes=1))

    embedded, remote = faces.both(
        lambda ledger: ledger.create_account("user_1", metadata={"plan": "pro"})
    )

    assert embedded == remote
    assert remote.metadata == {"plan": "free"}


def test_create_account_grants_equal_welcome_credits(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("image-models"))

    embedded, remote = faces.both(
        lambda ledger: (ledger.create_account("user_1"), ledger.history("user_1"))
    )

    assert embedded == remote
    assert [entry.source for entry in remote[1].items] == ["welcome"]


def test_create_account_starts_equal_default_plans(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.create_account("user_1"),
            ledger.history("user_1"),
            ledger.plan_overview("user_1"),
        )
    )

    assert embedded == remote
    assert [entry.source for entry in remote[1].items] == ["plan_cycle"]
    assert remote[2].subscription is not None
    assert (remote[2].subscription.plan, remote[2].balance.balance) == ("free", Credits(60_000))


def test_get_account_answers_equal_accounts(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1", metadata={"plan": "free"}))

    embedded, remote = faces.both(lambda ledger: ledger.get_account("user_1"))

    assert embedded == remote
    assert remote.metadata == {"plan": "free"}


@ON_SQLITE_ONLY
def test_get_account_raises_equal_account_not_found(faces: Faces) -> None:
    embedded, remote = faces.each(lambda ledger: ledger.get_account("nobody"))

    assert embedded == remote == AccountNotFound("nobody")


@ON_SQLITE_ONLY
def test_get_account_answers_the_account_when_its_id_needs_escaping(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user 1?#%..é"))

    embedded, remote = faces.both(lambda ledger: ledger.get_account("user 1?#%..é"))

    assert embedded == remote


@ON_SQLITE_ONLY
@pytest.mark.parametrize("account_id", [".", ".."])
def test_get_account_answers_the_account_when_its_id_is_a_dot_segment(
    faces: Faces, account_id: str
) -> None:
    faces.arrange(lambda engine: engine.create_account(account_id))

    embedded, remote = faces.both(lambda ledger: ledger.balance(account_id))

    assert embedded == remote


@ON_SQLITE_ONLY
@pytest.mark.parametrize("account_id", ["org/1", "/", "../x"])
def test_an_account_id_no_path_can_carry_raises_equal_invalid_input(
    faces: Faces, account_id: str
) -> None:
    embedded, remote = faces.each(lambda ledger: ledger.create_account(account_id))
    looked_up = faces.each(lambda ledger: ledger.get_account(account_id))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)
    assert remote.field == "account_id"
    assert looked_up[0] == looked_up[1]


def test_update_account_answers_equal_accounts(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.both(
        lambda ledger: ledger.update_account(
            "user_1", is_frozen=True, floor="-2.5", metadata={"tier": 2}
        )
    )

    assert embedded == remote
    assert (remote.is_frozen, remote.floor) == (True, Credits.parse("-2.5"))


@ON_SQLITE_ONLY
def test_update_account_raises_equal_invalid_input_when_the_floor_is_above_zero(
    faces: Faces,
) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.each(lambda ledger: ledger.update_account("user_1", floor=1))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)
    assert remote.field == "floor"


def test_balance_answers_equal_balances(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", "12.5"))

    embedded, remote = faces.both(lambda ledger: ledger.balance("user_1"))

    assert embedded == remote
    assert remote.available == Credits.parse("12.5")


def test_add_member_answers_equal_members(faces: Faces) -> None:
    faces.arrange(lambda engine: organization(engine, "org_1", 100))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.add_member("org_1", "user_7", spend_cap="40"),
            ledger.add_member("org_1", "user_8"),
            ledger.members("org_1"),
        )
    )

    assert embedded == remote
    assert [m.member_id for m in remote[2]] == ["user_7", "user_8"]


def test_remove_member_leaves_equal_members(faces: Faces) -> None:
    faces.arrange(lambda engine: organization(engine, "org_1", 100, "user_7", "user_8"))

    def act(ledger: Ledger) -> tuple[Member, ...]:
        ledger.remove_member("org_1", "user_7")
        return ledger.members("org_1")

    embedded, remote = faces.both(act)

    assert embedded == remote
    assert [m.member_id for m in remote] == ["user_8"]


@ON_SQLITE_ONLY
def test_remove_member_raises_equal_member_not_found_when_not_a_member(faces: Faces) -> None:
    faces.arrange(lambda engine: organization(engine, "org_1", 100))

    embedded, remote = faces.each(lambda ledger: ledger.remove_member("org_1", "user_9"))

    assert embedded == remote
    assert isinstance(remote, MemberNotFound)


@ON_SQLITE_ONLY
def test_add_member_raises_equal_invalid_input_when_the_account_is_a_person(
    faces: Faces,
) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.each(lambda ledger: ledger.add_member("user_1", "user_2"))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)
