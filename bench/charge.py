"""Charges per second through the public API, against the hand-written floor.

SQLite file (WAL, synchronous=FULL) and PostgreSQL; 1 and 8 threads; many accounts (no two
threads share one) and one hot account (every charge contends for one row). Each line:

    charge sqlite threads=1 accounts=many: 812 ops/s | floor 1,530 ops/s | ratio 0.53
"""

from common import footer, header, note, parse_args, suite
from creditgate import Engine

SECONDS_DEFAULT = 4.0
"""Measured seconds per figure (engine and floor each): 8 figures per run of both backends."""


def charge_once(engine: Engine, account_id: str) -> None:
    """One charge of 1 credit for a feature: the call an app makes per use."""
    engine.charge(account_id, 1, feature="bench.charge")


def main() -> None:
    """Run the charge benchmark."""
    args = parse_args(__doc__ or "", seconds=SECONDS_DEFAULT, threads=(1, 8))
    header("charge: charges per second through Engine.charge, against the floor")
    note(f"{args.seconds:g} s per figure, in alternating rounds of engine and floor")
    suite(args, label="charge", unit="ops", op=charge_once)
    footer()


if __name__ == "__main__":
    main()
