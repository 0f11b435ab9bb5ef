"""Every bound the ledger enforces, named once.

Bounds exist so that every loop terminates and every sum fits in a signed 64-bit column.
"""

from datetime import timedelta

AMOUNT_UNITS_MAX = 10**15
"""Largest amount in units (a trillion credits): sums of many stay inside int64."""

PRIORITY_MAX = 1_000_000
"""Lot priorities lie in [-PRIORITY_MAX, PRIORITY_MAX]; lower burns first."""

HOLD_TTL_MIN = timedelta(seconds=1)
HOLD_TTL_MAX = timedelta(days=7)
"""A hold lives at least a second and at most a week: work longer than that is not a hold."""

PAGE_SIZE_DEFAULT = 50
PAGE_SIZE_MAX = 500
"""History pages: the default and the largest size a caller may ask for."""

ACCOUNT_ID_LENGTH_MAX = 200
IDEMPOTENCY_KEY_LENGTH_MAX = 200
TEXT_LENGTH_MAX = 500
"""Lengths of the app's ids, idempotency keys and free text (reasons, labels)."""

METADATA_BYTES_MAX = 8192
"""Metadata is a small JSON object, not a document store."""

LOTS_PER_SPEND_MAX = 10_000
"""A single spend touches at most this many lots; beyond it the app should consolidate."""

SWEEP_BATCH_MAX = 500
"""Due accounts listed per query of the expiry pass; each gets its own transaction."""

QUANTITY_MAX = 10**12
"""Largest quantity of one call (seconds, images, tokens of each kind)."""

PER_TOKENS_MAX = 10**9
"""A token rate is per at most a billion tokens."""

TIERS_MAX = 100
"""A tiered price has at most this many tiers."""

FEATURES_MAX = 10_000
"""A catalog holds at most this many features (a catalog file is read whole)."""

PRICES_PER_FEATURE_MAX = 1_000
"""A feature has at most this many models priced at once."""

PLAN_PRICE_MINOR_MAX = 10**10
"""A plan's price per interval is at most a hundred million of a currency's major unit."""

PLANS_MAX = 1_000
"""A catalog holds at most this many plans."""

CATCH_UP_CYCLES_MAX = 12_000
"""The most cycles one renewal writes for one account (a thousand years of monthly cycles):
a bound that keeps the catch-up loop finite, not a limit anyone meets."""

PROMO_CODE_LENGTH_MIN = 3
PROMO_CODE_LENGTH_MAX = 64
"""A promo code is long enough not to be typed by accident, short enough to be typed at all."""

PROMO_EXPIRY_DAYS_MAX = 36_500
"""A promo code's credits may be given a lifetime of at most a hundred years."""

PROMO_REDEMPTIONS_MAX = 10**9
"""The largest maximum of redemptions a code may have (no maximum at all is also allowed)."""

PACKS_MAX = 1_000
"""A catalog holds at most this many packs."""

BADGE_LENGTH_MAX = 40
"""A pack's badge is a short label on the purchase page ("most popular")."""

PACK_EXPIRY_DAYS_MAX = 36_500
"""A pack's credits may be given a lifetime of at most a hundred years."""

SORT_ORDER_MAX = 1_000_000
"""Sort orders lie in [-SORT_ORDER_MAX, SORT_ORDER_MAX]."""

EVENT_ID_LENGTH_MAX = 255
"""A provider's event or message id is at most this long (Stripe's and Svix's are far shorter)."""

TOP_UP_FAILURES_MAX = 100
"""Auto top-up turns off after at most this many failed payments in a row."""

GUEST_QUOTAS_MAX = 100
"""A catalog holds at most this many guest quotas (one per feature, one for all)."""

GUEST_USES_MAX = 1_000
"""A guest quota allows at most this many uses per window: guests try, they do not work."""

GUEST_WINDOW_MAX_S = 366 * 86400
"""A guest quota's window is at most a year."""

SESSION_ID_LENGTH_MAX = 128
"""The longest guest session id an app may pass."""

ANALYTICS_RANGE_MAX = timedelta(days=366)
"""An analytics figure covers at most a year (a leap year whole): longer is an export."""

TOP_ACCOUNTS_DEFAULT = 10
TOP_ACCOUNTS_MAX = 100
"""The top spenders figure lists this many accounts by default, and at most this many."""
