"""The plans' half of the `Engine`: plans, and the subscriptions that put accounts on them.

A mixin, like the catalog's, so `Engine` stays one object with one vocabulary.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.errors import InvalidInput, PlanNotFound
from creditgate.domain.inputs import check_key
from creditgate.domain.plans import (
    Cycle,
    Interval,
    Plan,
    Rollover,
    Subscription,
    check_interval,
    check_plan_key,
    parse_plan,
)
from creditgate.domain.results import PlanOverview, SubscriptionReceipt
from creditgate.engine import history, plans, subscriptions
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.engine.idempotency import once
from creditgate.storage import plans as rows
from creditgate.storage.accounts import AccountRow
from creditgate.storage.database import Database

_DATA_NAMES = {"is_active": "active", "is_default": "default"}


def _plan_fields(values: Mapping[str, object]) -> dict[str, object]:
    """Engine keywords in the data form `parse_plan` reads (`is_active` -> `active`)."""
    data: dict[str, object] = {}
    for name, value in values.items():
        if name == "prices" and isinstance(value, Mapping):
            value = {str(k): v for k, v in value.items()}
        elif isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, Credits):
            value = str(value)
        data[_DATA_NAMES.get(name, name)] = value
    return data


class PlanVerbs:
    """Plans and subscriptions (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def create_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str,
        credits: AmountLike,
        prices: Mapping[str, int] | None = None,
        currency: str = "usd",
        description: str | None = None,
        rollover: Rollover | str = Rollover.NONE,
        rollover_cap: AmountLike | None = None,
        cycle: Cycle | str = Cycle.MONTH,
        is_active: bool = True,
        is_default: bool = False,
    ) -> Plan:
        """Add a plan: `credits` per cycle, `prices` in minor units by interval.

        `prices={"month": 1500, "year": 21000}` sells it monthly and yearly; no prices is a
        plan the app bills itself. A default plan (at most one) is where accounts start
        and where an ended subscription falls back to.

        Raises:
            InvalidInput: a bad key or field.
            PlanExists: the key is taken.
        """
        data = _plan_fields(
            {
                "name": name,
                "description": description,
                "credits": credits,
                "prices": prices or {},
                "currency": currency,
                "rollover": rollover,
                "rollover_cap": rollover_cap,
                "cycle": cycle,
                "is_active": is_active,
                "is_default": is_default,
            }
        )
        spec = parse_plan({"key": key, **{k: v for k, v in data.items() if v is not None}})
        with transaction(self.db, self.clock) as books:
            return plans.create_plan(books.conn, books.now, spec)

    def update_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str | None = None,
        credits: AmountLike | None = None,
        prices: Mapping[str, int] | None = None,
        currency: str | None = None,
        description: str | None = None,
        rollover: Rollover | str | None = None,
        rollover_cap: AmountLike | None = None,
        cycle: Cycle | str | None = None,
        is_active: bool | None = None,
        is_default: bool | None = None,
    ) -> Plan:
        """Change a plan's fields (None keeps one); from each subscriber's next cycle on.

        Raises:
            PlanNotFound: no plan has this key.
            InvalidInput: a bad value, or a default plan made inactive.
        """
        checked = check_plan_key(key)
        given = {
            "name": name,
            "credits": credits,
            "prices": prices,
            "currency": currency,
            "description": description,
            "rollover": rollover,
            "rollover_cap": rollover_cap,
            "cycle": cycle,
            "is_active": is_active,
            "is_default": is_default,
        }
        changes = _plan_fields({k: v for k, v in given.items() if v is not None})
        with transaction(self.db, self.clock) as books:
            return plans.update_plan(books.conn, books.now, checked, changes)

    def deactivate_plan(self, key: str) -> Plan:
        """Stop selling a plan; its subscribers keep renewing on it.

        Raises:
            PlanNotFound: no plan has this key.
            InvalidInput: it is the default plan.
        """
        checked = check_plan_key(key)
        with transaction(self.db, self.clock) as books:
            _, plan = plans.locked_plan(books.conn, checked)
            if plan.is_default:
                raise InvalidInput(field="plan", reason="the default plan must stay active")
            return plans.update_plan(books.conn, books.now, checked, {"active": False})

    def get_plan(self, key: str) -> Plan:
        """One plan, active or not.

        Raises:
            PlanNotFound: no plan has this key.
        """
        checked = check_plan_key(key)
        with self.db.read() as conn:
            found = rows.find_plan(conn, checked)
        if found is None:
            raise PlanNotFound(checked)
        return found[1]

    def plans(self, *, include_inactive: bool = False) -> tuple[Plan, ...]:
        """The plans on sale (or all of them), by credits per cycle."""
        with self.db.read() as conn:
            return tuple(rows.list_plans(conn, active_only=not include_inactive))

    def plan_overview(self, account_id: str) -> PlanOverview:
        """The plans on sale with the account's subscription and balance: a pricing page.

        Raises:
            AccountNotFound: no account has this id.
        """

        def read(conn: Connection, row: AccountRow, now: datetime) -> PlanOverview:
            sub = rows.live_subscription(conn, row.pk, row.account.id)
            return PlanOverview(
                plans=tuple(rows.list_plans(conn, active_only=True)),
                subscription=None if sub is None else subscriptions.view(conn, sub),
                balance=history.balance(conn, row, now),
            )

        return history.read_fresh(self.db, self.clock, account_id, read)

    def subscription(self, account_id: str) -> Subscription | None:
        """The account's live subscription, or None when it is on no plan.

        Raises:
            AccountNotFound: no account has this id.
        """

        def read(conn: Connection, row: AccountRow, now: datetime) -> Subscription | None:
            sub = rows.live_subscription(conn, row.pk, row.account.id)
            return None if sub is None else subscriptions.view(conn, sub)

        return history.read_fresh(self.db, self.clock, account_id, read)

    def subscribe(
        self,
        account_id: str,
        plan: str,
        *,
        interval: Interval | str | None = None,
        idempotency_key: str | None = None,
    ) -> SubscriptionReceipt:
        """Put the account on `plan`: start it now, upgrade now, or downgrade at period end.

        `interval` defaults to the plan's first (monthly when it is sold monthly).

        Raises:
            AccountNotFound: no account has this id.
            PlanNotFound: no active plan has this key.
            InvalidInput: a bad interval, or one the plan is not sold by.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        key = check_plan_key(plan)
        chosen = None if interval is None else check_interval(interval)
        idem = check_key(idempotency_key)
        request = {"plan": key, "interval": None if chosen is None else chosen.value}
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="subscribe",
                key=idem,
                request=request,
                result_type=SubscriptionReceipt,
                effect=lambda: subscriptions.subscribe(books, row, key, chosen),
            )

    def cancel_subscription(self, account_id: str) -> SubscriptionReceipt:
        """End the subscription at the end of its billing period; then the default plan.

        Raises:
            AccountNotFound: no account has this id.
            SubscriptionNotFound: the account is on no plan.
            InvalidInput: the account is on the default plan.
        """
        checked = check_account_id(account_id)
        with transaction(self.db, self.clock) as books:
            return subscriptions.cancel(books, books.lock(checked))

    def resume_subscription(self, account_id: str) -> SubscriptionReceipt:
        """Keep a cancelled subscription after all (before its period ends).

        Raises:
            AccountNotFound: no account has this id.
            SubscriptionNotFound: the account is on no plan.
        """
        checked = check_account_id(account_id)
        with transaction(self.db, self.clock) as books:
            return subscriptions.resume(books, books.lock(checked))
