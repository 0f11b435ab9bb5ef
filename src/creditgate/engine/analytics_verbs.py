"""The analytics half of the `Engine`: figures over a range of time, across every account.

Each verb checks its range (and limit) before it reads, so a bad request raises
`InvalidInput` and reads nothing; each figure is one read of one snapshot. The figures
and their definitions are in `domain.analytics`.
"""

from datetime import datetime

from creditgate.domain.analytics import (
    AccountSpend,
    FeatureSpend,
    GuestConversion,
    ModelGenerations,
    ModelLatency,
    ModelSpend,
    PackRevenue,
    SourceGrants,
    WelcomeUsage,
    check_period,
    check_top,
)
from creditgate.domain.limits import TOP_ACCOUNTS_DEFAULT
from creditgate.engine.clock import Clock
from creditgate.storage import analytics
from creditgate.storage.database import Database


class AnalyticsVerbs:
    """Usage analytics over [since, until) (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def spend_by_feature(self, *, since: datetime, until: datetime) -> tuple[FeatureSpend, ...]:
        """Credits spent per UTC day and feature, by day then feature.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.spend_by_feature(conn, period))

    def spend_by_model(self, *, since: datetime, until: datetime) -> tuple[ModelSpend, ...]:
        """Credits spent per UTC day and model, by day then model.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.spend_by_model(conn, period))

    def generations_by_model(
        self, *, since: datetime, until: datetime
    ) -> tuple[ModelGenerations, ...]:
        """Usage events by model and outcome, with each model's failure rate.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.generations_by_model(conn, period))

    def latency_by_model(self, *, since: datetime, until: datetime) -> tuple[ModelLatency, ...]:
        """Average and nearest-rank p95 latency of each model's successful events.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.latency_by_model(conn, period))

    def grants_by_source(self, *, since: datetime, until: datetime) -> tuple[SourceGrants, ...]:
        """Credits granted by lot source (welcome, plan cycle, purchase, promo, ...).

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.grants_by_source(conn, period))

    def revenue_by_pack(self, *, since: datetime, until: datetime) -> tuple[PackRevenue, ...]:
        """Paid purchases of packs by pack and currency: count, gross, refunded (minor units).

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return tuple(analytics.revenue_by_pack(conn, period))

    def top_spenders(
        self, *, since: datetime, until: datetime, limit: int = TOP_ACCOUNTS_DEFAULT
    ) -> tuple[AccountSpend, ...]:
        """The `limit` accounts that spent the most credits, most first.

        Raises:
            InvalidInput: a bad range, or a limit outside 1 to TOP_ACCOUNTS_MAX.
        """
        period = check_period(since, until)
        top = check_top(limit)
        with self.db.read() as conn:
            return tuple(analytics.top_spenders(conn, period, top))

    def guest_conversion(self, *, since: datetime, until: datetime) -> GuestConversion:
        """Guest sessions first seen in the range, and how many have signed up since.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        with self.db.read() as conn:
            return analytics.guest_conversion(conn, period)

    def welcome_usage(self, *, since: datetime, until: datetime) -> WelcomeUsage:
        """What became of the welcome credits granted in the range, as of now.

        Raises:
            InvalidInput: a naive time, `until` not after `since`, or a range over a year.
        """
        period = check_period(since, until)
        now = self.clock.now()
        with self.db.read() as conn:
            return analytics.welcome_usage(conn, period, now)
