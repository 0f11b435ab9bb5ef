"""The schema. Every table but `creditgate_meta`, the catalog and API keys carries `account_id`.

The catalog (features, prices, catalog settings) is shared by every account: it is small,
read on every priced call, and replicated whole rather than distributed.

Mutable state (accounts, lots, holds, members) is guarded by CHECK constraints that pair
with the engine's assertions; the ledger (entries, entry_lots) is append-only, enforced by
triggers created in the first migration.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from creditgate.domain.accounts import OwnerKind
from creditgate.domain.entries import EntryKind
from creditgate.domain.holds import HoldStatus
from creditgate.domain.keys import Scope
from creditgate.domain.lots import LotSource
from creditgate.domain.plans import Cycle, Interval, Rollover
from creditgate.domain.usage import Outcome
from creditgate.storage.types import UtcDateTime, enum_check, enum_column

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Id = BigInteger().with_variant(Integer(), "sqlite")
"""Surrogate keys: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite."""

JsonObject = JSON().with_variant(JSON(none_as_null=True), "postgresql")

JsonValue = JSON(none_as_null=True)
"""A usage quantity: a number, or token counts by kind; SQL NULL when there is none."""

meta = Table(
    "creditgate_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("external_id", String(200), nullable=False, unique=True),
    enum_column("owner_kind"),
    Column("balance", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("debt", BigInteger, nullable=False),
    Column("floor", BigInteger, nullable=False),
    Column("is_unlimited", Boolean, nullable=False),
    Column("is_frozen", Boolean, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("next_due_at", UtcDateTime, nullable=True, index=True),
    Column("metadata", JsonObject, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The live subscription's current cycle end: a renewal is due then (also in next_due_at).
    Column("renews_at", UtcDateTime, nullable=True),
    # Usage figures of the current usage period (the plan's cycle, else the calendar
    # month), and lifetime tokens; kept with the balance so a spend updates one row.
    Column("period_started_at", UtcDateTime, nullable=True),
    Column("period_spent", BigInteger, nullable=False, server_default=text("0")),
    Column("period_tokens", BigInteger, nullable=False, server_default=text("0")),
    Column("tokens_used", BigInteger, nullable=False, server_default=text("0")),
    enum_check("owner_kind", OwnerKind),
    CheckConstraint("held >= 0", name="held_not_negative"),
    CheckConstraint("debt >= 0", name="debt_not_negative"),
    CheckConstraint("floor <= 0", name="floor_not_positive"),
    CheckConstraint("seq >= 0", name="seq_not_negative"),
)

members = Table(
    "members",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("member_id", String(200), nullable=False),
    Column("spend_cap", BigInteger, nullable=True),
    Column("spent", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # NULL: the cap counts everything the member ever spent; else per `month` or `cycle`,
    # and `spent` counts from `period_started_at`.
    Column("cap_period", String(32), nullable=True),
    Column("period_started_at", UtcDateTime, nullable=True),
    PrimaryKeyConstraint("account_id", "member_id"),
    CheckConstraint("cap_period IN ('month', 'cycle')", name="cap_period_valid"),
    CheckConstraint("spent >= 0", name="spent_not_negative"),
    CheckConstraint("spend_cap IS NULL OR spend_cap >= 0", name="cap_not_negative"),
)

lots = Table(
    "lots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    enum_column("source"),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("metadata", JsonObject, nullable=False),
    enum_check("source", LotSource),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
    CheckConstraint("held >= 0 AND held <= remaining", name="held_within_remaining"),
    # Not partial on `remaining`: an index whose condition names a column the hot path
    # updates turns every lot update into a non-HOT update on PostgreSQL.
    Index("ix_lots_account_id", "account_id"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    enum_column("status"),
    Column("captured", BigInteger, nullable=True),
    Column("member_id", String(200), nullable=True),
    Column("feature", String(200), nullable=True),
    Column("model", String(101), nullable=True),
    Column("quantity", JsonValue, nullable=True),
    # A price version; no foreign key (see `entries.price_id`).
    Column("price_id", Id, nullable=True),
    Column("metadata", JsonObject, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    enum_check("status", HoldStatus),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("captured IS NULL OR captured >= 0", name="captured_not_negative"),
    CheckConstraint("(status = 'pending') = (ended_at IS NULL)", name="ended_when_not_pending"),
    Index("ix_holds_account_id_status", "account_id", "status"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    enum_column("kind"),
    Column("amount", BigInteger, nullable=False),
    Column("held_delta", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("held_after", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=True),
    Column("hold_id", Id, ForeignKey("holds.id"), nullable=True),
    Column("ref_entry_id", Id, ForeignKey("entries.id"), nullable=True),
    Column("counterparty", String(200), nullable=True),
    Column("source", String(32), nullable=True),
    Column("member_id", String(200), nullable=True),
    Column("feature", String(200), nullable=True),
    Column("model", String(101), nullable=True),
    Column("quantity", JsonValue, nullable=True),
    # The price version a priced entry used. No foreign key: on SQLite one would force a
    # copy of the whole ledger to add or drop the column; price versions are never deleted
    # once used, and `verify` reads them.
    Column("price_id", Id, nullable=True),
    Column("actor", String(200), nullable=True),
    Column("reason", String(500), nullable=True),
    Column("metadata", JsonObject, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("effective_at", UtcDateTime, nullable=False),
    enum_check("kind", EntryKind),
    UniqueConstraint("account_id", "seq"),
    Index("ix_entries_account_id_effective_at", "account_id", "effective_at"),
    # Partial: most entries (charges, grants) have neither, and need no index entry.
    Index(
        "ix_entries_hold_id",
        "hold_id",
        postgresql_where=text("hold_id IS NOT NULL"),
        sqlite_where=text("hold_id IS NOT NULL"),
    ),
    Index(
        "ix_entries_ref_entry_id",
        "ref_entry_id",
        postgresql_where=text("ref_entry_id IS NOT NULL"),
        sqlite_where=text("ref_entry_id IS NOT NULL"),
    ),
)

entry_lots = Table(
    "entry_lots",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("entry_id", Id, ForeignKey("entries.id"), nullable=False),
    Column("lot_id", Id, ForeignKey("lots.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    PrimaryKeyConstraint("entry_id", "lot_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "operation", "key"),
)

features = Table(
    "features",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(100), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("category", String(500), nullable=True, index=True),
    Column("description", String(500), nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

DEFAULT_MODEL = ""
"""How the feature-wide default price stores its model: NULLs would escape the unique key."""

prices = Table(
    "prices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("feature_id", Id, ForeignKey("features.id"), nullable=False),
    Column("model", String(101), nullable=False),
    Column("version", Integer, nullable=False),
    # The rule as data (`pricing.rule_data`); NULL retires the model's price.
    Column("rule", JsonValue, nullable=True),
    Column("minimum", BigInteger, nullable=True),
    Column("effective_from", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("version >= 1", name="version_positive"),
    CheckConstraint("minimum IS NULL OR minimum >= 0", name="minimum_not_negative"),
    UniqueConstraint("feature_id", "model", "version"),
)

catalog_settings = Table(
    "catalog_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

usage_events = Table(
    "usage_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("member_id", String(200), nullable=True),
    Column("feature", String(200), nullable=True),
    Column("model", String(101), nullable=True),
    Column("quantity", JsonValue, nullable=True),
    Column("credits", BigInteger, nullable=False),
    enum_column("outcome"),
    Column("latency_ms", BigInteger, nullable=True),
    Column("request_id", String(200), nullable=True),
    Column("metadata", JsonObject, nullable=False),
    Column("entry_id", Id, ForeignKey("entries.id"), nullable=True),
    Column("hold_id", Id, ForeignKey("holds.id"), nullable=True),
    Column("price_id", Id, ForeignKey("prices.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    enum_check("outcome", Outcome),
    CheckConstraint("credits >= 0", name="credits_not_negative"),
    CheckConstraint("latency_ms IS NULL OR latency_ms >= 0", name="latency_not_negative"),
    Index("ix_usage_events_account_id_created_at", "account_id", "created_at"),
    Index("ix_usage_events_feature_created_at", "feature", "created_at"),
    Index("ix_usage_events_created_at", "created_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False, unique=True),
    # SHA-256 of the whole key, hex: the secret itself is never stored.
    Column("digest", String(64), nullable=False),
    enum_column("scope"),
    Column("name", String(100), nullable=False),
    # A key bound to one account reaches that account only; NULL reaches every account.
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    enum_check("scope", Scope),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("description", String(500), nullable=True),
    Column("credits", BigInteger, nullable=False),
    # Minor units by interval: {"month": 1500, "year": 21000}.
    Column("prices", JsonObject, nullable=False),
    Column("currency", String(3), nullable=False),
    enum_column("rollover"),
    Column("rollover_cap", BigInteger, nullable=True),
    enum_column("cycle"),
    Column("is_active", Boolean, nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    enum_check("rollover", Rollover),
    enum_check("cycle", Cycle),
    CheckConstraint("credits >= 0", name="credits_not_negative"),
    CheckConstraint("(rollover = 'capped') = (rollover_cap IS NOT NULL)", name="cap_when_capped"),
    # At most one default plan.
    Index(
        "ix_plans_is_default",
        "is_default",
        unique=True,
        postgresql_where=text("is_default"),
        sqlite_where=text("is_default"),
    ),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("plan_id", Id, ForeignKey("plans.id"), nullable=False),
    enum_column("interval"),
    Column("anchor_at", UtcDateTime, nullable=False),
    Column("cycle_months", Integer, nullable=False),
    Column("cycle_index", Integer, nullable=False),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("next_plan_id", Id, ForeignKey("plans.id"), nullable=True),
    Column("next_interval", String(32), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    enum_check("interval", Interval),
    CheckConstraint("cycle_months IN (1, 12)", name="cycle_months_valid"),
    CheckConstraint("cycle_index >= 0", name="cycle_index_not_negative"),
    CheckConstraint("next_interval IN ('month', 'year')", name="next_interval_valid"),
    # One live subscription per account.
    Index(
        "ix_subscriptions_account_id_live",
        "account_id",
        unique=True,
        postgresql_where=text("ended_at IS NULL"),
        sqlite_where=text("ended_at IS NULL"),
    ),
)

plan_cycles = Table(
    "plan_cycles",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("subscription_id", Id, ForeignKey("subscriptions.id"), nullable=False),
    Column("cycle_index", Integer, nullable=False),
    Column("plan_id", Id, ForeignKey("plans.id"), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("carried", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The claim that makes a cycle's grant happen once, in the grant's transaction.
    PrimaryKeyConstraint("subscription_id", "cycle_index"),
    Index("ix_plan_cycles_account_id", "account_id"),
)

CATALOG_REVISION = "revision"
"""The catalog setting every catalog write renews: caches of price rows key on it."""

CATALOG_TABLES = ("features", "prices", "catalog_settings", "plans")
"""Shared by every account: the catalog is read by every priced call."""

SERVICE_TABLES = ("api_keys",)
"""The service's own configuration: keys may be bound to an account, but need not be."""

LEDGER_TABLES = ("entries", "entry_lots")
"""Append-only tables: triggers refuse UPDATE and DELETE on them."""
