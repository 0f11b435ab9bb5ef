"""Usage events: every spend, settle, release and refusal, for analytics."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from creditgate.domain.errors import AccountNotFound
from creditgate.domain.keys import ApiKey
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.usage import Outcome
from creditgate.http.deps import Engines, Reader, reach
from creditgate.http.problems import documented
from creditgate.schemas import UsagePage, UsageTotalOut

router = APIRouter(prefix="/v1", tags=["usage"])


def _account(key: ApiKey, account_id: str | None) -> str | None:
    """The account to list: the one named, or every account; a bound key sees only its own.

    A key bound to one account that names none lists its own account's usage, as if it had
    named it: every account's usage is never what it sees.
    """
    if account_id is None:
        return key.account_id
    return reach(key, account_id)


@router.get("/usage", responses=documented(AccountNotFound))
def usage(
    engine: Engines,
    key: Reader,
    account_id: str | None = None,
    feature: str | None = None,
    model: str | None = None,
    outcome: Outcome | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: str | None = None,
) -> UsagePage:
    """Usage events newest first, of one account or all, filtered; paged by cursor."""
    return UsagePage.of(
        engine.usage(
            _account(key, account_id),
            feature=feature,
            model=model,
            outcome=outcome,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/usage/totals", responses=documented(AccountNotFound))
def usage_totals(
    engine: Engines,
    key: Reader,
    account_id: str | None = None,
    feature: str | None = None,
    model: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[UsageTotalOut]:
    """Events and credits by feature, model and outcome, over the same filters."""
    totals = engine.usage_totals(
        _account(key, account_id), feature=feature, model=model, since=since, until=until
    )
    return [UsageTotalOut.of(t) for t in totals]
