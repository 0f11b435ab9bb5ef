"""Queries behind the analytics figures: each one grouped by the database, over a range.

Each figure is one statement whose rows are already the figure's rows (a handful per day,
feature, model, source, pack or account), so a range of a million usage events is read
by the database once and never crosses into Python event by event. The ranges use the
indexes on each table's time column (`ix_usage_events_created_at`, the grants' partial
index on `entries`, `ix_lots_source_created_at`, `ix_purchases_paid_at`,
`ix_guest_sessions_first_seen_at`).

Rows are put in order here, not by SQL: PostgreSQL's collation and SQLite's byte order
sort text differently, and both databases must answer the same figure. The top
spenders are cut by the database, ordered by credits and then by the account's internal
id (its creation order), which both databases order alike.

The 95th percentile is the nearest rank (`domain.analytics.nearest_rank`): the value at
rank ceil(95 n / 100). SQLite has no percentile function, so there it is found with
ROW_NUMBER and COUNT over each model's events. PostgreSQL's `percentile_disc(0.95)` is the
same rank, not a second definition: it returns the value at row `ceil(0.95 * n)` of the
group's sorted values, and as the double nearest 0.95 is a hair below it (by less than
half the spacing of doubles), `0.95 * n` rounds to exactly 95 n / 100 when that is whole
and is at least 0.05 away from a whole number otherwise, so the ceiling is the nearest rank
for every n. It sorts each model's latencies once, where the two windows sorted every
event and then walked them twice: over a year of a million events, 284 ms instead of 642.

Each statement has the shape of the plain query a person would write, which both planners
run fastest: a UTC day is a `date` on PostgreSQL (formatting every event's day as text and
grouping on the text cost 400 ms a year instead of 279), outcomes are grouped, not summed
case by case, and the expired part of the welcome lots is one sum over the expire moves of
the range's welcome lots rather than a subquery per lot, which read every move of every lot
to find its expiry (464 ms instead of 174).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    func,
    literal_column,
    select,
)

from creditgate.domain.amounts import Credits
from creditgate.domain.analytics import (
    P95_PERCENT,
    AccountSpend,
    FeatureSpend,
    GuestConversion,
    ModelGenerations,
    ModelLatency,
    ModelSpend,
    PackRevenue,
    Period,
    SourceGrants,
    WelcomeUsage,
)
from creditgate.domain.entries import EntryKind
from creditgate.domain.ids import AccountId
from creditgate.domain.lots import LotSource
from creditgate.domain.packs import PurchaseStatus
from creditgate.domain.usage import Outcome
from creditgate.storage.dialects import utc_day
from creditgate.storage.tables import (
    accounts,
    entries,
    entry_lots,
    guest_sessions,
    lots,
    packs,
    purchases,
    usage_events,
)

_PAID = (PurchaseStatus.PAID.value, PurchaseStatus.REFUNDED.value, PurchaseStatus.DISPUTED.value)
"""Purchases that were paid: refunded and disputed ones were paid first (and count their
refunds apart)."""

_GRANT: ColumnElement[str] = literal_column(f"'{EntryKind.GRANT.value}'", String)
"""A literal, not a parameter: only then may either planner use the grants' partial index."""


def _none_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def _within(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.since, column < period.until)


def _succeeded(period: Period) -> ColumnElement[bool]:
    c = usage_events.c
    return and_(_within(c.created_at, period), c.outcome == Outcome.SUCCEEDED.value)


def _daily(conn: Connection, period: Period, key: Any) -> list[tuple[date, str | None, int, int]]:
    c = usage_events.c
    day = utc_day(conn, c.created_at).label("day")
    stmt: Select[Any] = (
        select(day, key, func.count(), func.sum(c.credits))
        .where(_succeeded(period))
        .group_by(day, key)
    )
    found = [(d, k, int(events), int(credits)) for d, k, events, credits in conn.execute(stmt)]
    return sorted(found, key=lambda row: (row[0], _none_first(row[1])))


def spend_by_feature(conn: Connection, period: Period) -> list[FeatureSpend]:
    """Credits of successful events by UTC day and feature, by day then feature."""
    return [
        FeatureSpend(day=day, feature=feature, events=events, credits=Credits(units))
        for day, feature, events, units in _daily(conn, period, usage_events.c.feature)
    ]


def spend_by_model(conn: Connection, period: Period) -> list[ModelSpend]:
    """Credits of successful events by UTC day and model, by day then model."""
    return [
        ModelSpend(day=day, model=model, events=events, credits=Credits(units))
        for day, model, events, units in _daily(conn, period, usage_events.c.model)
    ]


def generations_by_model(conn: Connection, period: Period) -> list[ModelGenerations]:
    """Events by model and outcome, one row per model (the outcomes it lacks count 0)."""
    c = usage_events.c
    stmt = (
        select(c.model, c.outcome, func.count())
        .where(_within(c.created_at, period))
        .group_by(c.model, c.outcome)
    )
    counts: dict[str | None, dict[Outcome, int]] = {}
    for model, outcome, n in conn.execute(stmt):
        counts.setdefault(model, dict.fromkeys(Outcome, 0))[Outcome(outcome)] = int(n)
    return [
        ModelGenerations(
            model=model,
            succeeded=n[Outcome.SUCCEEDED],
            failed=n[Outcome.FAILED],
            released=n[Outcome.RELEASED],
            refused=n[Outcome.REFUSED],
        )
        for model, n in sorted(counts.items(), key=lambda item: _none_first(item[0]))
    ]


def latency_by_model(conn: Connection, period: Period) -> list[ModelLatency]:
    """Count, total and nearest-rank p95 of the latencies of successful events, by model."""
    stmt = _latency_pg(period) if conn.dialect.name == "postgresql" else _latency_ranked(period)
    found = [
        ModelLatency(model=model, events=int(n), total_ms=int(total), p95_ms=int(p95))
        for model, n, total, p95 in conn.execute(stmt)
    ]
    return sorted(found, key=lambda row: _none_first(row.model))


def _timed(period: Period) -> ColumnElement[bool]:
    return and_(_succeeded(period), usage_events.c.latency_ms.is_not(None))


def _latency_pg(period: Period) -> Select[Any]:
    """PostgreSQL: `percentile_disc`, the nearest rank (see the module docstring)."""
    c = usage_events.c
    fraction: ColumnElement[float] = literal_column(f"{P95_PERCENT / 100!r}", Float)
    p95 = func.percentile_disc(fraction).within_group(c.latency_ms)
    return (
        select(c.model, func.count(), func.sum(c.latency_ms), p95)
        .where(_timed(period))
        .group_by(c.model)
    )


def _latency_ranked(period: Period) -> Select[Any]:
    """SQLite: each event's rank among its model's, and the event at the p95 rank."""
    c = usage_events.c
    ranked = (
        select(
            c.model,
            c.latency_ms,
            func.row_number().over(partition_by=c.model, order_by=c.latency_ms).label("rank"),
            func.count().over(partition_by=c.model).label("n"),
        )
        .where(_timed(period))
        .subquery("ranked")
    )
    r = ranked.c
    # ceil(p n / 100) in integers: both databases divide integers exactly, rounding down.
    p95_rank = (literal_column(str(P95_PERCENT), Integer) * r.n + 99) // 100
    return select(
        r.model,
        func.count(),
        func.sum(r.latency_ms),
        func.max(case((r.rank == p95_rank, r.latency_ms))),
    ).group_by(r.model)


def grants_by_source(conn: Connection, period: Period) -> list[SourceGrants]:
    """Grant entries by lot source, dated by when they took effect, by source."""
    e = entries.c
    stmt = (
        select(e.source, func.count(), func.sum(e.amount))
        .where(e.kind == _GRANT, _within(e.effective_at, period))
        .group_by(e.source)
    )
    found = [
        SourceGrants(source=LotSource(source), grants=int(n), credits=Credits(int(units)))
        for source, n, units in conn.execute(stmt)
    ]
    return sorted(found, key=lambda row: row.source.value)


def revenue_by_pack(conn: Connection, period: Period) -> list[PackRevenue]:
    """Paid purchases of packs (checkouts and auto top-ups) by pack and currency.

    Dated by payment; free-once claims (no money) are left out.
    """
    p = purchases.c
    stmt = (
        select(
            packs.c.key,
            p.currency,
            func.count(),
            func.sum(p.amount_minor),
            func.sum(p.refunded_minor),
        )
        .join(packs, packs.c.id == p.pack_id)
        .where(_within(p.paid_at, period), p.status.in_(_PAID), p.amount_minor > 0)
        .group_by(packs.c.key, p.currency)
    )
    found = [
        PackRevenue(
            pack=key,
            currency=currency,
            purchases=int(n),
            gross_minor=int(gross),
            refunded_minor=int(refunded),
        )
        for key, currency, n, gross, refunded in conn.execute(stmt)
    ]
    return sorted(found, key=lambda row: (row.pack, row.currency))


def top_spenders(conn: Connection, period: Period, limit: int) -> list[AccountSpend]:
    """The `limit` accounts that spent the most credits, most first."""
    c = usage_events.c
    spent = func.sum(c.credits).label("spent")
    totals = (
        select(c.account_id, func.count().label("events"), spent)
        .where(_succeeded(period))
        .group_by(c.account_id)
        .order_by(spent.desc(), c.account_id)
        .limit(limit)
        .subquery("totals")
    )
    t = totals.c
    stmt = (
        select(accounts.c.external_id, t.events, t.spent)
        .join(accounts, accounts.c.id == t.account_id)
        .order_by(t.spent.desc(), t.account_id)
    )
    return [
        AccountSpend(account_id=AccountId(external_id), events=int(n), credits=Credits(int(units)))
        for external_id, n, units in conn.execute(stmt)
    ]


def guest_conversion(conn: Connection, period: Period) -> GuestConversion:
    """Guest sessions first seen in the range, and how many of them are linked."""
    g = guest_sessions.c
    stmt = select(func.count(), func.count(g.account_id)).where(_within(g.first_seen_at, period))
    sessions, linked = conn.execute(stmt).one()
    return GuestConversion(sessions=int(sessions), linked=int(linked))


def _welcome(lot: Any, period: Period) -> ColumnElement[bool]:
    return and_(lot.source == LotSource.WELCOME.value, _within(lot.created_at, period))


def welcome_usage(conn: Connection, period: Period, now: datetime) -> WelcomeUsage:
    """What became of the welcome lots granted in the range, as of `now`.

    A lot's expire entry moves its remainder out (a negative amount on `entry_lots`); a lot
    past its expiry that the pass has not reached yet still holds it, and it counts as
    expired all the same (expiry is decided at query time). The moves of expire entries
    are summed once for all the range's welcome lots, starting from the entries: a sum per
    lot reads every move of every lot (its charges and holds too) to find its expiry.
    """
    el, e, lot = entry_lots.c, entries.c, lots.c
    moved = lots.alias("moved")
    swept = (
        select(func.coalesce(-func.sum(el.amount), 0))
        .select_from(entries)
        .join(entry_lots, el.entry_id == e.id)
        .join(moved, moved.c.id == el.lot_id)
        .where(e.kind == EntryKind.EXPIRE.value, _welcome(moved.c, period))
        .correlate(None)
        .scalar_subquery()
    )
    is_live = (lot.expires_at.is_(None)) | (lot.expires_at > now)
    stmt = select(
        func.count(),
        func.coalesce(func.sum(lot.amount), 0),
        func.coalesce(func.sum(case((is_live, lot.remaining), else_=0)), 0),
        func.coalesce(func.sum(case((is_live, 0), else_=lot.remaining)), 0),
        swept,
    ).where(_welcome(lot, period))
    count, granted, unused, unswept, swept_units = (int(v) for v in conn.execute(stmt).one())
    expired = unswept + swept_units
    spent = granted - unused - expired
    assert spent >= 0, "welcome lots lost more than they held"
    return WelcomeUsage(
        lots=count,
        granted=Credits(granted),
        spent=Credits(spent),
        expired=Credits(expired),
        unused=Credits(unused),
    )
