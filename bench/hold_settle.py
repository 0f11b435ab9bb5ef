"""Hold+settle pairs per second through the public API, against the hand-written floor.

One pair is what an app does around an expensive generation: `hold` 2 credits before the
work, then `settle` for the 1 credit it actually cost (the rest goes back). That is two
write transactions, measured against the floor's one-transaction charge. SQLite file (WAL,
synchronous=FULL) and PostgreSQL; 1 and 8 threads; many accounts and one hot account:

    hold+settle sqlite threads=1 accounts=many: 300 pairs/s | floor 1,530 ops/s | ratio 0.20
"""

from datetime import timedelta

from common import footer, header, note, parse_args, suite
from creditgate import Engine

SECONDS_DEFAULT = 4.0
"""Measured seconds per figure (engine and floor each): 8 figures per run of both backends."""

HOLD_TTL = timedelta(minutes=10)
"""Longer than any run, so no hold expires (and no expiry is written) while measuring."""


def hold_and_settle(engine: Engine, account_id: str) -> None:
    """Hold 2 credits, then settle the hold for 1: the shape of one generation."""
    receipt = engine.hold(account_id, 2, ttl=HOLD_TTL, feature="bench.generate")
    assert receipt.hold is not None
    engine.settle(receipt.hold.id, 1)


def main() -> None:
    """Run the hold+settle benchmark."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8))
    header("hold+settle: pairs per second through Engine.hold and Engine.settle")
    note(f"{args.seconds:g} s per figure, in alternating rounds of engine and floor")
    note("a pair is two transactions; the floor is one charge (one transaction)")
    suite(args, label="hold+settle", unit="pairs", op=hold_and_settle)
    footer()


if __name__ == "__main__":
    main()
