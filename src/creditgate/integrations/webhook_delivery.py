"""Sending the outbox: the worker's half of outgoing webhooks.

`deliver_due` claims due deliveries from the engine, sends each as a signed POST outside
any transaction, and records the attempt. Every claim is leased, so any number of workers
(threads, processes, machines) may run it at once: each delivery is sent by one of them
at a time, and a delivery whose worker died is taken over when its lease passes. A claim
holds at most one delivery per endpoint and account, the earliest still pending, so the
deliveries of one round may be sent in parallel without breaking any account's order.

Signatures follow the Standard Webhooks scheme, computed by Svix's own package: the
headers `webhook-id` (the event's id, the same on every attempt: receivers deduplicate on
it), `webhook-timestamp` and `webhook-signature`. The timestamp is the real time of the
attempt, not the engine's clock: the receiver judges it against its own clock, and a
ledger driven by a simulated clock must still be verifiable.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version

import httpx
from svix.webhooks import Webhook

from creditgate.domain.webhooks import (
    AttemptOutcome,
    DeliveryPolicy,
    DeliveryStatus,
    DueDelivery,
    is_success,
)
from creditgate.engine import Engine
from creditgate.engine.clock import SystemClock

ROUND_MAX = 16
"""Deliveries claimed and sent (in parallel) per round: a round lasts at most about one
request timeout, far inside a lease."""

ROUNDS_MAX = 1000
"""A bound on the rounds of one call (each round sends at least one delivery)."""

ERROR_BODY_CHARS = 200
"""Characters of a failing answer's body kept in the delivery log."""

DEFAULT_TIMEOUT_S = 10.0
"""How long one attempt may take, connect to last byte, unless the client says otherwise."""

_wall = SystemClock()
_agent = f"creditgate-webhooks/{version('creditgate')}"


@dataclass(frozen=True, slots=True)
class DeliveryRun:
    """What one call did: deliveries the endpoints took, and attempts that failed (retried)."""

    delivered: int = 0
    failed: int = 0


def new_client(timeout_s: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    """An HTTP client for deliveries: a timeout on every attempt, redirects not followed."""
    return httpx.Client(timeout=timeout_s, follow_redirects=False)


def signed_headers(due: DueDelivery) -> dict[str, str]:
    """The headers of one attempt, signed now (real time) with the endpoint's secret."""
    signed_at = _wall.now()
    return {
        "content-type": "application/json",
        "user-agent": _agent,
        "webhook-id": due.event_id,
        "webhook-timestamp": str(int(signed_at.timestamp())),
        "webhook-signature": Webhook(due.secret).sign(due.event_id, signed_at, due.body),
    }


def send(client: httpx.Client, due: DueDelivery) -> AttemptOutcome:
    """POST one delivery; what came back, or why nothing did, and how long it took."""
    started = time.perf_counter()
    try:
        response = client.post(due.url, content=due.body.encode(), headers=signed_headers(due))
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        reason = str(exc) or "no answer"
        return AttemptOutcome(
            status_code=None, error=f"{type(exc).__name__}: {reason}", duration_ms=elapsed_ms
        )
    elapsed_ms = int((time.perf_counter() - started) * 1000)
    error = None
    if not is_success(response.status_code):
        error = f"HTTP {response.status_code}: {response.text[:ERROR_BODY_CHARS]}"
    return AttemptOutcome(status_code=response.status_code, error=error, duration_ms=elapsed_ms)


def deliver_due(
    engine: Engine,
    *,
    client: httpx.Client,
    limit: int = 500,
    policy: DeliveryPolicy | None = None,
) -> DeliveryRun:
    """Send what is due, up to `limit` attempts, round after round until nothing is due.

    A round claims up to ROUND_MAX deliveries, sends them in parallel, and records each
    attempt; the next round finds the deliveries that the previous one let through (an
    account's next event once its last was delivered).
    """
    rules = policy or DeliveryPolicy()
    delivered = failed = 0
    with ThreadPoolExecutor(max_workers=ROUND_MAX, thread_name_prefix="webhook") as senders:
        for _ in range(ROUNDS_MAX):
            room = limit - delivered - failed
            if room <= 0:
                break
            claimed = engine.claim_webhook_deliveries(limit=min(room, ROUND_MAX), lease=rules.lease)
            if not claimed:
                break
            outcomes = list(senders.map(lambda due: send(client, due), claimed))
            for due, outcome in zip(claimed, outcomes, strict=True):
                status = engine.record_webhook_attempt(
                    due, outcome, disable_after=rules.disable_after
                )
                if status is DeliveryStatus.DELIVERED and is_success(outcome.status_code):
                    delivered += 1
                else:
                    failed += 1
    return DeliveryRun(delivered=delivered, failed=failed)
