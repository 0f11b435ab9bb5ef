"""Rate limits as token buckets: pure arithmetic over an elapsed time the caller measures.

A bucket holds up to `burst` tokens and refills at `rate_per_s`; a call takes one token or
is refused with the whole seconds until a token will be there. Whoever keeps the buckets
(the service, per API key) owns the clock and the state; this module owns only the rule.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Bucket:
    """Tokens left at the instant `at_s` (seconds on the keeper's monotonic clock)."""

    tokens: float
    at_s: float


def take(
    bucket: Bucket | None, *, now_s: float, rate_per_s: float, burst: int
) -> tuple[Bucket, int | None]:
    """Take one token: the bucket after, and None, or the seconds to wait when it is empty.

    A new caller starts with a full bucket; a refused call takes nothing.
    """
    assert rate_per_s > 0
    assert burst >= 1
    if bucket is None:
        bucket = Bucket(tokens=float(burst), at_s=now_s)
    elapsed_s = max(0.0, now_s - bucket.at_s)
    tokens = min(float(burst), bucket.tokens + elapsed_s * rate_per_s)
    if tokens >= 1.0:
        return Bucket(tokens=tokens - 1.0, at_s=now_s), None
    wait_s = max(1, math.ceil((1.0 - tokens) / rate_per_s))
    return Bucket(tokens=tokens, at_s=now_s), wait_s
