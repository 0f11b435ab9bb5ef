"""Organization members: they spend from the organization's wallet, within an optional cap."""

from datetime import UTC, datetime

import pytest

from creditgate import (
    Credits,
    Engine,
    EntryKind,
    InsufficientCredits,
    InvalidInput,
    ManualClock,
    MemberCapExceeded,
    MemberNotFound,
)
from tests.factories import MINUTE, funded_account, organization


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def test_charge_by_member_takes_from_the_organizations_wallet(engine: Engine) -> None:
    organization(engine, "org_1", 10, "alice")

    receipt = engine.charge("org_1", 3, member_id="alice")

    assert receipt.credits_used == credits(3)
    assert engine.balance("org_1").balance == credits(10 - 3)
    assert engine.verify().is_clean


def test_charge_by_member_attributes_the_usage_to_the_member(engine: Engine) -> None:
    organization(engine, "org_1", 10, "alice", "bob")
    engine.charge("org_1", 2, member_id="alice", feature="image.generate")
    engine.charge("org_1", 1, member_id="bob")

    charges = engine.history("org_1", kinds=[EntryKind.CHARGE]).items

    assert [(e.member_id, e.amount) for e in charges] == [
        ("bob", -credits(1)),
        ("alice", -credits(2)),
    ]


def test_charge_by_member_adds_to_the_members_spent(engine: Engine) -> None:
    organization(engine, "org_1", 10, "alice", "bob")
    engine.charge("org_1", 2, member_id="alice")
    engine.charge("org_1", "1.5", member_id="alice")

    members = {m.member_id: m.spent for m in engine.members("org_1")}

    assert members == {"alice": credits("3.5"), "bob": credits(0)}


def test_charge_by_member_succeeds_up_to_exactly_the_cap(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    engine.charge("org_1", 3, member_id="alice")

    receipt = engine.charge("org_1", 2, member_id="alice")

    assert receipt.credits_remaining == credits(10 - 5)
    assert engine.verify().is_clean


def test_charge_by_member_raises_member_cap_exceeded_past_the_cap(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    engine.charge("org_1", 3, member_id="alice")

    with pytest.raises(MemberCapExceeded) as raised:
        engine.charge("org_1", 3, member_id="alice")

    assert raised.value.required == credits(3)
    assert raised.value.available == credits(5 - 3)
    assert raised.value.shortfall == credits(1)
    assert engine.balance("org_1").balance == credits(10 - 3)
    assert len(engine.history("org_1").items) == 2
    assert engine.verify().is_clean


def test_charge_by_member_counts_pending_holds_against_the_cap(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    engine.hold("org_1", 4, ttl=MINUTE, member_id="alice")

    with pytest.raises(MemberCapExceeded) as raised:
        engine.charge("org_1", 2, member_id="alice")

    assert raised.value.available == credits(5 - 4)


def test_settle_by_member_raises_member_cap_exceeded_when_the_extra_passes_the_cap(
    engine: Engine,
) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    hold = engine.hold("org_1", 4, ttl=MINUTE, member_id="alice").hold
    assert hold is not None

    with pytest.raises(MemberCapExceeded):
        engine.settle(hold.id, 6)

    assert engine.get_hold(hold.id).status == "pending"
    assert engine.verify().is_clean


def test_refund_of_a_member_charge_gives_back_cap(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    charge = engine.charge("org_1", 5, member_id="alice")

    engine.refund(charge.entry.id, 2)

    assert engine.members("org_1")[0].spent == credits(5 - 2)
    assert engine.charge("org_1", 2, member_id="alice").entry.member_id == "alice"


def test_charge_by_member_raises_insufficient_credits_when_the_wallet_is_short(
    engine: Engine,
) -> None:
    organization(engine, "org_1", 2)
    engine.add_member("org_1", "alice", spend_cap=50)

    with pytest.raises(InsufficientCredits) as raised:
        engine.charge("org_1", 3, member_id="alice")

    assert type(raised.value) is InsufficientCredits
    assert raised.value.available == credits(2)


def test_charge_by_non_member_raises_member_not_found_and_writes_nothing(engine: Engine) -> None:
    organization(engine, "org_1", 10, "alice")

    with pytest.raises(MemberNotFound) as raised:
        engine.charge("org_1", 1, member_id="mallory")

    assert raised.value.id == "mallory"
    assert engine.balance("org_1").balance == credits(10)
    assert len(engine.history("org_1").items) == 1


def test_remove_member_stops_spending_and_keeps_past_usage_attributed(engine: Engine) -> None:
    organization(engine, "org_1", 10, "alice")
    charge = engine.charge("org_1", 1, member_id="alice")
    engine.remove_member("org_1", "alice")

    with pytest.raises(MemberNotFound):
        engine.charge("org_1", 1, member_id="alice")

    assert engine.members("org_1") == ()
    assert engine.get_entry(charge.entry.id).member_id == "alice"


def test_remove_member_raises_member_not_found_when_not_a_member(engine: Engine) -> None:
    organization(engine, "org_1", 10)

    with pytest.raises(MemberNotFound):
        engine.remove_member("org_1", "alice")


def test_charge_with_member_id_on_a_user_account_raises_member_not_found(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with pytest.raises(MemberNotFound):
        engine.charge("user_1", 1, member_id="alice")

    assert engine.balance("user_1").balance == credits(10)


def test_add_member_refuses_a_user_account(engine: Engine) -> None:
    funded_account(engine, credits=10)

    with pytest.raises(InvalidInput) as raised:
        engine.add_member("user_1", "alice")

    assert raised.value.field == "account_id"


def test_add_member_again_changes_the_cap_and_keeps_what_was_spent(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=2)
    engine.charge("org_1", 2, member_id="alice")

    member = engine.add_member("org_1", "alice", spend_cap=6)

    assert (member.spend_cap, member.spent) == (credits(6), credits(2))
    assert engine.charge("org_1", 4, member_id="alice").credits_used == credits(4)


def test_members_lists_the_members_by_id(engine: Engine) -> None:
    organization(engine, "org_1", 10, "carol", "alice")
    engine.add_member("org_1", "bob", spend_cap="2.5")

    members = engine.members("org_1")

    assert [(m.member_id, m.spend_cap) for m in members] == [
        ("alice", None),
        ("bob", credits("2.5")),
        ("carol", None),
    ]


def test_charge_without_member_is_not_capped(engine: Engine) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=1)

    receipt = engine.charge("org_1", 8)

    assert receipt.entry.member_id is None
    assert receipt.credits_remaining == credits(10 - 8)


def test_hold_by_member_past_its_ttl_no_longer_counts_against_the_cap(
    engine: Engine, clock: ManualClock
) -> None:
    organization(engine, "org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    engine.hold("org_1", 5, ttl=MINUTE, member_id="alice")
    clock.advance(MINUTE)

    receipt = engine.charge("org_1", 5, member_id="alice")

    assert receipt.credits_remaining == credits(10 - 5)
    assert engine.verify().is_clean


# Caps per period


def test_monthly_cap_starts_again_with_the_calendar_month(
    engine: Engine, clock: ManualClock
) -> None:
    """START is Jan 1: 8 of a cap of 10 spent in January leaves 2; February starts at 0."""
    organization(engine, "org_1", 100)
    engine.add_member("org_1", "alice", spend_cap=10, cap_period="month")
    engine.charge("org_1", 8, member_id="alice")

    with pytest.raises(MemberCapExceeded):
        engine.charge("org_1", 3, member_id="alice")
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    engine.charge("org_1", 9, member_id="alice")

    (alice,) = engine.members("org_1")
    assert (alice.spent, alice.period_started_at) == (credits(9), datetime(2026, 2, 1, tzinfo=UTC))
    assert engine.balance("org_1").balance == credits(100 - 8 - 9)


def test_members_show_nothing_spent_once_the_period_has_turned(
    engine: Engine, clock: ManualClock
) -> None:
    organization(engine, "org_1", 100)
    engine.add_member("org_1", "alice", spend_cap=10, cap_period="month")
    engine.charge("org_1", 8, member_id="alice")

    clock.set(datetime(2026, 3, 15, tzinfo=UTC))

    (alice,) = engine.members("org_1")
    assert alice.spent == credits(0)


def test_cycle_cap_starts_again_with_the_plan_cycle(engine: Engine, clock: ManualClock) -> None:
    """The plan's cycle starts Jan 1 12:00 and turns Feb 1 12:00: not at midnight."""
    engine.create_plan("team", name="Team", credits=100, prices={"month": 4900})
    engine.create_account("org_1", owner_kind="organization")
    engine.subscribe("org_1", "team")
    engine.add_member("org_1", "alice", spend_cap=10, cap_period="cycle")
    engine.charge("org_1", 10, member_id="alice")

    clock.set(datetime(2026, 2, 1, 6, tzinfo=UTC))
    with pytest.raises(MemberCapExceeded):
        engine.charge("org_1", 1, member_id="alice")
    clock.set(datetime(2026, 2, 1, 12, tzinfo=UTC))
    engine.charge("org_1", 10, member_id="alice")

    (alice,) = engine.members("org_1")
    assert alice.spent == credits(10)
    assert engine.verify().is_clean


def test_refund_of_an_earlier_month_gives_nothing_back_to_this_months_cap(
    engine: Engine, clock: ManualClock
) -> None:
    organization(engine, "org_1", 100)
    engine.add_member("org_1", "alice", spend_cap=10, cap_period="month")
    january = engine.charge("org_1", 6, member_id="alice").entry
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    engine.charge("org_1", 7, member_id="alice")

    engine.refund(january.id)

    (alice,) = engine.members("org_1")
    assert alice.spent == credits(7)
    with pytest.raises(MemberCapExceeded):
        engine.charge("org_1", 4, member_id="alice")


def test_add_member_refuses_a_cap_period_without_a_cap(engine: Engine) -> None:
    organization(engine, "org_1", 10)

    with pytest.raises(InvalidInput) as refused:
        engine.add_member("org_1", "alice", cap_period="month")

    assert refused.value.field == "cap_period"
    assert engine.members("org_1") == ()
