"""Analytics figures on real SQLite and PostgreSQL: each equals a plain SQL query over the
same rows, and the scene's figures, worked out by hand, are written out in full.

The scene (`tests.factories.analytics_scene`) is a week: day 1 has spends of every outcome
(charges, settled holds, a failed and a released hold, a refused charge), day 2 grants of
every source, paid purchases (one partly refunded, one free claim), guests who sign up,
and twenty timed generations; day 3 runs the expiry pass. The figures are read on day 5.
"""

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, text

from creditgate import (
    AccountSpend,
    Credits,
    Engine,
    FeatureSpend,
    GuestConversion,
    InvalidInput,
    LotSource,
    ManualClock,
    ModelGenerations,
    ModelLatency,
    ModelSpend,
    PackRevenue,
    SourceGrants,
    WelcomeUsage,
)
from creditgate.domain.ids import AccountId
from creditgate.storage.types import UtcDateTime
from tests.factories import (
    ANALYTICS_DAY_1,
    ANALYTICS_NOW,
    GUEST_IP,
    SECOND,
    analytics_catalog,
    analytics_scene,
    bought,
    settled,
)

SINCE = ANALYTICS_DAY_1
UNTIL = ANALYTICS_DAY_1 + timedelta(days=7)
NAIVE = datetime(2026, 1, 1)  # noqa: DTZ001 - the naive datetime is the bad input

FIGURES = (
    "spend_by_feature",
    "spend_by_model",
    "generations_by_model",
    "latency_by_model",
    "grants_by_source",
    "revenue_by_pack",
    "top_spenders",
    "guest_conversion",
    "welcome_usage",
)

DAY_1 = date(2026, 1, 1)
DAY_2 = date(2026, 1, 2)


def c(value: int | str) -> Credits:
    return Credits.parse(value)


@pytest.fixture
def scene(engine: Engine, clock: ManualClock) -> Engine:
    """The engine after the week of `analytics_scene`, its clock on day 5."""
    for at, step in analytics_scene():
        clock.set(at)
        step(engine)
    clock.set(ANALYTICS_NOW)
    return engine


def figure(engine: Engine, name: str, since: datetime = SINCE, until: datetime = UNTIL) -> Any:
    """The named figure over [since, until)."""
    return getattr(engine, name)(since=since, until=until)


# Plain SQL: the same figures, written independently of the storage layer.


def query(engine: Engine, sql: str, **params: object) -> list[Any]:
    """Rows of a text query; times are bound as the tables store them."""
    stmt = text(sql).bindparams(
        *(bindparam(name, type_=UtcDateTime()) for name in params if name in TIMES)
    )
    with engine.db.read() as conn:
        return list(conn.execute(stmt, {"since": SINCE, "until": UNTIL, **params}))


TIMES = {"since", "until", "now"}
RANGE = "created_at >= :since AND created_at < :until"


def day_of(engine: Engine) -> str:
    """The SQL of an event's UTC day, in each database's own words."""
    if engine.db.is_sqlite:
        return "date(created_at)"
    return "CAST(created_at AT TIME ZONE 'UTC' AS DATE)"


def as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def none_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def sql_daily(engine: Engine, column: str) -> list[tuple[date, str | None, int, Credits]]:
    rows = query(
        engine,
        f"SELECT {day_of(engine)} AS day, {column}, COUNT(*), SUM(credits) FROM usage_events"
        f" WHERE outcome = 'succeeded' AND {RANGE} GROUP BY {day_of(engine)}, {column}",
        since=SINCE,
        until=UNTIL,
    )
    found = [(as_date(d), k, int(n), Credits(int(u))) for d, k, n, u in rows]
    return sorted(found, key=lambda r: (r[0], none_first(r[1])))


def test_spend_by_feature_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    from_sql = tuple(
        FeatureSpend(day=d, feature=k, events=n, credits=u)
        for d, k, n, u in sql_daily(scene, "feature")
    )

    found = scene.spend_by_feature(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        FeatureSpend(day=DAY_1, feature="image.generate", events=3, credits=c(10)),
        FeatureSpend(day=DAY_1, feature="video.generate", events=2, credits=c(35)),
        FeatureSpend(day=DAY_2, feature="image.generate", events=19, credits=c(76)),
    )


def test_spend_by_model_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    from_sql = tuple(
        ModelSpend(day=d, model=k, events=n, credits=u) for d, k, n, u in sql_daily(scene, "model")
    )

    found = scene.spend_by_model(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        ModelSpend(day=DAY_1, model=None, events=2, credits=c(12)),
        ModelSpend(day=DAY_1, model="flux-pro", events=2, credits=c(8)),
        ModelSpend(day=DAY_1, model="veo", events=1, credits=c(25)),
        ModelSpend(day=DAY_2, model="flux-pro", events=19, credits=c(76)),
    )


def test_generations_by_model_equals_a_plain_sql_query_and_the_worked_figures(
    scene: Engine,
) -> None:
    rows = query(
        scene,
        f"SELECT model, outcome, COUNT(*) FROM usage_events WHERE {RANGE} GROUP BY model, outcome",
        since=SINCE,
        until=UNTIL,
    )
    counts: dict[str | None, dict[str, int]] = {}
    for model, outcome, n in rows:
        counts.setdefault(model, {})[outcome] = int(n)
    from_sql = tuple(
        ModelGenerations(
            model=model,
            succeeded=n.get("succeeded", 0),
            failed=n.get("failed", 0),
            released=n.get("released", 0),
            refused=n.get("refused", 0),
        )
        for model, n in sorted(counts.items(), key=lambda item: none_first(item[0]))
    )

    found = scene.generations_by_model(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        ModelGenerations(model=None, succeeded=2, failed=0, released=1, refused=0),
        ModelGenerations(model="flux-pro", succeeded=21, failed=1, released=0, refused=0),
        ModelGenerations(model="veo", succeeded=1, failed=0, released=0, refused=1),
    )
    assert [(g.generations, g.failure_rate) for g in found] == [(3, 0.0), (22, 1 / 22), (1, 0.0)]


SAME_MODEL = "(o.model = e.model OR (o.model IS NULL AND e.model IS NULL))"
TIMED = "outcome = 'succeeded' AND latency_ms IS NOT NULL AND created_at >= :since"
TIMED += " AND created_at < :until"


def test_latency_by_model_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    # p95 as "the least latency that at least 95 % of the model's latencies do not exceed":
    # the nearest rank, written without window functions.
    timed_o = TIMED.replace("outcome", "o.outcome").replace("latency_ms", "o.latency_ms")
    timed_o = timed_o.replace("created_at", "o.created_at")
    rows = query(
        scene,
        f"SELECT e.model, COUNT(*), SUM(e.latency_ms),"
        f" (SELECT MIN(v.latency_ms) FROM usage_events v WHERE"
        f"  {TIMED.replace('outcome', 'v.outcome').replace('latency_ms', 'v.latency_ms')}"
        f"  AND (v.model = e.model OR (v.model IS NULL AND e.model IS NULL))"
        f"  AND 100 * (SELECT COUNT(*) FROM usage_events o WHERE {timed_o} AND {SAME_MODEL}"
        f"             AND o.latency_ms <= v.latency_ms)"
        f"      >= 95 * (SELECT COUNT(*) FROM usage_events o WHERE {timed_o} AND {SAME_MODEL}))"
        f" FROM usage_events e WHERE {TIMED.replace('outcome', 'e.outcome')} GROUP BY e.model",
        since=SINCE,
        until=UNTIL,
    )
    from_sql = tuple(
        sorted(
            (
                ModelLatency(model=m, events=int(n), total_ms=int(t), p95_ms=int(p))
                for m, n, t, p in rows
            ),
            key=lambda r: none_first(r.model),
        )
    )

    found = scene.latency_by_model(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        ModelLatency(model="flux-pro", events=20, total_ms=20_100, p95_ms=1800),
        ModelLatency(model="veo", events=1, total_ms=9000, p95_ms=9000),
    )
    assert [r.average_ms for r in found] == [1005.0, 9000.0]


def test_grants_by_source_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    rows = query(
        scene,
        "SELECT source, COUNT(*), SUM(amount) FROM entries WHERE kind = 'grant'"
        " AND effective_at >= :since AND effective_at < :until GROUP BY source",
        since=SINCE,
        until=UNTIL,
    )
    from_sql = tuple(
        SourceGrants(source=LotSource(s), grants=int(n), credits=Credits(int(u)))
        for s, n, u in sorted(rows, key=lambda r: str(r[0]))
    )

    found = scene.grants_by_source(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        SourceGrants(source=LotSource.BONUS, grants=2, credits=c(60)),
        SourceGrants(source=LotSource.PLAN_CYCLE, grants=1, credits=c(100)),
        SourceGrants(source=LotSource.PROMO, grants=1, credits=c(5)),
        SourceGrants(source=LotSource.PURCHASE, grants=3, credits=c(660)),
        SourceGrants(source=LotSource.REFERRAL, grants=2, credits=c(5)),
        SourceGrants(source=LotSource.WELCOME, grants=4, credits=c(150)),
    )


def test_revenue_by_pack_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    rows = query(
        scene,
        "SELECT k.key, p.currency, COUNT(*), SUM(p.amount_minor), SUM(p.refunded_minor)"
        " FROM purchases p JOIN packs k ON k.id = p.pack_id"
        " WHERE p.status IN ('paid', 'refunded', 'disputed') AND p.amount_minor > 0"
        " AND p.paid_at >= :since AND p.paid_at < :until GROUP BY k.key, p.currency",
        since=SINCE,
        until=UNTIL,
    )
    from_sql = tuple(
        PackRevenue(
            pack=k, currency=cur, purchases=int(n), gross_minor=int(g), refunded_minor=int(r)
        )
        for k, cur, n, g, r in sorted(rows, key=lambda r: (r[0], r[1]))
    )

    found = scene.revenue_by_pack(since=SINCE, until=UNTIL)

    assert found == from_sql
    assert found == (
        PackRevenue(
            pack="creator", currency="usd", purchases=1, gross_minor=1499, refunded_minor=0
        ),
        PackRevenue(
            pack="studio", currency="eur", purchases=1, gross_minor=4999, refunded_minor=1000
        ),
    )
    assert [r.net_minor for r in found] == [1499, 3999]


def test_top_spenders_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    rows = query(
        scene,
        "SELECT a.external_id, COUNT(*), SUM(u.credits) FROM usage_events u"
        " JOIN accounts a ON a.id = u.account_id WHERE u.outcome = 'succeeded'"
        " AND u.created_at >= :since AND u.created_at < :until"
        " GROUP BY a.id, a.external_id ORDER BY SUM(u.credits) DESC, a.id LIMIT 2",
        since=SINCE,
        until=UNTIL,
    )
    from_sql = tuple(
        AccountSpend(account_id=AccountId(a), events=int(n), credits=Credits(int(u)))
        for a, n, u in rows
    )

    found = scene.top_spenders(since=SINCE, until=UNTIL, limit=2)

    assert found == from_sql
    assert found == (
        AccountSpend(account_id=AccountId("user_1"), events=22, credits=c(86)),
        AccountSpend(account_id=AccountId("user_2"), events=1, credits=c(25)),
    )


def test_top_spenders_lists_ten_accounts_by_default_most_first(scene: Engine) -> None:
    found = scene.top_spenders(since=SINCE, until=UNTIL)

    assert [(a.account_id, a.credits) for a in found] == [
        ("user_1", c(86)),
        ("user_2", c(25)),
        ("user_3", c(10)),
    ]


def test_guest_conversion_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    ((sessions, linked),) = query(
        scene,
        "SELECT COUNT(*), SUM(CASE WHEN account_id IS NULL THEN 0 ELSE 1 END)"
        " FROM guest_sessions WHERE first_seen_at >= :since AND first_seen_at < :until",
        since=SINCE,
        until=UNTIL,
    )

    found = scene.guest_conversion(since=SINCE, until=UNTIL)

    assert found == GuestConversion(sessions=int(sessions), linked=int(linked))
    assert found == GuestConversion(sessions=3, linked=2)
    assert found.rate == 2 / 3


WELCOME = "l.source = 'welcome' AND l.created_at >= :since AND l.created_at < :until"


def test_welcome_usage_equals_a_plain_sql_query_and_the_worked_figures(scene: Engine) -> None:
    ((lots, granted, live, dead),) = query(
        scene,
        "SELECT COUNT(*), SUM(l.amount),"
        " SUM(CASE WHEN l.expires_at IS NULL OR l.expires_at > :now THEN l.remaining ELSE 0 END),"
        " SUM(CASE WHEN l.expires_at IS NULL OR l.expires_at > :now THEN 0 ELSE l.remaining END)"
        f" FROM lots l WHERE {WELCOME}",
        since=SINCE,
        until=UNTIL,
        now=ANALYTICS_NOW,
    )
    ((swept,),) = query(
        scene,
        "SELECT COALESCE(SUM(-m.amount), 0) FROM entry_lots m"
        " JOIN entries e ON e.id = m.entry_id JOIN lots l ON l.id = m.lot_id"
        f" WHERE e.kind = 'expire' AND {WELCOME}",
        since=SINCE,
        until=UNTIL,
    )
    ((spent_by_spends,),) = query(
        scene,
        "SELECT COALESCE(SUM(-m.amount), 0) FROM entry_lots m"
        " JOIN entries e ON e.id = m.entry_id JOIN lots l ON l.id = m.lot_id"
        f" WHERE e.kind IN ('charge', 'settle') AND {WELCOME}",
        since=SINCE,
        until=UNTIL,
    )
    expired = int(dead) + int(swept)

    found = scene.welcome_usage(since=SINCE, until=UNTIL)

    assert found == WelcomeUsage(
        lots=int(lots),
        granted=Credits(int(granted)),
        spent=Credits(int(granted) - int(live) - expired),
        expired=Credits(expired),
        unused=Credits(int(live)),
    )
    assert found.spent == Credits(int(spent_by_spends))
    assert found == WelcomeUsage(lots=4, granted=c(150), spent=c(96), expired=c(30), unused=c(24))
    assert found.spent_share == 0.64


def test_welcome_usage_counts_a_lot_past_its_expiry_as_expired_before_the_pass_sweeps_it(
    scene: Engine,
) -> None:
    before = scene.welcome_usage(since=SINCE, until=UNTIL)

    scene.expire()
    after = scene.welcome_usage(since=SINCE, until=UNTIL)

    assert after == before


# The range


def test_spend_splits_days_at_utc_midnight(scene: Engine) -> None:
    last_second = SINCE + timedelta(days=1) - SECOND

    found = scene.spend_by_model(since=last_second, until=last_second + 2 * SECOND)

    assert found == (
        ModelSpend(day=DAY_1, model="flux-pro", events=1, credits=c(4)),
        ModelSpend(day=DAY_2, model="flux-pro", events=1, credits=c(4)),
    )


def test_range_given_in_another_zone_is_the_same_instants(scene: Engine) -> None:
    tokyo = timezone(timedelta(hours=9))

    found = scene.spend_by_feature(since=SINCE.astimezone(tokyo), until=UNTIL.astimezone(tokyo))

    assert found == scene.spend_by_feature(since=SINCE, until=UNTIL)


def one_of_each(engine: Engine, n: int) -> None:
    """User n with welcome credits, one timed generation, one paid pack, one guest."""
    account_id = f"user_{n}"
    engine.create_account(account_id)
    engine.grant(account_id, 10, source="welcome")
    settled(engine, account_id, "image.generate", None, 100 * n)
    bought(engine, account_id, "creator", 1499)
    engine.consume_guest(f"sess_{n}", GUEST_IP)


@pytest.fixture
def edges(engine: Engine, clock: ManualClock) -> tuple[Engine, datetime, datetime]:
    """One of each thing a second before `since`, at `since`, and at `until`."""
    since = ANALYTICS_DAY_1 + timedelta(days=1, hours=12)
    until = since + timedelta(hours=1)
    clock.set(since - SECOND)
    analytics_catalog(engine)
    for n, at in enumerate((since - SECOND, since, until), start=1):
        clock.set(at)
        one_of_each(engine, n)
    return engine, since, until


def test_figures_count_what_happened_at_since_and_not_at_until_or_before(
    edges: tuple[Engine, datetime, datetime],
) -> None:
    engine, since, until = edges

    found = {name: figure(engine, name, since, until) for name in FIGURES}

    assert found == {
        "spend_by_feature": (
            FeatureSpend(day=DAY_2, feature="image.generate", events=1, credits=c(2)),
        ),
        "spend_by_model": (ModelSpend(day=DAY_2, model=None, events=1, credits=c(2)),),
        "generations_by_model": (
            ModelGenerations(model=None, succeeded=1, failed=0, released=0, refused=0),
        ),
        "latency_by_model": (ModelLatency(model=None, events=1, total_ms=200, p95_ms=200),),
        "grants_by_source": (
            SourceGrants(source=LotSource.BONUS, grants=1, credits=c(10)),
            SourceGrants(source=LotSource.PURCHASE, grants=1, credits=c(110)),
            SourceGrants(source=LotSource.WELCOME, grants=1, credits=c(10)),
        ),
        "revenue_by_pack": (
            PackRevenue(
                pack="creator", currency="usd", purchases=1, gross_minor=1499, refunded_minor=0
            ),
        ),
        "top_spenders": (AccountSpend(account_id=AccountId("user_2"), events=1, credits=c(2)),),
        "guest_conversion": GuestConversion(sessions=1, linked=0),
        "welcome_usage": WelcomeUsage(lots=1, granted=c(10), spent=c(2), expired=c(0), unused=c(8)),
    }


def test_figures_answer_zeros_and_empty_lists_for_a_range_with_nothing_in_it(
    scene: Engine,
) -> None:
    since = datetime(2025, 6, 1, tzinfo=UTC)

    found = {name: figure(scene, name, since, since + timedelta(days=30)) for name in FIGURES}

    assert found == {
        **dict.fromkeys(FIGURES, ()),
        "guest_conversion": GuestConversion(sessions=0, linked=0),
        "welcome_usage": WelcomeUsage(lots=0, granted=c(0), spent=c(0), expired=c(0), unused=c(0)),
    }
    assert (found["guest_conversion"].rate, found["welcome_usage"].spent_share) == (0.0, 0.0)


def test_figures_answer_for_a_range_of_exactly_366_days(scene: Engine) -> None:
    found = scene.spend_by_feature(since=SINCE, until=SINCE + timedelta(days=366))

    assert len(found) == 3


BAD_RANGES = {
    "until_equal_to_since": (SINCE, SINCE, "until", "must be after since"),
    "until_before_since": (UNTIL, SINCE, "until", "must be after since"),
    "since_naive": (NAIVE, UNTIL, "since", "must be a timezone-aware datetime"),
    "until_naive": (SINCE, NAIVE, "until", "must be a timezone-aware datetime"),
    "since_not_a_time": ("2026-01-01", UNTIL, "since", "must be a timezone-aware datetime"),
    "longer_than_366_days": (
        SINCE,
        SINCE + timedelta(days=366, microseconds=1),
        "until",
        "at most 366 days after since",
    ),
}


@pytest.mark.parametrize("name", FIGURES)
@pytest.mark.parametrize(("since", "until", "field", "reason"), BAD_RANGES.values(), ids=BAD_RANGES)
def test_figure_raises_invalid_input_when_the_range_is_bad(
    engine: Engine, name: str, since: Any, until: Any, field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        figure(engine, name, since, until)

    assert (raised.value.field, raised.value.reason) == (field, reason)


@pytest.mark.parametrize("limit", [0, 101, -1, True, "5", 2.0])
def test_top_spenders_raises_invalid_input_when_the_limit_is_out_of_bounds(
    engine: Engine, limit: Any
) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.top_spenders(since=SINCE, until=UNTIL, limit=limit)

    assert (raised.value.field, raised.value.reason) == ("limit", "an integer from 1 to 100")
