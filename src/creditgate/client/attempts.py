"""When a call is sent again: a lost answer, a busy gateway; bounded, with a short backoff.

A call whose answer was lost may or may not have taken effect. Sending it again is safe
only when it cannot take effect twice: a read, a ledger write (its `Idempotency-Key` is
the same on every attempt, so the service answers the first result again), or a write that
sets values (an account's flags, a catalog). A request that never left (the connection was
refused) is safe to send again whatever it is. Anything else surfaces its failure at once.
"""

from typing import Any

import httpx

from creditgate.client.calls import Call
from creditgate.domain.errors import InvalidInput

RETRIES_MAX = 10
"""The most attempts after the first a client may be configured with."""

RETRY_STATUSES = frozenset({502, 503, 504})
"""A gateway or a restarting service: the request may not have been handled."""

BACKOFF_S = 0.05
BACKOFF_S_MAX = 1.0
"""The pause before attempt n+1 is BACKOFF_S * 2**n, at most BACKOFF_S_MAX."""

_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures before the request left: it cannot have taken effect."""


def check_retries(retries: object) -> int:
    """How many times a client sends a call again at most.

    Raises:
        InvalidInput: not an integer from 0 to RETRIES_MAX.
    """
    if type(retries) is not int or not 0 <= retries <= RETRIES_MAX:
        raise InvalidInput(field="retries", reason=f"an integer from 0 to {RETRIES_MAX}")
    return retries


def may_resend_after_error(call: Call[Any], error: httpx.TransportError) -> bool:
    """Whether `call` may be sent again after this network failure."""
    return call.is_repeatable or isinstance(error, _UNSENT)


def may_resend_after_status(call: Call[Any], status: int) -> bool:
    """Whether `call` may be sent again after this answer."""
    return call.is_repeatable and status in RETRY_STATUSES


def backoff_s(attempt: int) -> float:
    """Seconds to wait after the failed attempt `attempt` (0 is the first)."""
    return float(min(BACKOFF_S_MAX, BACKOFF_S * 2**attempt))
