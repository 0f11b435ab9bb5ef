"""Balance alerts: an account's own low-balance line, read by any key, set by admin keys.

Crossing the line (down to low, down to depleted, back up) writes one event per crossing
to the outbox; the webhook endpoints that listen to `balance.*` receive them.
"""

from fastapi import APIRouter

from creditgate.domain.errors import AccountNotFound, InvalidInput
from creditgate.http.deps import Admin, Engines, Reader, reach
from creditgate.http.problems import documented
from creditgate.schemas import BalanceAlertIn, BalanceAlertOut

router = APIRouter(prefix="/v1", tags=["accounts"])


@router.get("/accounts/{account_id}/balance-alert", responses=documented(AccountNotFound))
def balance_alert(account_id: str, engine: Engines, key: Reader) -> BalanceAlertOut:
    """The account's low-balance line, the catalog's default, and the level it is at."""
    return BalanceAlertOut.of(engine.balance_alert(reach(key, account_id)))


@router.put(
    "/accounts/{account_id}/balance-alert", responses=documented(AccountNotFound, InvalidInput)
)
def set_balance_alert(
    account_id: str, body: BalanceAlertIn, engine: Engines, key: Admin
) -> BalanceAlertOut:
    """Set the account's own low-balance line (null: follow the catalog's default).

    The level moves at once: a line set above the balance is crossed now.
    """
    return BalanceAlertOut.of(engine.set_balance_alert(account_id, low=body.low))
