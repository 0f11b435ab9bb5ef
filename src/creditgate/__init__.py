"""creditgate: prepaid credits for AI applications.

Embedded in one line::

    import creditgate
    engine = creditgate.Engine("sqlite:///credits.db")

The public API is this module's `__all__`: the engine, the amount type, the results and
the errors. Everything else is internal.
"""

from importlib.metadata import version

from creditgate.client import AsyncClient, Client
from creditgate.domain.accounts import Account, CapPeriod, Member, OwnerKind
from creditgate.domain.amounts import SCALE, Credits
from creditgate.domain.catalog import Catalog, Change, ChangeKind, FeatureSpec
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import (
    AccountFrozen,
    AccountNotFound,
    Conflict,
    CreditgateError,
    EntryNotFound,
    FeatureExists,
    FeatureNotFound,
    Forbidden,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    KeyNotFound,
    MemberCapExceeded,
    MemberNotFound,
    NotFound,
    PackClaimed,
    PackExists,
    PackNotFound,
    PlanExists,
    PlanNotFound,
    PromoExists,
    PromoNotFound,
    PromoRedeemed,
    PromoUnavailable,
    ProviderFailed,
    PurchaseNotFound,
    RateLimited,
    ReferralExists,
    ReferralsOff,
    SignatureInvalid,
    SubscriptionNotFound,
    Unauthenticated,
    Unavailable,
)
from creditgate.domain.events import EventResult, Provider, ProviderEvent
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.lots import LotSource
from creditgate.domain.packs import Pack, PackSpec, Purchase, PurchaseKind, PurchaseStatus
from creditgate.domain.plans import Cycle, Interval, Plan, PlanSpec, Rollover, Subscription
from creditgate.domain.pricing import (
    Feature,
    Flat,
    PerBlock,
    Price,
    PriceSpec,
    Quote,
    Rounding,
    Tier,
    Tiered,
    TokenCounts,
    Tokens,
)
from creditgate.domain.promos import Promo, PromoRefusal, PromoSpec
from creditgate.domain.referrals import (
    Referral,
    ReferralCondition,
    ReferralStatus,
    ReferralTerms,
)
from creditgate.domain.results import (
    Balance,
    Check,
    ExpirePass,
    Lifetime,
    Page,
    PeriodUsage,
    PlanOverview,
    Problem,
    Receipt,
    SubscriptionReceipt,
    TransferReceipt,
    VerifyReport,
)
from creditgate.domain.usage import Outcome, UsageEvent, UsageTotal
from creditgate.engine import Engine
from creditgate.engine.clock import Clock, ManualClock, SystemClock
from creditgate.holding import HeldWork
from creditgate.ledger import Ledger

__version__ = version("creditgate")

__all__ = [
    "SCALE",
    "Account",
    "AccountFrozen",
    "AccountNotFound",
    "AsyncClient",
    "Balance",
    "CapPeriod",
    "Catalog",
    "Change",
    "ChangeKind",
    "Check",
    "Client",
    "Clock",
    "Conflict",
    "CreditgateError",
    "Credits",
    "Cycle",
    "Engine",
    "Entry",
    "EntryKind",
    "EntryNotFound",
    "EventResult",
    "ExpirePass",
    "Feature",
    "FeatureExists",
    "FeatureNotFound",
    "FeatureSpec",
    "Flat",
    "Forbidden",
    "HeldWork",
    "Hold",
    "HoldNotFound",
    "HoldNotPending",
    "HoldStatus",
    "IdempotencyConflict",
    "InsufficientCredits",
    "Interval",
    "InvalidInput",
    "KeyNotFound",
    "Ledger",
    "Lifetime",
    "LotMove",
    "LotSource",
    "ManualClock",
    "Member",
    "MemberCapExceeded",
    "MemberNotFound",
    "NotFound",
    "Outcome",
    "OwnerKind",
    "Pack",
    "PackClaimed",
    "PackExists",
    "PackNotFound",
    "PackSpec",
    "Page",
    "PerBlock",
    "PeriodUsage",
    "Plan",
    "PlanExists",
    "PlanNotFound",
    "PlanOverview",
    "PlanSpec",
    "Price",
    "PriceSpec",
    "Problem",
    "Promo",
    "PromoExists",
    "PromoNotFound",
    "PromoRedeemed",
    "PromoRefusal",
    "PromoSpec",
    "PromoUnavailable",
    "Provider",
    "ProviderEvent",
    "ProviderFailed",
    "Purchase",
    "PurchaseKind",
    "PurchaseNotFound",
    "PurchaseStatus",
    "Quote",
    "RateLimited",
    "Receipt",
    "Referral",
    "ReferralCondition",
    "ReferralExists",
    "ReferralStatus",
    "ReferralTerms",
    "ReferralsOff",
    "Rollover",
    "Rounding",
    "SignatureInvalid",
    "Subscription",
    "SubscriptionNotFound",
    "SubscriptionReceipt",
    "SystemClock",
    "Tier",
    "Tiered",
    "TokenCounts",
    "Tokens",
    "TransferReceipt",
    "Unauthenticated",
    "Unavailable",
    "UsageEvent",
    "UsageTotal",
    "VerifyReport",
]
