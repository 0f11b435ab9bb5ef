"""Plain functions that build common starting states for tests."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import event

from creditgate import (
    Account,
    Engine,
    InsufficientCredits,
    OwnerKind,
    Provider,
    ProviderEvent,
)
from creditgate.storage.database import Database


def funded_account(
    engine: Engine, account_id: str = "user_1", credits: int | str = 100, **grant: object
) -> Account:
    """An account holding `credits` in one never-expiring purchased lot."""
    account = engine.create_account(account_id)
    engine.grant(account_id, credits, source="purchase", **grant)  # type: ignore[arg-type]
    return account


def organization(
    engine: Engine, account_id: str = "org_1", credits: int | str = 100, *members: str
) -> Account:
    """An organization's funded wallet with the named members (no caps)."""
    account = engine.create_account(account_id, owner_kind=OwnerKind.ORGANIZATION)
    engine.grant(account_id, credits, source="purchase")
    for member in members:
        engine.add_member(account_id, member)
    return account


SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# A week of usage for the analytics figures: timed steps, so that an engine and a service
# (or two engines on one clock) can be brought to the same state.

AnalyticsStep = tuple[datetime, Callable[[Engine], object]]

ANALYTICS_DAY_1 = datetime(2026, 1, 1, tzinfo=UTC)
ANALYTICS_NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)
"""When the scene's figures are read: one welcome lot has expired and been swept, one has
expired and not been swept, two are live."""
GUEST_IP = "203.0.113.5"


def settled(
    engine: Engine, account_id: str, feature: str, model: str | None, latency_ms: int
) -> None:
    """A priced hold settled at its amount, taking `latency_ms`."""
    held = engine.hold(account_id, feature=feature, model=model, ttl=MINUTE)
    assert held.hold is not None
    engine.settle(held.hold.id, held.hold.amount, latency_ms=latency_ms)


def released(engine: Engine, account_id: str, model: str | None, failure: str | None) -> None:
    """A priced image hold released, as failed when `failure` is given."""
    held = engine.hold(account_id, feature="image.generate", model=model, ttl=MINUTE)
    assert held.hold is not None
    engine.release(held.hold.id, failure=failure, latency_ms=30_000 if failure else None)


def refused(engine: Engine, account_id: str, feature: str, model: str) -> None:
    """A charge the engine refuses for want of credits (a refused usage event)."""
    try:
        engine.charge(account_id, feature=feature, model=model)
    except InsufficientCredits:
        return
    raise AssertionError("the charge was expected to be refused")


def bought(
    engine: Engine, account_id: str, pack: str, amount_minor: int, currency: str = "usd"
) -> None:
    """A checkout of `pack` opened and paid (as a verified provider event would say)."""
    reference = f"cs_{account_id}_{pack}"
    engine.open_checkout(account_id, pack, provider=Provider.STRIPE, reference=reference)
    engine.complete_checkout(
        ProviderEvent(
            provider=Provider.STRIPE,
            event_id=f"evt_{reference}",
            type="checkout.session.completed",
        ),
        account_id=account_id,
        pack=pack,
        reference=reference,
        amount_minor=amount_minor,
        currency=currency,
        payment_ref=f"pi_{reference}",
        is_paid=True,
    )


def analytics_catalog(engine: Engine) -> None:
    """Guests and referrals on; images and videos priced, by model; packs, a code, a plan."""
    engine.apply_catalog(
        {
            "guests": [{"uses": 100, "window": "24h"}],
            "referrals": {"referrer_credits": "3", "referee_credits": "2"},
        }
    )
    engine.create_feature("image.generate", name="Images")
    engine.set_price("image.generate", {"rule": "flat", "credits": "2"})
    engine.set_price("image.generate", {"rule": "flat", "credits": "4"}, model="flux-pro")
    engine.create_feature("video.generate", name="Videos")
    engine.set_price("video.generate", {"rule": "flat", "credits": "10"})
    engine.set_price("video.generate", {"rule": "flat", "credits": "25"}, model="veo")
    engine.create_pack("creator", name="Creator", credits=110, bonus_credits=10, price_minor=1499)
    engine.create_pack("studio", name="Studio", credits=500, price_minor=4999, currency="eur")
    engine.create_pack("starter", name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.create_promo("SPRING", credits=5)
    engine.create_plan("basic", name="Basic", credits=100, prices={"month": 1500})


def analytics_accounts(engine: Engine) -> None:
    """Four users with welcome credits (three of them expiring); user_2's bonus burns first."""
    start = engine.clock.now()
    for account_id, credits, lifetime in (
        ("user_1", 100, 10 * DAY),
        ("user_2", 20, 2 * DAY),
        ("user_3", 20, None),
        ("user_4", 10, 3 * DAY),
    ):
        engine.create_account(account_id)
        expires_at = None if lifetime is None else start + lifetime
        engine.grant(account_id, credits, source="welcome", expires_at=expires_at)
    engine.grant("user_2", 50, source="bonus", priority=-1)


def analytics_guests(engine: Engine) -> None:
    """Three guests; two of them sign up."""
    for session in ("sess_1", "sess_2", "sess_3"):
        engine.consume_guest(session, GUEST_IP)
    engine.link_guest("sess_1", "user_1")
    engine.link_guest("sess_2", "user_2")


def analytics_scene() -> list[AnalyticsStep]:
    """The week: day 1 spends of every outcome, day 2 grants of every source, purchases,
    guests and timed generations, day 3 the expiry pass.

    The figures it makes are written out in `tests/integration/test_analytics.py`.
    """
    day_1 = ANALYTICS_DAY_1 + 12 * HOUR
    day_2 = ANALYTICS_DAY_1 + DAY
    refund = ProviderEvent(provider=Provider.STRIPE, event_id="evt_refund", type="charge.refunded")
    steps: list[AnalyticsStep] = [
        (day_1, analytics_catalog),
        (day_1, analytics_accounts),
        (day_1 + MINUTE, lambda e: e.charge("user_1", feature="image.generate")),
        (
            day_1 + 2 * MINUTE,
            lambda e: e.charge("user_1", feature="image.generate", model="flux-pro"),
        ),
        (day_1 + 3 * MINUTE, lambda e: settled(e, "user_2", "video.generate", "veo", 9000)),
        (day_1 + 4 * MINUTE, lambda e: released(e, "user_2", "flux-pro", "timeout")),
        (day_1 + 5 * MINUTE, lambda e: released(e, "user_2", None, None)),
        (day_1 + 6 * MINUTE, lambda e: e.charge("user_3", feature="video.generate")),
        (day_1 + 7 * MINUTE, lambda e: refused(e, "user_3", "video.generate", "veo")),
        (day_2 - SECOND, lambda e: settled(e, "user_1", "image.generate", "flux-pro", 1000)),
        (day_2, lambda e: settled(e, "user_1", "image.generate", "flux-pro", 2000)),
        (day_2 + 10 * HOUR, lambda e: e.subscribe("user_1", "basic")),
        (day_2 + 10 * HOUR + MINUTE, lambda e: e.redeem("user_2", "SPRING")),
        (day_2 + 10 * HOUR + 2 * MINUTE, lambda e: e.refer("user_3", "user_1")),
        (day_2 + 10 * HOUR + 3 * MINUTE, lambda e: bought(e, "user_2", "creator", 1499)),
        (day_2 + 10 * HOUR + 4 * MINUTE, lambda e: bought(e, "user_3", "studio", 4999, "eur")),
        (
            day_2 + 10 * HOUR + 5 * MINUTE,
            lambda e: e.reverse_payment(
                refund, payment_ref="pi_cs_user_3_studio", refunded_minor=1000
            ),
        ),
        (day_2 + 10 * HOUR + 6 * MINUTE, lambda e: e.claim_pack("user_1", "starter")),
        (day_2 + 10 * HOUR + 7 * MINUTE, analytics_guests),
    ]
    steps += [
        (
            day_2 + 11 * HOUR + n * MINUTE,
            partial(
                settled,
                account_id="user_1",
                feature="image.generate",
                model="flux-pro",
                latency_ms=100 * n,
            ),
        )
        for n in range(1, 19)
    ]
    steps.append((day_2 + DAY + 13 * HOUR, lambda e: e.expire()))
    return steps


@contextmanager
def counting(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the database runs inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
