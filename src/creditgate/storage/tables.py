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
from creditgate.domain.events import Outcome as EventOutcome
from creditgate.domain.holds import HoldStatus
from creditgate.domain.keys import Scope
from creditgate.domain.lots import LotSource
from creditgate.domain.packs import PurchaseKind, PurchaseStatus
from creditgate.domain.plans import Cycle, Interval, Rollover
from creditgate.domain.referrals import ReferralCondition, ReferralStatus
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
    # Auto top-up, kept with the balance so a spend checks it without another read: the
    # line below which a payment starts (NULL: off), and where the current crossing stands.
    Column("top_up_threshold", BigInteger, nullable=True),
    Column("top_up_state", String(16), nullable=True),
    # Balance alerts, kept with the balance for the same reason: the account's own low line
    # (NULL: the catalog's default applies), and the level its last write left it at.
    Column("alert_low", BigInteger, nullable=True),
    Column("alert_level", String(16), nullable=False, server_default=text("'ok'")),
    enum_check("owner_kind", OwnerKind),
    CheckConstraint(
        "(top_up_threshold IS NULL) = (top_up_state IS NULL)", name="top_up_state_with_threshold"
    ),
    CheckConstraint("top_up_state IN ('armed', 'pending', 'spent')", name="top_up_state_valid"),
    CheckConstraint("alert_level IN ('ok', 'low', 'depleted')", name="alert_level_valid"),
    CheckConstraint("alert_low IS NULL OR alert_low > 0", name="alert_low_positive"),
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
    # Analytics: the lots of one source granted in a range (the welcome credits' use).
    Index("ix_lots_source_created_at", "source", "created_at"),
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
    # Analytics: grants in a range, across accounts. Partial, so the charges that make up
    # most of the ledger write no entry in it.
    Index(
        "ix_entries_effective_at_grant",
        "effective_at",
        postgresql_where=text("kind = 'grant'"),
        sqlite_where=text("kind = 'grant'"),
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
    # Billed by a payment provider: its subscription id, how far it has been paid, and the
    # carry of a cycle that ended while the next period's payment was awaited.
    Column("provider_ref", String(255), nullable=True),
    Column("paid_until", UtcDateTime, nullable=True),
    Column("awaiting_carry", BigInteger, nullable=True),
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
    Index("ix_subscriptions_provider_ref", "provider_ref"),
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

packs = Table(
    "packs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("description", String(500), nullable=True),
    Column("credits", BigInteger, nullable=False),
    Column("bonus_credits", BigInteger, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("badge", String(40), nullable=True),
    Column("is_free_once", Boolean, nullable=False),
    Column("expires_after_days", Integer, nullable=True),
    Column("is_active", Boolean, nullable=False),
    Column("sort_order", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("credits > 0", name="credits_positive"),
    CheckConstraint("bonus_credits >= 0", name="bonus_not_negative"),
    CheckConstraint("is_free_once = (price_minor = 0)", name="free_once_is_free"),
    CheckConstraint("price_minor >= 0", name="price_not_negative"),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    enum_column("kind"),
    Column("pack_id", Id, ForeignKey("packs.id"), nullable=True),
    Column("plan_id", Id, ForeignKey("plans.id"), nullable=True),
    Column("interval", String(32), nullable=True),
    Column("provider", String(32), nullable=False),
    # The provider's checkout id: the business key that makes a purchase grant once.
    Column("reference", String(255), nullable=False),
    Column("payment_ref", String(255), nullable=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    enum_column("status"),
    Column("credits", BigInteger, nullable=False),
    Column("lot_id", Id, ForeignKey("lots.id"), nullable=True),
    Column("bonus_lot_id", Id, ForeignKey("lots.id"), nullable=True),
    Column("refunded_minor", BigInteger, nullable=False),
    Column("taken_back", BigInteger, nullable=False),
    Column("owed", BigInteger, nullable=False),
    Column("note", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("paid_at", UtcDateTime, nullable=True),
    enum_check("kind", PurchaseKind),
    enum_check("status", PurchaseStatus),
    CheckConstraint("credits >= 0 AND taken_back >= 0 AND owed >= 0", name="figures_valid"),
    CheckConstraint("taken_back + owed <= credits", name="taken_back_within_credits"),
    CheckConstraint("refunded_minor BETWEEN 0 AND amount_minor", name="refund_within_amount"),
    UniqueConstraint("provider", "reference"),
    Index("ix_purchases_account_id_created_at", "account_id", "created_at"),
    Index("ix_purchases_payment_ref", "payment_ref"),
    # Analytics: revenue by when it was paid.
    Index("ix_purchases_paid_at", "paid_at"),
    # A free-once pack is claimed once per account.
    Index(
        "ix_purchases_account_id_pack_id_free",
        "account_id",
        "pack_id",
        unique=True,
        postgresql_where=text("provider = 'free'"),
        sqlite_where=text("provider = 'free'"),
    ),
)

provider_events = Table(
    "provider_events",
    metadata,
    Column("provider", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("type", String(255), nullable=False),
    enum_column("outcome"),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("purchase_id", Id, ForeignKey("purchases.id"), nullable=True),
    Column("detail", JsonObject, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    enum_check("outcome", EventOutcome),
    # The claim that makes a delivery take effect once, committed with its effect.
    PrimaryKeyConstraint("provider", "event_id"),
    Index("ix_provider_events_received_at", "received_at"),
)

promo_codes = Table(
    "promo_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Upper case: codes are compared case-insensitively by storing one form.
    Column("code", String(64), nullable=False, unique=True),
    Column("credits", BigInteger, nullable=False),
    Column("expires_after_days", Integer, nullable=True),
    Column("starts_at", UtcDateTime, nullable=True),
    Column("ends_at", UtcDateTime, nullable=True),
    Column("max_redemptions", BigInteger, nullable=True),
    # Counted by the conditional UPDATE that claims a redemption, so never past the maximum.
    Column("redeemed", BigInteger, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("credits > 0", name="credits_positive"),
    CheckConstraint("expires_after_days IS NULL OR expires_after_days > 0", name="expiry_positive"),
    CheckConstraint(
        "starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_valid"
    ),
    CheckConstraint(
        "redeemed >= 0 AND (max_redemptions IS NULL OR redeemed <= max_redemptions)",
        name="redeemed_within_max",
    ),
)

promo_redemptions = Table(
    "promo_redemptions",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("promo_id", Id, ForeignKey("promo_codes.id"), nullable=False),
    Column("entry_id", Id, ForeignKey("entries.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The claim that makes a code grant once per account, written in the grant's transaction.
    PrimaryKeyConstraint("account_id", "promo_id"),
    Index("ix_promo_redemptions_promo_id", "promo_id"),
)

referrals = Table(
    "referrals",
    metadata,
    # The referee: its key is the claim that makes an account referred once.
    Column("account_id", Id, ForeignKey("accounts.id"), primary_key=True),
    Column("referrer_id", Id, ForeignKey("accounts.id"), nullable=False),
    enum_column("condition"),
    enum_column("status"),
    # The terms in force when the referral was recorded: what it pays when granted.
    Column("referrer_credits", BigInteger, nullable=False),
    Column("referee_credits", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("granted_at", UtcDateTime, nullable=True),
    enum_check("condition", ReferralCondition),
    enum_check("status", ReferralStatus),
    CheckConstraint("referrer_id <> account_id", name="not_self"),
    CheckConstraint("referrer_credits >= 0 AND referee_credits >= 0", name="credits_valid"),
    CheckConstraint("(status = 'granted') = (granted_at IS NOT NULL)", name="granted_when_granted"),
    Index("ix_referrals_referrer_id_created_at", "referrer_id", "created_at"),
)

auto_top_ups = Table(
    "auto_top_ups",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), primary_key=True),
    Column("pack_id", Id, ForeignKey("packs.id"), nullable=False),
    Column("customer_ref", String(255), nullable=False),
    Column("payment_method_ref", String(255), nullable=False),
    # The threshold as last set: what a disabled setting shows (the live one is on accounts).
    Column("last_threshold", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("failures_max", Integer, nullable=False),
    Column("disabled_reason", String(500), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("failures >= 0 AND failures_max >= 1", name="failures_valid"),
)

guest_windows = Table(
    "guest_windows",
    metadata,
    # One rolling window of guest uses: a quota's scope and a session or a network.
    Column("key", String(255), primary_key=True),
    # The instants of the uses still in the window, in milliseconds since the epoch.
    Column("uses", JSON, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_guest_windows_expires_at", "expires_at"),
)

guest_sessions = Table(
    "guest_sessions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("first_seen_at", UtcDateTime, nullable=False),
    # Set when the guest signs up: guest-to-sign-up conversion counts these.
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=True),
    Column("linked_at", UtcDateTime, nullable=True),
    CheckConstraint("(account_id IS NULL) = (linked_at IS NULL)", name="linked_with_account"),
    Index("ix_guest_sessions_first_seen_at", "first_seen_at"),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2048), nullable=False),
    Column("description", String(500), nullable=True),
    # Event type values, sorted, or ["*"] for every type.
    Column("event_types", JSON, nullable=False),
    # Kept in the clear: every delivery is signed with it (it is shown to the app once).
    Column("secret", String(100), nullable=False),
    Column("is_enabled", Boolean, nullable=False),
    Column("disabled_reason", String(500), nullable=True),
    Column("failing_since", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    # The `webhook-id` of every delivery: random, so two installations never share one.
    Column("event_id", String(40), nullable=False, unique=True),
    Column("type", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_outbox_events_created_at", "created_at"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("event_id", Id, ForeignKey("outbox_events.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    # A worker's claim: its token and until when it holds; another worker may take the
    # delivery once the lease has passed (the first one died, or hangs).
    Column("lease", String(32), nullable=True),
    Column("leased_until", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("status IN ('pending', 'delivered')", name="status_valid"),
    CheckConstraint("failures >= 0", name="failures_not_negative"),
    CheckConstraint(
        "(status = 'delivered') = (delivered_at IS NOT NULL)", name="delivered_when_delivered"
    ),
    UniqueConstraint("endpoint_id", "event_id"),
    # What the worker asks of each candidate: an earlier pending delivery of its endpoint
    # and account. Partial, so the delivered history (most rows) is never scanned.
    Index(
        "ix_webhook_deliveries_endpoint_id_account_id_event_id",
        "endpoint_id",
        "account_id",
        "event_id",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    # Partial: delivered rows, the most of them, need no entry in the worker's index.
    Index(
        "ix_webhook_deliveries_next_attempt_at",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index("ix_webhook_deliveries_event_id", "event_id"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("account_id", Id, ForeignKey("accounts.id"), nullable=False),
    Column("delivery_id", Id, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("duration_ms", BigInteger, nullable=False),
    CheckConstraint("duration_ms >= 0", name="duration_not_negative"),
    Index("ix_webhook_attempts_delivery_id", "delivery_id"),
)

widget_keys = Table(
    "widget_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # 32 random bytes, hex: widget tokens are signed with it, so it never leaves the service.
    Column("secret", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("retired_at", UtcDateTime, nullable=True),
)

CATALOG_REVISION = "revision"
"""The catalog setting every catalog write renews: caches of price rows key on it."""

CATALOG_TABLES = ("features", "prices", "catalog_settings", "plans", "packs", "promo_codes")
"""Shared by every account: the catalog is read by every priced call, a promo code by every
account that redeems it."""

SERVICE_TABLES = (
    "api_keys",
    "provider_events",
    "guest_windows",
    "guest_sessions",
    "webhook_endpoints",
    "widget_keys",
)
"""The service's own records: keys may be bound to an account, but need not be, a
provider's event is claimed before the account it names is known, guests have none, and a
webhook endpoint hears the events of every account, and a widget key signs the tokens of
every account."""

LEDGER_TABLES = ("entries", "entry_lots")
"""Append-only tables: triggers refuse UPDATE and DELETE on them."""
