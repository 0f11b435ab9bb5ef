"""creditgate: prepaid credits for AI applications.

Embedded in one line::

    import creditgate
    engine = creditgate.Engine("sqlite:///credits.db")

The public API is this module's `__all__`: the engine, the amount type, the results and
the errors. Everything else is internal.
"""

from creditgate.domain.accounts import Account, Member, OwnerKind
from creditgate.domain.amounts import SCALE, Credits
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import (
    AccountFrozen,
    AccountNotFound,
    Conflict,
    CreditgateError,
    EntryNotFound,
    Forbidden,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    MemberCapExceeded,
    MemberNotFound,
    NotFound,
)
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.lots import LotSource
from creditgate.domain.results import (
    Balance,
    ExpirePass,
    Lifetime,
    Page,
    Problem,
    Receipt,
    TransferReceipt,
    VerifyReport,
)
from creditgate.engine import Engine
from creditgate.engine.clock import Clock, ManualClock, SystemClock
from creditgate.engine.holding import HeldWork

__all__ = [
    "SCALE",
    "Account",
    "AccountFrozen",
    "AccountNotFound",
    "Balance",
    "Clock",
    "Conflict",
    "CreditgateError",
    "Credits",
    "Engine",
    "Entry",
    "EntryKind",
    "EntryNotFound",
    "ExpirePass",
    "Forbidden",
    "HeldWork",
    "Hold",
    "HoldNotFound",
    "HoldNotPending",
    "HoldStatus",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidInput",
    "Lifetime",
    "LotMove",
    "LotSource",
    "ManualClock",
    "Member",
    "MemberCapExceeded",
    "MemberNotFound",
    "NotFound",
    "OwnerKind",
    "Page",
    "Problem",
    "Receipt",
    "SystemClock",
    "TransferReceipt",
    "VerifyReport",
]
