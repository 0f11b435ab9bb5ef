"""The usage half of the `Engine`: usage events and their totals, for analytics."""

from datetime import datetime

from creditgate.domain.accounts import check_account_id
from creditgate.domain.errors import AccountNotFound, InvalidInput
from creditgate.domain.inputs import check_cursor, check_instant, check_text
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.pricing import check_model
from creditgate.domain.results import Page
from creditgate.domain.usage import Outcome, UsageEvent, UsageTotal
from creditgate.engine.clock import Clock
from creditgate.engine.usage import account_pk
from creditgate.storage.database import Database
from creditgate.storage.usage import UsageFilter, list_events, totals


class UsageVerbs:
    """Usage events and totals (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def _filter(
        self,
        account_id: str | None,
        *,
        feature: str | None,
        model: str | None,
        outcome: object,
        since: datetime | None,
        until: datetime | None,
    ) -> UsageFilter:
        pk = None
        if account_id is not None:
            checked = check_account_id(account_id)
            with self.db.read() as conn:
                pk = account_pk(conn, checked)
            if pk is None:
                raise AccountNotFound(checked)
        if outcome is not None and (
            not isinstance(outcome, str) or outcome not in {o.value for o in Outcome}
        ):
            allowed = ", ".join(o.value for o in Outcome)
            raise InvalidInput(field="outcome", reason=f"one of: {allowed}")
        return UsageFilter(
            account_pk=pk,
            feature=check_text(feature, field="feature"),
            model=check_model(model),
            outcome=None if not isinstance(outcome, str) else Outcome(outcome),
            since=None if since is None else check_instant(since, field="since"),
            until=None if until is None else check_instant(until, field="until"),
        )

    def usage(
        self,
        account_id: str | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        outcome: Outcome | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[UsageEvent]:
        """Usage events newest first, of one account or all.

        Filters: feature, model, outcome and the time range [since, until).

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad filter, limit or cursor.
        """
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        where = self._filter(
            account_id, feature=feature, model=model, outcome=outcome, since=since, until=until
        )
        before = check_cursor(cursor, listing="usage")
        with self.db.read() as conn:
            items = list_events(conn, where, before, limit + 1)
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return Page(items=tuple(items[:limit]), next_cursor=next_cursor)

    def usage_totals(
        self,
        account_id: str | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[UsageTotal, ...]:
        """Events and credits by feature, model and outcome, over the same filters as `usage`.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad filter.
        """
        where = self._filter(
            account_id, feature=feature, model=model, outcome=None, since=since, until=until
        )
        with self.db.read() as conn:
            return tuple(totals(conn, where))
