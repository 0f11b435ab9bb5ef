"""Auto top-up on real SQLite and PostgreSQL, with Stripe's API at a local fake.

One payment per crossing of the line, however long the balance stays below it; the
credits arrive when Stripe confirms the payment; repeated failures turn it off.
"""

from collections.abc import Iterator

import pytest

from creditgate import Credits, Engine, InvalidInput, Provider, ProviderEvent
from creditgate.domain.events import Outcome
from creditgate.domain.topups import TopUpState
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.integrations.top_ups import run_top_ups
from tests.fakes.stripe_api import FakeStripe

PRICE = 1499


def c(value: int | str) -> Credits:
    return Credits.parse(value)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as served:
        yield served


@pytest.fixture
def topped(engine: Engine, fake: FakeStripe) -> Engine:
    """A customer with 30 credits and auto top-up of the Creator pack (110) below 10."""
    engine.create_pack("creator", name="Creator", credits=110, price_minor=PRICE)
    engine.create_account("user_1")
    engine.grant("user_1", 30, source="purchase")
    customer = fake.create_customer(email="ada@example.com")
    engine.set_auto_top_up(
        "user_1",
        pack="creator",
        threshold=10,
        customer_ref=customer["id"],
        payment_method_ref="pm_card_visa",
    )
    return engine


def confirm(engine: Engine, event_id: str, payment_ref: str) -> Outcome:
    """Deliver `payment_intent.succeeded` for the top-up's payment."""
    event = ProviderEvent(
        provider=Provider.STRIPE, event_id=event_id, type="payment_intent.succeeded"
    )
    return engine.confirm_payment(
        event, payment_ref=payment_ref, amount_minor=PRICE, currency="usd"
    ).outcome


def test_a_balance_that_stays_low_starts_one_payment(topped: Engine, fake: FakeStripe) -> None:
    for _ in range(25):
        topped.charge("user_1", 1)  # 30 -> 5: below 10 after the 21st charge
    before = len(fake.received("POST", "/v1/payment_intents"))

    first = run_top_ups(topped, StripeGateway(fake.secret_key, api_base=fake.url))
    second = run_top_ups(topped, StripeGateway(fake.secret_key, api_base=fake.url))

    sent = fake.received("POST", "/v1/payment_intents")[before:]
    assert (first.started, second.started) == (1, 0)
    assert len(sent) == 1
    assert sent[0].params["amount"] == str(PRICE)
    assert sent[0].params["off_session"] == "true"
    setting = topped.auto_top_up("user_1")
    assert setting is not None
    assert setting.state is TopUpState.PENDING
    assert topped.balance("user_1").balance == c(5)


def test_confirmed_payment_grants_the_pack_once_and_rearms(
    topped: Engine, fake: FakeStripe
) -> None:
    topped.charge("user_1", 25)
    run_top_ups(topped, StripeGateway(fake.secret_key, api_base=fake.url))
    [purchase] = topped.purchases("user_1").items
    assert purchase.payment_ref is not None

    outcomes = [confirm(topped, "evt_1", purchase.payment_ref) for _ in range(2)]
    outcomes.append(confirm(topped, "evt_2", purchase.payment_ref))

    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.NO_CHANGE]
    assert topped.balance("user_1").balance == c(115)
    setting = topped.auto_top_up("user_1")
    assert setting is not None
    assert setting.state is TopUpState.ARMED
    topped.charge("user_1", 110)  # a new crossing: a new purchase
    assert [p.status.value for p in topped.purchases("user_1").items] == ["pending", "paid"]
    assert topped.verify().problems == ()


def test_declined_cards_turn_auto_top_up_off_after_failures_max(
    topped: Engine, fake: FakeStripe
) -> None:
    gateway = StripeGateway(fake.secret_key, api_base=fake.url)
    declined = 0
    for _ in range(3):
        fake.decline_next()
        topped.charge("user_1", 21)  # cross the line
        declined += run_top_ups(topped, gateway).declined
        topped.grant("user_1", 21, source="bonus")  # back above it: armed again

    setting = topped.auto_top_up("user_1")
    assert setting is not None
    assert declined == 3
    assert (setting.is_enabled, setting.state, setting.failures) == (False, None, 3)
    assert setting.disabled_reason is not None
    assert "3 payments failed" in setting.disabled_reason
    assert [p.status.value for p in topped.purchases("user_1").items] == ["failed"] * 3
    topped.charge("user_1", 25)
    assert topped.pending_top_ups() == ()


def test_payment_failed_event_after_a_decline_counts_once(topped: Engine, fake: FakeStripe) -> None:
    fake.decline_next()
    topped.charge("user_1", 25)
    run_top_ups(topped, StripeGateway(fake.secret_key, api_base=fake.url))
    [purchase] = topped.purchases("user_1").items
    assert purchase.payment_ref is not None
    event = ProviderEvent(
        provider=Provider.STRIPE, event_id="evt_f", type="payment_intent.payment_failed"
    )

    result = topped.fail_payment(event, payment_ref=purchase.payment_ref, reason="declined")

    setting = topped.auto_top_up("user_1")
    assert setting is not None
    assert (result.outcome, setting.failures) == (Outcome.NO_CHANGE, 1)


def test_stripe_unreachable_leaves_the_top_up_for_the_next_pass(topped: Engine) -> None:
    topped.charge("user_1", 25)

    run = run_top_ups(topped, StripeGateway("sk_test_fake", api_base="http://127.0.0.1:9"))

    assert (run.started, run.failed) == (0, 1)
    assert len(topped.pending_top_ups()) == 1


def test_set_auto_top_up_refuses_bad_settings_and_changes_nothing(topped: Engine) -> None:
    before = topped.auto_top_up("user_1")
    topped.create_pack("gift", name="Gift", credits=5, price_minor=0, is_free_once=True)

    for fields in (
        {"pack": "gift"},
        {"threshold": 0},
        {"threshold": "-1"},
        {"customer_ref": ""},
        {"failures_max": 0},
    ):
        values = {
            "pack": "creator",
            "threshold": 10,
            "customer_ref": "cus_1",
            "payment_method_ref": "pm_1",
            **fields,
        }
        with pytest.raises(InvalidInput):
            topped.set_auto_top_up("user_1", **values)  # type: ignore[arg-type]
    assert topped.auto_top_up("user_1") == before
