from creditgate import Credits, Engine
from tests.factories import funded_account


def test_charge_takes_credits_and_verify_is_clean(engine: Engine) -> None:
    funded_account(engine, credits=10)

    receipt = engine.charge("user_1", "2.5")

    assert receipt.credits_used == Credits.parse("2.5")
    assert receipt.credits_remaining == Credits.parse("7.5")
    assert engine.verify().is_clean
