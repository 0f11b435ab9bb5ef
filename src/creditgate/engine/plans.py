"""The plans' use cases: create, change, deactivate, and the plans of a catalog file.

Plans are not versioned like prices: a change applies from each subscriber's next cycle
(a cycle already granted keeps what it granted). A plan any subscription ever named is
never deleted, only deactivated; subscribers of an inactive plan keep renewing on it, and
nobody new may subscribe to it.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from creditgate.domain.errors import InvalidInput, PlanExists, PlanNotFound
from creditgate.domain.plans import Plan, PlanSpec, parse_plan, plan_data
from creditgate.storage import plans as rows


def create_plan(conn: Connection, now: datetime, spec: PlanSpec) -> Plan:
    """Add a plan; a new default plan takes over from the old one.

    Raises:
        PlanExists: the key is taken (by an active or an inactive plan).
    """
    if rows.find_plan(conn, spec.key) is not None:
        raise PlanExists(key=spec.key)
    if spec.is_default:
        rows.clear_default(conn, now)
    rows.insert_plan(conn, spec, now)
    found = rows.find_plan(conn, spec.key)
    assert found is not None
    return found[1]


def locked_plan(conn: Connection, key: str) -> tuple[int, Plan]:
    """A plan's row, locked for a change.

    Raises:
        PlanNotFound: no plan has this key.
    """
    found = rows.find_plan(conn, key, lock=True)
    if found is None:
        raise PlanNotFound(key)
    return found


def update_plan(conn: Connection, now: datetime, key: str, changes: Mapping[str, object]) -> Plan:
    """Change a plan's fields, given in their data form (`credits="500"`, `active=False`).

    Raises:
        PlanNotFound: no plan has this key.
        InvalidInput: a bad value, or a change that would leave the default plan inactive.
    """
    _, plan = locked_plan(conn, key)
    data = {**plan_data(plan.spec()), **changes}
    if data.get("rollover") != "capped" and "rollover_cap" not in changes:
        data.pop("rollover_cap", None)
    return replace_plan(conn, now, parse_plan({k: v for k, v in data.items() if v is not None}))


def replace_plan(conn: Connection, now: datetime, spec: PlanSpec) -> Plan:
    """Make the stored plan of `spec.key` exactly `spec`; a new default takes over.

    Raises:
        PlanNotFound: no plan has this key.
    """
    pk, plan = locked_plan(conn, spec.key)
    if spec.is_default and not plan.is_default:
        rows.clear_default(conn, now)
    if spec != plan.spec():
        rows.save_plan(conn, pk, spec, now)
    found = rows.find_plan(conn, spec.key)
    assert found is not None
    return found[1]


def remove_plan(conn: Connection, now: datetime, key: str) -> bool:
    """Delete a plan nobody ever subscribed to, or deactivate it; True when deleted.

    Raises:
        PlanNotFound: no plan has this key.
        InvalidInput: it is the default plan (make another the default first).
    """
    pk, plan = locked_plan(conn, key)
    if plan.is_default:
        reason = "the default plan cannot be removed: make another plan the default first"
        raise InvalidInput(field="plan", reason=reason)
    if not rows.is_plan_used(conn, pk):
        rows.delete_plan(conn, pk)
        return True
    if plan.is_active:
        update_plan(conn, now, key, {"active": False})
    return False


def subscribable(conn: Connection, key: str) -> tuple[int, Plan]:
    """An active plan, to subscribe to.

    Raises:
        PlanNotFound: no active plan has this key.
    """
    found = rows.find_plan(conn, key)
    if found is None or not found[1].is_active:
        raise PlanNotFound(key)
    return found
