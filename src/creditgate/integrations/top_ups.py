"""Starting auto top-up payments: the worker's half of a top-up.

A fall below an account's line records a pending top-up purchase in the transaction that
caused it; here each is charged to the saved card, off-session, outside any transaction.
The purchase's reference is Stripe's idempotency key, so a worker that dies after the
charge and before recording it charges the same payment again, not a second one. A decline
counts as a failed top-up at once; the credits of a payment that went through arrive with
Stripe's `payment_intent.succeeded`.
"""

from dataclasses import dataclass

from creditgate.domain.errors import CreditgateError
from creditgate.engine import Engine
from creditgate.integrations.stripe_gateway import CardDeclined, StripeGateway

BATCH_MAX = 100
"""Top-ups started per pass; the next pass takes the rest."""


@dataclass(frozen=True, slots=True)
class TopUpRun:
    """What one pass did: payments started, cards declined, calls that failed (retried)."""

    started: int = 0
    declined: int = 0
    failed: int = 0


def run_top_ups(engine: Engine, gateway: StripeGateway) -> TopUpRun:
    """Start the payment of every pending top-up (up to `BATCH_MAX`)."""
    started = declined = failed = 0
    for top_up in engine.pending_top_ups(limit=BATCH_MAX):
        try:
            payment_ref = gateway.charge_saved_card(top_up)
        except CardDeclined as declined_card:
            engine.top_up_failed(
                top_up.purchase_id,
                reason=declined_card.reason,
                payment_ref=declined_card.payment_ref,
            )
            declined += 1
            continue
        except CreditgateError:
            # Stripe unreachable or refusing: the purchase stays pending for the next pass,
            # and the idempotency key keeps the retry one payment.
            failed += 1
            continue
        engine.top_up_started(top_up.purchase_id, payment_ref=payment_ref)
        started += 1
    return TopUpRun(started=started, declined=declined, failed=failed)
