"""The domain: the words of creditgate and the rules that hold between them.

What it owns: exact amounts (`Credits`), the error tree, every bound, and the pure
decisions of the ledger: the order in which lots burn (`lots.burn_key`), how a spend is
split across lots and debt (`lots.plan_burn`), how a hold moves through its states
(`holds`), what falls due at a given instant (`due.plan_due`), which balance alerts a
change of level raises (`alerts.crossings`), and when a failed webhook delivery is tried
again (`webhooks.retry_delay`).

Invariants it states (the engine keeps them, `creditgate verify` checks them):

1. A balance never goes below its floor.
2. balance = sum of entries = sum of lots' remaining - debt; held = sum of pending holds.
3. The ledger is append-only.
4. An idempotency key takes effect at most once.
5. An external event grants credits at most once.
6. Every hold ends exactly once: settled, released or expired.
7. Refunds of a charge never add up to more than the charge.
8. An expired lot's remainder leaves through exactly one expire entry.

Boundaries: standard library only; no clock reads, no I/O. Time always arrives as an
argument, so a simulated year runs in milliseconds.
"""
