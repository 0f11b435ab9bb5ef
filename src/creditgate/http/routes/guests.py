"""Guest quotas: count a guest's use, tell a guest what is left, link a guest who signed up.

The app's back end calls these for people who have not signed up, passing the guest's
session id; the guest's address is the caller's, or the one `X-Forwarded-For` carries
when the caller is a configured trusted proxy (the app's back end, usually, which then
forwards its visitor's address). Over a quota the answer is a 429 problem with
`Retry-After` and `reset_at`; a Redis that does not answer is a 503, never a free pass.
"""

from typing import Annotated

from fastapi import APIRouter, Query

from creditgate.domain.errors import (
    AccountNotFound,
    GuestLinked,
    GuestQuotaExceeded,
    GuestsNotAllowed,
    InvalidInput,
    Unavailable,
)
from creditgate.http.deps import ClientAddress, Engines, IdempotencyKey, Reader, Writer, reach
from creditgate.http.problems import documented
from creditgate.schemas import (
    GuestAllowanceOut,
    GuestLinkIn,
    GuestQuotaOut,
    GuestSessionOut,
    GuestUseIn,
)

router = APIRouter(prefix="/v1/guests", tags=["guests"])


@router.post(
    "/consume",
    responses=documented(GuestQuotaExceeded, GuestsNotAllowed, InvalidInput, Unavailable),
)
def consume_guest(
    body: GuestUseIn,
    engine: Engines,
    key: Writer,
    address: ClientAddress,
    idempotency_key: IdempotencyKey = None,
) -> GuestAllowanceOut:
    """Count one use by a guest, by session and by address; the strictest window wins."""
    return GuestAllowanceOut.of(
        engine.consume_guest(
            body.session_id, address, feature=body.feature, idempotency_key=idempotency_key
        )
    )


@router.get("/status", responses=documented(GuestsNotAllowed, InvalidInput, Unavailable))
def guest_status(
    engine: Engines,
    key: Reader,
    address: ClientAddress,
    session_id: Annotated[str, Query(max_length=200, examples=["sess_7f3a"])],
    feature: Annotated[str | None, Query(max_length=200, examples=["image.generate"])] = None,
) -> GuestAllowanceOut:
    """What a guest may still do, counting nothing."""
    return GuestAllowanceOut.of(engine.guest_status(session_id, address, feature=feature))


@router.get("/quotas", responses=documented())
def guest_quotas(engine: Engines, key: Reader) -> list[GuestQuotaOut]:
    """The guest quotas in force (set in the catalog's `[[guests]]`)."""
    return [GuestQuotaOut.of(q) for q in engine.guest_quotas()]


@router.post("/link", responses=documented(AccountNotFound, GuestLinked, InvalidInput))
def link_guest(body: GuestLinkIn, engine: Engines, key: Writer) -> GuestSessionOut:
    """Link a guest's session to the account the guest signed up as (counts conversions)."""
    return GuestSessionOut.of(engine.link_guest(body.session_id, reach(key, body.account_id)))
