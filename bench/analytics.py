"""Usage analytics: each figure through the Engine next to a plain SQL GROUP BY of it, over a
ledger of a million usage events.

For each of the nine figures (`spend_by_feature`, `spend_by_model`, `generations_by_model`,
`latency_by_model`, `grants_by_source`, `revenue_by_pack`, `top_spenders`,
`guest_conversion`, `welcome_usage`), on each backend, over the full year and over one week:
the engine verb's wall time against the same figure written by hand as plain text SQL with
a `GROUP BY`, run with the floor's driver (stdlib sqlite3, psycopg 3) on the same database.
The two run in alternating repetitions after a first run of each (which warms the caches and
must give the same figure); each time printed is the median of `--repeats`:

    spend_by_feature postgresql range=year: 387.6 ms | plain GROUP BY 262.5 ms | ratio 0.68

The ratio is the plain query's time over the verb's (1: as fast as the plain query, 0.5:
twice its time); a `gap` follows, the time the verb adds. After each backend come the plans
(`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN ANALYZE` on PostgreSQL) of the verb's statement and
of the plain query, for the slowest figure over the year and for the one furthest from its
plain query.

The ledger (`--events`, default 1,000,000 usage events) is a year of an AI app, 2026, read
on 2027-01-01. A fiftieth of it, the template, is lived through the public Engine on a SQLite
file with a `ManualClock`, in order of time: sign-ups spread over the year (most after a
guest session, some referred), welcome credits (most expiring after 30 days), uses of eight
priced models in four features (charges, holds settled with a latency, holds released as
failed or not, and the refusals that come when credits run out), packs bought after a
refusal (a few refunded days later), a free pack, monthly subscriptions, promo grants, and a
weekly expiry pass. The template's rows are copied into a new database of each backend with
the engine's own table definitions, so every value is typed as the engine types it; then
49 copies of them are made in SQL (`INSERT ... SELECT`), copy k with every key of its
accounts' rows moved on by k (the template's keys are spread 50 apart, so the ids of all
copies follow time as in a ledger grown row by row), its account ids, checkout references,
provider event ids and guest sessions renamed, the ids its metadata names moved on too, and
every time k * 7 hours later. Before anything is measured: the counts must be 50 times the
template's, a sample of copies must read back through the Engine as their originals do,
`verify` must report the whole ledger clean, and every figure must equal its plain query.
When both backends run, their figures must also be equal.
"""

import argparse
import heapq
import itertools
import random
import re
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    case,
    cast,
    event,
    func,
    insert,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from common import (
    Backend,
    analyze,
    backends,
    floor_connection,
    footer,
    header,
    move_sequences,
    note,
    open_engine,
    parse_args,
    scratch_database,
    scratch_dir,
)
from creditgate import (
    AccountSpend,
    Credits,
    Engine,
    FeatureSpend,
    GuestConversion,
    InsufficientCredits,
    LotSource,
    ManualClock,
    ModelGenerations,
    ModelLatency,
    ModelSpend,
    PackRevenue,
    Provider,
    ProviderEvent,
    SourceGrants,
    WelcomeUsage,
)
from creditgate.domain.ids import AccountId
from creditgate.storage.database import SqliteSync
from creditgate.storage.tables import (
    accounts,
    catalog_settings,
    entries,
    entry_lots,
    features,
    guest_sessions,
    guest_windows,
    holds,
    lots,
    metadata,
    packs,
    plan_cycles,
    plans,
    prices,
    provider_events,
    purchases,
    referrals,
    subscriptions,
    usage_events,
)
from creditgate.storage.types import UtcDateTime

EVENTS_DEFAULT = 1_000_000
"""Usage events in the ledger."""

COPIES = 50
"""The ledger is this many copies of the template year, the template included."""

COPY_SHIFT = timedelta(hours=7)
"""Copy k happens k times this much later than the template (not a whole day: copies split
their days differently)."""

USES_PER_ACCOUNT = 100
"""The template has one account per this many uses (200 accounts for the default ledger)."""

REPEATS_DEFAULT = 5
"""Timed runs of each figure, verb and plain query alternating, after one untimed run each."""

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 1, tzinfo=UTC)
"""The year of the ledger, and the clock of the engine that reads the figures."""

LIVED_UNTIL = NOW - COPIES * COPY_SHIFT - timedelta(days=1)
"""The template ends here, so that the last copy ends before NOW."""

RANGES: dict[str, tuple[datetime, datetime]] = {
    "year": (YEAR_START, NOW),
    "week": (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC)),
}
"""The ranges every figure is read over."""

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


def user(index: int) -> str:
    """The app's id of template account `index`."""
    return f"user_{index:05d}"


# The template year, lived through the public Engine


@dataclass(frozen=True, slots=True)
class Model:
    """A priced model: flat credits per use, a typical latency, and how often it is used."""

    feature: str
    model: str | None
    credits: int
    latency_ms: int
    weight: int


MODELS = (
    Model("chat.complete", "gpt-4o-mini", 1, 900, 30),
    Model("chat.complete", "claude-sonnet", 3, 2_400, 12),
    Model("chat.complete", None, 2, 1_500, 4),
    Model("image.generate", "flux-schnell", 1, 1_200, 14),
    Model("image.generate", "flux-pro", 4, 6_000, 14),
    Model("video.generate", "kling", 15, 45_000, 4),
    Model("video.generate", "veo", 25, 70_000, 3),
    Model("audio.speech", "tts-1", 1, 1_500, 10),
)

OUTCOMES = {"charge": 25, "settle": 55, "failed": 10, "released": 10}
"""How a use goes when the credits are there: a charge, or a hold that is settled with its
latency, released with a failure, or released."""

FAILURES = ("timeout", "provider_error", "content_filter")

PACKS = (
    ("starter", 50, 0, 499, "usd", 5),
    ("creator", 110, 10, 1_499, "usd", 4),
    ("studio", 500, 50, 4_999, "eur", 1),
)
"""Paid packs: key, credits, bonus credits, price in minor units, currency, how often bought."""

FREE_PACK, PLAN = "trial", "basic"
WELCOME_CREDITS, WELCOME_LIFETIME = 50, timedelta(days=30)
PROMO_CREDITS, PROMO_LIFETIME = 20, timedelta(days=60)

GUEST_SHARE = 0.75
"""Sign-ups that come from a guest session (first seen up to two days before)."""
VISITORS_PER_ACCOUNT = 1.5
"""Guest sessions that never sign up, per account."""
REFERRED_SHARE, WELCOME_EXPIRING_SHARE, PROMO_SHARE = 0.2, 0.85, 0.1
REFUNDED_SHARE = 0.04
"""Paid purchases refunded (half the time in full) three days later."""
SUBSCRIBE_DAY_MAX = 10
"""Subscriptions start on days 1 to 10 of a month: moved on by a copy's shift, a cycle's end
stays the same day of the month, as `verify` recomputes it."""


class Year:
    """A year of an app through the public Engine, run in order of time from a queue."""

    def __init__(self, engine: Engine, clock: ManualClock, uses: int) -> None:
        self.engine = engine
        self.clock = clock
        self.uses = uses
        self.accounts = max(2, uses // USES_PER_ACCOUNT)
        self.rng = random.Random(2026)
        self._queue: list[tuple[datetime, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self._checkouts = itertools.count()
        self._guests: set[int] = set()
        self._subscribed: set[int] = set()
        self._claimed: set[int] = set()

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        """Run `action` with the clock at `when`."""
        heapq.heappush(self._queue, (when, next(self._order), action))

    def live(self) -> None:
        """Set up the catalog, plan the year, and run it."""
        _catalog(self.engine)
        season = LIVED_UNTIL - timedelta(days=7) - YEAR_START
        joined = sorted(YEAR_START + self.rng.random() * season for _ in range(self.accounts))
        for index, at in enumerate(joined):
            self._plan_account(index, at)
        for index in range(int(self.accounts * VISITORS_PER_ACCOUNT)):
            at = YEAR_START + self.rng.random() * (LIVED_UNTIL - YEAR_START)
            self.at(at, partial(self.engine.consume_guest, f"visitor_{index:05d}", _ip(-index)))
        weights = [self.rng.paretovariate(1.2) for _ in joined]
        for index in self.rng.choices(range(self.accounts), weights=weights, k=self.uses):
            start = joined[index] + timedelta(minutes=1)
            self.at(start + self.rng.random() * (LIVED_UNTIL - start), partial(self._use, index))
        at = YEAR_START
        while at < LIVED_UNTIL:
            at = min(at + timedelta(days=7), LIVED_UNTIL)
            self.at(at, self.engine.expire)
        while self._queue:
            at, _, action = heapq.heappop(self._queue)
            self.clock.set(at)
            action()

    def _plan_account(self, index: int, at: datetime) -> None:
        if self.rng.random() < GUEST_SHARE:
            self._guests.add(index)
            seen = max(YEAR_START, at - self.rng.random() * timedelta(days=2))
            self.at(seen, partial(self.engine.consume_guest, f"guest_{index:05d}", _ip(index)))
        self.at(at, partial(self._sign_up, index))
        if self.rng.random() < PROMO_SHARE:
            promo_at = at + self.rng.random() * (LIVED_UNTIL - at)
            self.at(promo_at, partial(self._promo, index))

    def _sign_up(self, index: int) -> None:
        name = user(index)
        self.engine.create_account(name)
        if index in self._guests:
            self.engine.link_guest(f"guest_{index:05d}", name)
        now = self.clock.now()
        expiring = self.rng.random() < WELCOME_EXPIRING_SHARE
        expires_at = now + WELCOME_LIFETIME if expiring else None
        self.engine.grant(name, WELCOME_CREDITS, source="welcome", expires_at=expires_at)
        if index and self.rng.random() < REFERRED_SHARE:
            self.engine.refer(name, user(self.rng.randrange(index)))

    def _promo(self, index: int) -> None:
        expires_at = self.clock.now() + PROMO_LIFETIME
        self.engine.grant(user(index), PROMO_CREDITS, source="promo", expires_at=expires_at)

    def _use(self, index: int) -> None:
        name = user(index)
        used = self.rng.choices(MODELS, weights=[m.weight for m in MODELS])[0]
        outcome = self.rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
        try:
            if outcome == "charge":
                self.engine.charge(name, feature=used.feature, model=used.model)
                return
            held = self.engine.hold(
                name, feature=used.feature, model=used.model, ttl=timedelta(minutes=10)
            )
        except InsufficientCredits:
            self._top_up(index)
            return
        assert held.hold is not None
        latency_ms = int(used.latency_ms * self.rng.lognormvariate(0, 0.45))
        if outcome == "settle":
            self.engine.settle(held.hold.id, held.hold.amount, latency_ms=latency_ms)
        elif outcome == "failed":
            failure = self.rng.choice(FAILURES)
            self.engine.release(held.hold.id, failure=failure, latency_ms=latency_ms)
        else:
            self.engine.release(held.hold.id)

    def _top_up(self, index: int) -> None:
        """After a refusal: a free pack once, a subscription, a pack bought, or nothing."""
        draw = self.rng.random()
        if draw < 0.1 and index not in self._claimed:
            self._claimed.add(index)
            self.engine.claim_pack(user(index), FREE_PACK)
        elif (
            draw < 0.25
            and index not in self._subscribed
            and self.clock.now().day <= SUBSCRIBE_DAY_MAX
        ):
            self._subscribed.add(index)
            self.engine.subscribe(user(index), PLAN)
        elif draw < 0.85:
            self._buy(index)

    def _buy(self, index: int) -> None:
        key, _, _, price_minor, currency, _ = self.rng.choices(
            PACKS, weights=[p[-1] for p in PACKS]
        )[0]
        reference = f"cs_{next(self._checkouts):06d}"
        name = user(index)
        self.engine.open_checkout(name, key, provider=Provider.STRIPE, reference=reference)
        self.engine.complete_checkout(
            _stripe(f"evt_{reference}", "checkout.session.completed"),
            account_id=name,
            pack=key,
            reference=reference,
            amount_minor=price_minor,
            currency=currency,
            payment_ref=f"pi_{reference}",
            is_paid=True,
        )
        if self.rng.random() < REFUNDED_SHARE:
            refunded = price_minor if self.rng.random() < 0.5 else price_minor // 2
            refund = partial(
                self.engine.reverse_payment,
                _stripe(f"evt_refund_{reference}", "charge.refunded"),
                payment_ref=f"pi_{reference}",
                refunded_minor=refunded,
            )
            self.at(self.clock.now() + timedelta(days=3), refund)


def _stripe(event_id: str, kind: str) -> ProviderEvent:
    return ProviderEvent(provider=Provider.STRIPE, event_id=event_id, type=kind)


def _ip(index: int) -> str:
    """A guest's address: one per guest, visitors (negative) in a range of their own."""
    return f"10.{1 if index >= 0 else 2}.{abs(index) // 256 % 256}.{abs(index) % 256}"


def _catalog(engine: Engine) -> None:
    """Guests and referrals on; four features priced by model; packs; one monthly plan."""
    engine.apply_catalog(
        {
            "guests": [{"uses": 1000, "window": "24h"}],
            "referrals": {"referrer_credits": "5", "referee_credits": "5"},
        }
    )
    for key in dict.fromkeys(m.feature for m in MODELS):
        engine.create_feature(key, name=key)
    for m in MODELS:
        engine.set_price(m.feature, {"rule": "flat", "credits": str(m.credits)}, model=m.model)
    for key, credits, bonus, price_minor, currency, _ in PACKS:
        engine.create_pack(
            key,
            name=key.title(),
            credits=credits,
            bonus_credits=bonus,
            price_minor=price_minor,
            currency=currency,
        )
    engine.create_pack(FREE_PACK, name="Trial", credits=20, price_minor=0, is_free_once=True)
    engine.create_plan(PLAN, name="Basic", credits=100, prices={"month": 1500})


# Copies: the template's rows into a new database, then copied there in SQL

SHARED: tuple[Table, ...] = (features, prices, catalog_settings, plans, packs, guest_windows)
"""Copied once: the catalog, and the guests' counting windows (the service's)."""

CLONED: tuple[Table, ...] = (
    accounts,
    subscriptions,
    plan_cycles,
    lots,
    holds,
    entries,
    entry_lots,
    usage_events,
    purchases,
    provider_events,
    referrals,
    guest_sessions,
)
"""Copied COPIES times: every row the template's accounts, checkouts and guests wrote."""

TABLES = tuple(t for t in metadata.sorted_tables if t in SHARED or t in CLONED)
"""In foreign-key order."""

RENAMED = {
    "accounts": ("external_id",),
    "purchases": ("reference", "payment_ref"),
    "provider_events": ("event_id",),
    "guest_sessions": ("session_id",),
}
"""Text keys that must stay unique: a copy appends `_k` to them."""

ID_KEYS = ("purchase_id", "subscription_id")
"""Keys of a copied row that lots and entries name in their metadata."""

INSERT_BATCH = 5000

_COPY = Table("bench_copy", MetaData(), Column("k", Integer, primary_key=True))
"""The copy numbers 1..COPIES-1, joined to the template's rows."""


def _keys(table: Table) -> tuple[str, ...]:
    """Columns holding a key of a copied row: the table's own id, and references to one."""
    return tuple(
        c.name
        for c in table.columns
        if (c.primary_key and c.name == "id")
        or any(fk.column.table in CLONED for fk in c.foreign_keys)
    )


def _slot(key: int) -> int:
    """Where the template's key goes: copy k of it is this + k (copies interleave)."""
    return (key - 1) * COPIES + 1


def _in_slot(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    moved = dict(row)
    for name in _keys(table):
        if moved[name] is not None:
            moved[name] = _slot(moved[name])
    meta = moved.get("metadata")
    if isinstance(meta, dict) and any(key in meta for key in ID_KEYS):
        moved["metadata"] = {k: _slot(v) if k in ID_KEYS else v for k, v in meta.items()}
    return moved


@dataclass(frozen=True, slots=True)
class Template:
    """The template year's rows, table by table, as the engine's tables read them."""

    rows: dict[str, list[dict[str, Any]]]
    uses: int
    seconds: float

    def count(self, table: Table) -> int:
        """The template's rows in `table`."""
        return len(self.rows[table.name])


def live_template(url: str, uses: int) -> Template:
    """Live the template year on an empty SQLite database through the public Engine."""
    started = time.perf_counter()
    clock = ManualClock(YEAR_START)
    engine = open_engine(url, sync=SqliteSync.NORMAL, clock=clock)
    try:
        Year(engine, clock, uses).live()
        checked = engine.verify()
        assert checked.is_clean, f"the template: {checked.problems[:3]}"
        with engine.db.read() as conn:
            rows = {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in TABLES}
            for table in metadata.sorted_tables:
                if table.name != "creditgate_meta" and table not in TABLES:
                    left = conn.execute(select(func.count()).select_from(table)).scalar_one()
                    assert left == 0, f"{table.name} holds rows the copies would leave out"
    finally:
        engine.close()
    template = Template(rows, uses, time.perf_counter() - started)
    assert template.count(usage_events) == uses, "one usage event per use"
    return template


def copy_ledger(engine: Engine, template: Template) -> None:
    """The template's rows into the engine's empty database, then the copies in SQL."""
    with engine.db.write() as conn:
        for table in TABLES:
            rows = template.rows[table.name]
            if table in CLONED:
                rows = [_in_slot(table, row) for row in rows]
            for first in range(0, len(rows), INSERT_BATCH):
                conn.execute(insert(table), rows[first : first + INSERT_BATCH])
        _COPY.create(conn)
        conn.execute(insert(_COPY), [{"k": k} for k in range(1, COPIES)])
        for table in TABLES:
            if table in CLONED:
                conn.execute(_copies_of(table, conn.dialect.name))
        _COPY.drop(conn)
        if conn.dialect.name == "postgresql":
            move_sequences(conn, [t.name for t in TABLES if "id" in t.c])


def _copies_of(table: Table, dialect: str) -> Insert:
    """One INSERT ... SELECT of every copy of the template's rows of `table`, in key order."""
    k = _COPY.c.k
    keys, renamed = _keys(table), RENAMED.get(table.name, ())
    values: dict[str, ColumnElement[Any]] = {}
    for column in table.columns:
        if column.name in keys:
            values[column.name] = column + k
        elif isinstance(column.type, UtcDateTime):
            values[column.name] = _later(dialect, column, k)
        elif column.name in renamed:
            values[column.name] = column + "_" + cast(k, String)
        elif column.name == "metadata":
            values[column.name] = _ids_moved(dialect, column, k)
        else:
            values[column.name] = column
    copies = (
        select(*(value.label(name) for name, value in values.items()))
        .select_from(table.join(_COPY, true()))
        .order_by(*(values[c.name] for c in table.primary_key.columns))
    )
    return insert(table).from_select(list(values), copies)


def _later(dialect: str, column: Column[Any], k: Column[int]) -> ColumnElement[Any]:
    """A time moved on by k shifts, in the form the table stores it."""
    seconds = k * int(COPY_SHIFT.total_seconds())
    if dialect == "postgresql":
        return column + seconds * literal_column("interval '1 second'")
    # SQLite stores `YYYY-MM-DD HH:MM:SS.ffffff`: move the seconds, keep the fraction.
    moved = func.strftime(
        "%Y-%m-%d %H:%M:%S", column, "+" + cast(seconds, String) + " seconds", type_=String
    )
    return moved + func.substr(column, 20, type_=String)


def _ids_moved(dialect: str, column: Column[Any], k: Column[int]) -> ColumnElement[Any]:
    """Metadata whose ID_KEYS, where present, are moved on by k."""
    value: ColumnElement[Any] = column
    for key in ID_KEYS:
        if dialect == "postgresql":
            found: ColumnElement[Any] = column.op("->>")(key)
            moved = func.jsonb_set(
                cast(value, JSONB),
                literal_column(f"'{{{key}}}'"),
                func.to_jsonb(cast(found, BigInteger) + k),
            )
            value = case((found.is_(None), value), else_=cast(moved, JSON))
        else:
            found = func.json_extract(column, f"$.{key}")
            value = case(
                (found.is_(None), value), else_=func.json_set(value, f"$.{key}", found + k)
            )
    return value


def check_copies(engine: Engine, template: Template) -> None:
    """Counts are COPIES times the template's; a sample of copies reads back as its originals."""
    with engine.db.read() as conn:
        for table in CLONED:
            found = conn.execute(select(func.count()).select_from(table)).scalar_one()
            assert found == COPIES * template.count(table), (table.name, found)
    for index in (0, template.count(accounts) // 2, template.count(accounts) - 1):
        original = _view(engine, user(index), 0)
        for k in (1, COPIES // 2, COPIES - 1):
            copy = _view(engine, f"{user(index)}_{k}", k)
            assert copy == original, f"copy {k} of {user(index)} differs from its original"


def _view(engine: Engine, name: str, k: int) -> tuple[Any, ...]:
    """An account's figures and latest entries as the Engine reads them, times moved back."""
    shift = k * COPY_SHIFT
    b = engine.balance(name)
    entries_seen = [
        (
            e.seq,
            e.kind,
            e.amount,
            e.balance_after,
            e.held_after,
            e.cost,
            e.feature,
            e.source,
            e.created_at - shift,
            e.effective_at - shift,
            {key: v for key, v in e.metadata.items() if key not in ID_KEYS},
            tuple((m.amount, m.held) for m in e.moves),
        )
        for e in engine.history(name, limit=50).items
    ]
    return (b.balance, b.held, b.available, b.debt, entries_seen)


# The plain queries: each figure by hand, in text SQL with the floor's driver

DAY = {
    "sqlite": "substr(created_at, 1, 10)",
    "postgresql": "CAST(created_at AT TIME ZONE 'UTC' AS date)",
}
"""A usage event's UTC day: SQLite keeps UTC text, PostgreSQL a timestamptz."""

IN_RANGE = "{0} >= %(since)s AND {0} < %(until)s"
EVENTS_IN_RANGE = IN_RANGE.format("created_at")
SUCCEEDED = f"outcome = 'succeeded' AND {EVENTS_IN_RANGE}"
WELCOME_LOTS = "source = 'welcome' AND " + IN_RANGE.format("created_at")
LIVE = "expires_at IS NULL OR expires_at > %(now)s"

DAILY = "SELECT {day}, {key}, COUNT(*), SUM(credits) FROM usage_events WHERE " + SUCCEEDED
DAILY += " GROUP BY {day}, {key}"

PLAIN_SQL: dict[str, str] = {
    "spend_by_feature": DAILY.replace("{key}", "feature"),
    "spend_by_model": DAILY.replace("{key}", "model"),
    "generations_by_model": "SELECT model, outcome, COUNT(*) FROM usage_events"
    f" WHERE {EVENTS_IN_RANGE} GROUP BY model, outcome",
    "grants_by_source": "SELECT source, COUNT(*), SUM(amount) FROM entries WHERE kind = 'grant'"
    f" AND {IN_RANGE.format('effective_at')} GROUP BY source",
    "revenue_by_pack": "SELECT k.key, p.currency, COUNT(*), SUM(p.amount_minor),"
    " SUM(p.refunded_minor) FROM purchases p JOIN packs k ON k.id = p.pack_id"
    " WHERE p.status IN ('paid', 'refunded', 'disputed') AND p.amount_minor > 0"
    f" AND {IN_RANGE.format('p.paid_at')} GROUP BY k.key, p.currency",
    "top_spenders": "SELECT a.external_id, t.events, t.spent FROM (SELECT account_id,"
    f" COUNT(*) AS events, SUM(credits) AS spent FROM usage_events WHERE {SUCCEEDED}"
    " GROUP BY account_id ORDER BY spent DESC, account_id LIMIT 10) t"
    " JOIN accounts a ON a.id = t.account_id ORDER BY t.spent DESC, t.account_id",
    "guest_conversion": "SELECT COUNT(*), COUNT(account_id) FROM guest_sessions"
    f" WHERE {IN_RANGE.format('first_seen_at')}",
    "welcome_usage": f"SELECT COUNT(*), COALESCE(SUM(amount), 0),"
    f" COALESCE(SUM(CASE WHEN {LIVE} THEN remaining ELSE 0 END), 0),"
    f" COALESCE(SUM(CASE WHEN {LIVE} THEN 0 ELSE remaining END), 0),"
    " (SELECT COALESCE(SUM(-m.amount), 0) FROM lots l JOIN entry_lots m ON m.lot_id = l.id"
    " JOIN entries e ON e.id = m.entry_id"
    f" WHERE e.kind = 'expire' AND l.{WELCOME_LOTS.replace('created_at', 'l.created_at')})"
    f" FROM lots WHERE {WELCOME_LOTS}",
}

TIMED = f"{SUCCEEDED} AND latency_ms IS NOT NULL"
LATENCY_SQL: dict[str, str] = {
    # SQLite has no percentile function: the nearest rank by ROW_NUMBER and COUNT.
    "sqlite": "SELECT model, COUNT(*), SUM(latency_ms),"
    " MAX(CASE WHEN rank = (95 * n + 99) / 100 THEN latency_ms END) FROM (SELECT model,"
    " latency_ms, ROW_NUMBER() OVER (PARTITION BY model ORDER BY latency_ms) AS rank,"
    f" COUNT(*) OVER (PARTITION BY model) AS n FROM usage_events WHERE {TIMED})"
    " GROUP BY model",
    # percentile_disc(0.95) is the least value whose cumulative share reaches 95 %: the
    # nearest rank.
    "postgresql": "SELECT model, COUNT(*), SUM(latency_ms),"
    " percentile_disc(0.95) WITHIN GROUP (ORDER BY latency_ms) FROM usage_events"
    f" WHERE {TIMED} GROUP BY model",
}


def plain_sql(figure: str, backend: Backend) -> str:
    """The figure's plain query, in the placeholders of the backend's driver."""
    sql = LATENCY_SQL[backend] if figure == "latency_by_model" else PLAIN_SQL[figure]
    sql = sql.replace("{day}", DAY[backend])
    return re.sub(r"%\((\w+)\)s", r":\1", sql) if backend == "sqlite" else sql


def _stamp(backend: Backend, at: datetime) -> Any:
    """A time as the backend's table holds it (SQLite: naive UTC text, microseconds)."""
    if backend == "postgresql":
        return at
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _none_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _daily(rows: list[Any]) -> list[tuple[date, Any, int, Credits]]:
    found = [(_day(d), k, int(n), Credits(int(u))) for d, k, n, u in rows]
    return sorted(found, key=lambda r: (r[0], _none_first(r[1])))


def _generations(rows: list[Any]) -> tuple[ModelGenerations, ...]:
    counts: dict[str | None, dict[str, int]] = {}
    for model, outcome, n in rows:
        counts.setdefault(model, {})[outcome] = int(n)
    return tuple(
        ModelGenerations(
            model=model,
            succeeded=n.get("succeeded", 0),
            failed=n.get("failed", 0),
            released=n.get("released", 0),
            refused=n.get("refused", 0),
        )
        for model, n in sorted(counts.items(), key=lambda item: _none_first(item[0]))
    )


def _welcome(rows: list[Any]) -> WelcomeUsage:
    ((count, granted, unused, dead, swept),) = rows
    expired = int(dead) + int(swept)
    return WelcomeUsage(
        lots=int(count),
        granted=Credits(int(granted)),
        spent=Credits(int(granted) - int(unused) - expired),
        expired=Credits(expired),
        unused=Credits(int(unused)),
    )


PLAIN_FIGURE: dict[str, Callable[[list[Any]], object]] = {
    "spend_by_feature": lambda rows: tuple(
        FeatureSpend(day=d, feature=k, events=n, credits=c) for d, k, n, c in _daily(rows)
    ),
    "spend_by_model": lambda rows: tuple(
        ModelSpend(day=d, model=k, events=n, credits=c) for d, k, n, c in _daily(rows)
    ),
    "generations_by_model": _generations,
    "latency_by_model": lambda rows: tuple(
        sorted(
            (
                ModelLatency(model=m, events=int(n), total_ms=int(t), p95_ms=int(p))
                for m, n, t, p in rows
            ),
            key=lambda r: _none_first(r.model),
        )
    ),
    "grants_by_source": lambda rows: tuple(
        SourceGrants(source=LotSource(s), grants=int(n), credits=Credits(int(u)))
        for s, n, u in sorted(rows, key=lambda r: str(r[0]))
    ),
    "revenue_by_pack": lambda rows: tuple(
        PackRevenue(pack=k, currency=c, purchases=int(n), gross_minor=int(g), refunded_minor=int(r))
        for k, c, n, g, r in sorted(rows, key=lambda r: (r[0], r[1]))
    ),
    "top_spenders": lambda rows: tuple(
        AccountSpend(account_id=AccountId(a), events=int(n), credits=Credits(int(u)))
        for a, n, u in rows
    ),
    "guest_conversion": lambda rows: GuestConversion(
        sessions=int(rows[0][0]), linked=int(rows[0][1])
    ),
    "welcome_usage": _welcome,
}
"""A plain query's rows made into the figure the verb returns, to check the two agree."""


# Measuring

PlainConnection = sqlite3.Connection | psycopg.Connection


@dataclass(slots=True)
class Reading:
    """One figure over one range: the verb's and the plain query's times, and the figure."""

    figure: str
    range_name: str
    verb_ms: list[float] = field(default_factory=list)
    plain_ms: list[float] = field(default_factory=list)
    found: object = None

    @property
    def verb_median_ms(self) -> float:
        """The verb's median time."""
        return statistics.median(self.verb_ms)

    @property
    def plain_median_ms(self) -> float:
        """The plain query's median time."""
        return statistics.median(self.plain_ms)


def _params(backend: Backend, range_name: str) -> dict[str, Any]:
    since, until = RANGES[range_name]
    return {
        name: _stamp(backend, at) for name, at in (("since", since), ("until", until), ("now", NOW))
    }


def read_figure(
    engine: Engine,
    conn: PlainConnection,
    backend: Backend,
    figure: str,
    range_name: str,
    repeats: int,
) -> Reading:
    """Time the verb and the plain query alternately, after a first run of each that must agree."""
    since, until = RANGES[range_name]
    verb = partial(getattr(engine, figure), since=since, until=until)
    sql, params = plain_sql(figure, backend), _params(backend, range_name)

    def plain() -> list[Any]:
        return list(conn.execute(sql, params).fetchall())

    reading = Reading(figure, range_name)
    reading.found = verb()
    from_sql = PLAIN_FIGURE[figure](plain())
    assert reading.found == from_sql, f"{figure} {range_name}: the verb and plain SQL differ"
    pair: list[tuple[Callable[[], object], list[float]]] = [
        (verb, reading.verb_ms),
        (plain, reading.plain_ms),
    ]
    for repeat in range(repeats):
        for call, into in pair if repeat % 2 == 0 else reversed(pair):
            started = time.perf_counter()
            call()
            into.append((time.perf_counter() - started) * 1000)
    return reading


def report_ms(label: str, reading: Reading) -> None:
    """Print `label: X ms | plain GROUP BY Y ms | ratio R | gap G ms`."""
    verb, plain = reading.verb_median_ms, reading.plain_median_ms
    print(
        f"{label}: {verb:,.1f} ms | plain GROUP BY {plain:,.1f} ms"
        f" | ratio {plain / verb:.2f} | gap {verb - plain:+,.1f} ms",
        flush=True,
    )


@contextmanager
def _plain_connection(backend: Backend, url: str) -> Iterator[PlainConnection]:
    """The floor's driver on the engine's database; on PostgreSQL each query its own commit."""
    with floor_connection(backend, url) as conn:
        if isinstance(conn, psycopg.Connection):
            conn.autocommit = True
        yield conn


def explain(engine: Engine, conn: PlainConnection, backend: Backend, figure: str) -> None:
    """Print the plans of the verb's statement (caught on its way to the driver) and of the
    plain query, over the year."""
    since, until = RANGES["year"]
    caught: list[tuple[str, Any]] = []

    def catch(*args: Any) -> None:
        caught.append((args[2], args[3]))

    event.listen(engine.db.engine, "before_cursor_execute", catch)
    try:
        getattr(engine, figure)(since=since, until=until)
    finally:
        event.remove(engine.db.engine, "before_cursor_execute", catch)
    (statement, parameters), *_ = (c for c in caught if c[0].lstrip().startswith("SELECT"))
    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    with engine.db.read() as read:
        verb_plan = [row[-1] for row in read.exec_driver_sql(prefix + statement, parameters)]
    plain_plan = conn.execute(prefix + plain_sql(figure, backend), _params(backend, "year"))
    for whose, plan in (("the verb's", verb_plan), ("the plain query's", plain_plan)):
        note(f"{backend} {figure} range=year, {whose} plan:")
        for row in plan:
            note(f"  {row if isinstance(row, str) else row[-1]}")


# The run


def _ledger_note(engine: Engine, backend: Backend, template: Template, seconds: float) -> None:
    counts = ", ".join(
        f"{t.name} {COPIES * template.count(t):,}"
        for t in (accounts, usage_events, entries, entry_lots, holds, lots, purchases)
    )
    ranged = []
    with engine.db.read() as conn:
        for name, (since, until) in RANGES.items():
            c = usage_events.c
            stmt = select(func.count()).where(c.created_at >= since, c.created_at < until)
            ranged.append(f"{name} {conn.execute(stmt).scalar_one():,}")
    note(
        f"{backend}: ledger made in {seconds:.1f} s: {counts}; events in range {', '.join(ranged)}"
    )


Figures = dict[tuple[str, str], object]
"""Each figure read, by figure and range."""


def run(args: argparse.Namespace, backend: Backend, template: Template, directory: Path) -> Figures:
    """Copy the template into a new database of the backend, check it, read every figure."""
    with scratch_database(backend, "analytics", directory) as url:
        started = time.perf_counter()
        engine = open_engine(url, clock=ManualClock(NOW))
        try:
            copy_ledger(engine, template)
            analyze(backend, url)
            _ledger_note(engine, backend, template, time.perf_counter() - started)
            check_copies(engine, template)
            started = time.perf_counter()
            checked = engine.verify()
            assert checked.is_clean, f"verify found problems: {checked.problems[:3]}"
            assert checked.entries == COPIES * template.count(entries)
            note(
                f"{backend}: copies read back as their originals; verify clean over"
                f" {checked.entries:,} entries in {time.perf_counter() - started:.1f} s"
            )
            with _plain_connection(backend, url) as conn:
                return measure(engine, conn, backend, args.repeats)
        finally:
            engine.close()


def measure(engine: Engine, conn: PlainConnection, backend: Backend, repeats: int) -> Figures:
    """Every figure over every range, the verb against its plain query; then the plans of the
    slowest figure over the year and of the one furthest from its plain query."""
    readings = []
    for range_name in RANGES:
        for figure in FIGURES:
            reading = read_figure(engine, conn, backend, figure, range_name, repeats)
            report_ms(f"{figure} {backend} range={range_name}", reading)
            readings.append(reading)
    year = [r for r in readings if r.range_name == "year"]
    slowest = max(year, key=lambda r: r.verb_median_ms)
    furthest = min(year, key=lambda r: r.plain_median_ms / r.verb_median_ms)
    for figure in dict.fromkeys((slowest.figure, furthest.figure)):
        explain(engine, conn, backend, figure)
    return {(r.figure, r.range_name): r.found for r in readings}


def _extra_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events",
        type=int,
        default=EVENTS_DEFAULT,
        help=f"usage events (default {EVENTS_DEFAULT:,}; rounded down to a multiple of {COPIES})",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=REPEATS_DEFAULT,
        help=f"timed runs of each figure, verb and plain query each (default {REPEATS_DEFAULT})",
    )


def main() -> None:
    """Run the analytics benchmark."""
    args = parse_args(__doc__ or "", seconds=None, threads=None, extra=_extra_args)
    uses = args.events // COPIES
    assert uses >= USES_PER_ACCOUNT, f"at least {COPIES * USES_PER_ACCOUNT:,} events"
    header("analytics: each figure through the Engine against a plain SQL GROUP BY")
    read: list[Figures] = []
    with scratch_dir(args.dir) as directory:
        with scratch_database("sqlite", "analytics_template", directory) as template_url:
            template = live_template(template_url, uses)
        note(
            f"template: {uses:,} uses by {template.count(accounts):,} accounts lived through"
            f" the public Engine in {template.seconds:.1f} s; the ledger is {COPIES} copies of it"
        )
        for backend in backends(args.backend):
            read.append(run(args, backend, template, directory))
    if len(read) == 2:
        assert read[0] == read[1], "the backends read different figures"
        note("every figure is the same on both backends")
    footer()


if __name__ == "__main__":
    main()
