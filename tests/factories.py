"""Plain functions that build common starting states for tests."""

from datetime import timedelta

from creditgate import Account, Engine, OwnerKind


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


MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
