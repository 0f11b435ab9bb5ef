"""Guest quotas: the quotas in force, a form to set or remove one, the default low-balance line.

Both are catalog settings (`[[guests]]` and `[alerts]`), and the engine changes a setting
only by applying a catalog. `apply_catalog` brings the *whole* catalog to what it is given,
so each form starts from `export_catalog()`, changes only its own part, and applies that.
A dry run first must list changes of guests and alerts only, so a catalog that another
admin changed after the export is refused rather than reverted. Only the instant between
the dry run and the apply stays open to such a race: an engine verb that sets the guest
quotas alone, in one transaction, would close it.
"""

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.catalog import ChangeKind, catalog_data
from creditgate.domain.errors import Conflict, CreditgateError, Forbidden
from creditgate.domain.guests import EVERY_FEATURE, window_text
from creditgate.engine import Engine
from creditgate.web.console import (
    Admin,
    engine_of,
    page,
    read_form,
    refused,
    router,
    see,
)
from creditgate.web.sessions import Session

SETTINGS = frozenset({ChangeKind.SET_GUESTS, ChangeKind.SET_ALERTS})
"""The changes these forms may make; a dry run that lists any other is refused."""

Edit = Callable[[dict[str, object]], None]
"""Changes the file form of the catalog in place."""


def _guests_page(
    request: Request, session: Session, error: CreditgateError | None = None
) -> HTMLResponse:
    engine = engine_of(request)
    context = {
        "quotas": engine.guest_quotas(),
        "low_balance": engine.export_catalog().low_balance,
        "features": [f.key for f in engine.features()],
        "every": EVERY_FEATURE,
        "window_text": window_text,
        "error": error,
    }
    return page(request, "guests.html", session, context)


def _whole(text: str) -> int | str:
    """A count from the form as a number, or the text itself for the engine to refuse."""
    try:
        return int(text.strip())
    except ValueError:
        return text


def _apply(engine: Engine, edit: Edit) -> None:
    """Apply the catalog in force with `edit` made to it, changing its settings only.

    Raises:
        InvalidInput: the edited catalog is not valid (nothing is changed).
        Conflict: the catalog changed since it was read (nothing is changed).
    """
    data = catalog_data(engine.export_catalog())
    edit(data)
    planned = engine.apply_catalog(data, dry_run=True)
    if any(change.kind not in SETTINGS for change in planned):
        raise Conflict("the catalog changed while the form was sent: reload and try again")
    engine.apply_catalog(data)


def _quotas(data: dict[str, object]) -> list[dict[str, object]]:
    listed = data.get("guests", [])
    assert isinstance(listed, list)
    return listed


@router.get("/guests")
def guests(request: Request, session: Admin) -> HTMLResponse:
    """The guest quotas in force and the default low-balance line, with their forms."""
    return _guests_page(request, session)


@router.post("/guests", response_model=None)
async def set_guest_quota(request: Request, session: Admin) -> Response:
    """Add a quota, or change the one of the same scope (a feature, or every feature)."""
    try:
        fields = await read_form(request, session)
        scope = fields.get("feature", EVERY_FEATURE)
        quota: dict[str, object] = {
            "uses": _whole(fields.get("uses", "")),
            "window": fields.get("window", "").strip(),
        }
        if scope != EVERY_FEATURE:
            quota["feature"] = scope

        def edit(data: dict[str, object]) -> None:
            kept = [q for q in _quotas(data) if q.get("feature", EVERY_FEATURE) != scope]
            data["guests"] = [*kept, quota]

        _apply(engine_of(request), edit)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _guests_page(request, session, error)
    shown = "every feature" if scope == EVERY_FEATURE else scope
    return see("/admin/guests", f"guest quota for {shown} set")


@router.post("/guests/remove", response_model=None)
async def remove_guest_quota(request: Request, session: Admin) -> Response:
    """Remove the quota of one scope: guests then use that feature only under another quota."""
    try:
        fields = await read_form(request, session)
        scope = fields.get("feature", "")
        engine = engine_of(request)
        before = {q.scope for q in engine.guest_quotas()}

        def edit(data: dict[str, object]) -> None:
            kept = [q for q in _quotas(data) if q.get("feature", EVERY_FEATURE) != scope]
            if kept:
                data["guests"] = kept
            else:
                data.pop("guests", None)

        _apply(engine, edit)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _guests_page(request, session, error)
    shown = "every feature" if scope == EVERY_FEATURE else scope
    if scope not in before:
        return see("/admin/guests", f"no guest quota for {shown} to remove")
    return see("/admin/guests", f"guest quota for {shown} removed")


@router.post("/guests/low_balance", response_model=None)
async def set_low_balance(request: Request, session: Admin) -> Response:
    """Set the default low-balance line (empty: none), for accounts that set no line."""
    try:
        fields = await read_form(request, session)
        line = fields.get("low", "").strip()

        def edit(data: dict[str, object]) -> None:
            if line:
                data["alerts"] = {"low": line}
            else:
                data.pop("alerts", None)

        _apply(engine_of(request), edit)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _guests_page(request, session, error)
    return see(
        "/admin/guests", f"low-balance line {line} set" if line else "low-balance line removed"
    )
