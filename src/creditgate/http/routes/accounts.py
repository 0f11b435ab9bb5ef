"""Accounts, members, balances, history, and what an account holds: its lots and holds."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from creditgate.domain.entries import EntryKind
from creditgate.domain.errors import AccountNotFound, InvalidInput, MemberNotFound
from creditgate.domain.holds import HoldStatus
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.http.deps import Admin, Engines, Reader, Writer, reach
from creditgate.http.problems import documented
from creditgate.schemas import (
    AccountIn,
    AccountOut,
    AccountUpdateIn,
    BalanceAtOut,
    BalanceOut,
    CheckIn,
    CheckOut,
    EntryPage,
    HoldPage,
    LifetimeOut,
    LotOut,
    MemberIn,
    MemberOut,
    engine_quantity,
)

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])

AccountPath = Annotated[str, "the app's own id for the account"]


@router.post("", responses=documented(InvalidInput, AccountNotFound))
def create_account(body: AccountIn, engine: Engines, key: Writer) -> AccountOut:
    """Create the wallet for the app's id, or return the existing one unchanged.

    Safe to repeat: a second call with the same id answers the same account.
    """
    reach(key, body.account_id)
    return AccountOut.of(
        engine.create_account(
            body.account_id,
            owner_kind=body.owner_kind,
            floor=body.floor,
            is_unlimited=body.is_unlimited,
            metadata=body.metadata,
        )
    )


@router.get("/{account_id}", responses=documented(AccountNotFound))
def get_account(account_id: AccountPath, engine: Engines, key: Reader) -> AccountOut:
    """The account with this id."""
    return AccountOut.of(engine.get_account(reach(key, account_id)))


@router.patch("/{account_id}", responses=documented(AccountNotFound))
def update_account(
    account_id: AccountPath, body: AccountUpdateIn, engine: Engines, key: Admin
) -> AccountOut:
    """Freeze or unfreeze, make unlimited or not, change the floor or the metadata."""
    return AccountOut.of(
        engine.update_account(
            reach(key, account_id),
            is_frozen=body.is_frozen,
            is_unlimited=body.is_unlimited,
            floor=body.floor,
            metadata=body.metadata,
        )
    )


@router.get("/{account_id}/balance", responses=documented(AccountNotFound))
def balance(account_id: AccountPath, engine: Engines, key: Reader) -> BalanceOut:
    """Balance, held and available credits now."""
    return BalanceOut.of(engine.balance(reach(key, account_id)))


@router.get("/{account_id}/balance_at", responses=documented(AccountNotFound))
def balance_at(
    account_id: AccountPath,
    engine: Engines,
    key: Reader,
    at: Annotated[datetime, Query(description="A past instant, with its time zone")],
) -> BalanceAtOut:
    """The balance as it stood at a past instant."""
    amount = engine.balance_at(reach(key, account_id), at)
    return BalanceAtOut(account_id=account_id, at=at, balance=amount)


@router.get("/{account_id}/lifetime", responses=documented(AccountNotFound))
def lifetime(account_id: AccountPath, engine: Engines, key: Reader) -> LifetimeOut:
    """Lifetime figures: granted by source, spent, refunded, expired, adjusted, transferred."""
    return LifetimeOut.of(engine.lifetime(reach(key, account_id)))


@router.get("/{account_id}/entries", responses=documented(AccountNotFound))
def history(
    account_id: AccountPath,
    engine: Engines,
    key: Reader,
    kinds: Annotated[list[EntryKind] | None, Query()] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    feature: str | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> EntryPage:
    """The account's transactions, newest first: filter by kind, time [since, until), feature.

    Pass `next_cursor` back as `cursor` for the next page.
    """
    return EntryPage.of(
        engine.history(
            reach(key, account_id),
            kinds=kinds,
            since=since,
            until=until,
            feature=feature,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/{account_id}/lots", responses=documented(AccountNotFound))
def lots(
    account_id: AccountPath,
    engine: Engines,
    key: Reader,
    include_spent: Annotated[
        bool, Query(description="Also the lots with nothing left: spent or expired")
    ] = False,
) -> list[LotOut]:
    """The account's lots with credits left, in burn order: the order spends take them.

    Priority first (lower burns first), then soonest expiry (never-expiring last), then
    age. A lot past its expiry has nothing left, whether or not the expiry pass has run.
    """
    found = engine.lots(reach(key, account_id), include_spent=include_spent)
    return [LotOut.of(lot) for lot in found]


@router.get("/{account_id}/holds", responses=documented(AccountNotFound))
def holds(
    account_id: AccountPath,
    engine: Engines,
    key: Reader,
    status: Annotated[
        HoldStatus | None, Query(description="Only the holds of this status as of now")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> HoldPage:
    """The account's holds, newest first: all of them, or those of one status.

    A pending hold past its ttl reads as expired. Pass `next_cursor` back as `cursor` for
    the next page.
    """
    return HoldPage.of(
        engine.holds(reach(key, account_id), status=status, limit=limit, cursor=cursor)
    )


@router.post("/{account_id}/check", responses=documented(AccountNotFound))
def check(account_id: AccountPath, body: CheckIn, engine: Engines, key: Reader) -> CheckOut:
    """Whether the account can pay for one call now; nothing is set aside."""
    return CheckOut.of(
        engine.check(
            reach(key, account_id),
            body.feature,
            model=body.model,
            quantity=engine_quantity(body.quantity),
        )
    )


@router.get("/{account_id}/members", responses=documented(AccountNotFound))
def members(account_id: AccountPath, engine: Engines, key: Reader) -> list[MemberOut]:
    """The members of an organization's wallet."""
    return [MemberOut.of(m) for m in engine.members(reach(key, account_id))]


@router.put("/{account_id}/members/{member_id}", responses=documented(AccountNotFound))
def add_member(
    account_id: AccountPath, member_id: str, body: MemberIn, engine: Engines, key: Writer
) -> MemberOut:
    """Let a person spend from the organization's wallet, up to an optional cap."""
    return MemberOut.of(
        engine.add_member(
            reach(key, account_id),
            member_id,
            spend_cap=body.spend_cap,
            cap_period=body.cap_period,
        )
    )


@router.delete(
    "/{account_id}/members/{member_id}",
    status_code=204,
    responses=documented(AccountNotFound, MemberNotFound),
)
def remove_member(
    account_id: AccountPath, member_id: str, engine: Engines, key: Writer
) -> Response:
    """Stop a person spending from the wallet."""
    engine.remove_member(reach(key, account_id), member_id)
    return Response(status_code=204)
