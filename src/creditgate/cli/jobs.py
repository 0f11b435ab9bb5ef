"""The scheduler: `creditgate jobs run` does one pass (for cron), `creditgate worker` loops.

A pass writes whatever has fallen due: plan cycles that ended (renewals, rollovers,
downgrades, cancellations, the fall back to the default plan), lots and holds past their
expiry. Nothing depends on it for correctness: every operation on an account writes what
is due on it first. The pass makes the ledger prompt for accounts nobody touches. Any
number of workers may run at once: each account is renewed under its row lock, and a
cycle's grant is claimed once.

With a Stripe secret key configured, a pass then starts the payments of the auto top-ups
that accounts asked for by falling below their line (each charged once: its purchase's
reference is Stripe's idempotency key).
"""

import signal
import threading
import time
from types import FrameType
from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine, settings_for
from creditgate.domain.results import ExpirePass
from creditgate.engine import Engine
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.integrations.top_ups import run_top_ups

jobs_app = typer.Typer(help="Due work: renewals and expiries.", no_args_is_help=True)


def _summary(done: ExpirePass) -> str:
    return (
        f"renewed {done.cycles_granted} plan cycles, expired {done.lots_expired} lots "
        f"({done.credits_expired} credits) and {done.holds_expired} holds "
        f"on {done.accounts} accounts"
    )


def _gateway(database: str | None) -> StripeGateway | None:
    settings = settings_for(database)
    key = settings.stripe_secret_key
    if key is None:
        return None
    return StripeGateway(key.get_secret_value(), api_base=settings.stripe_api_base)


def _pass(engine: Engine, gateway: StripeGateway | None) -> None:
    typer.echo(_summary(engine.expire()))
    if gateway is not None:
        run = run_top_ups(engine, gateway)
        typer.echo(
            f"started {run.started} top-up payments ({run.declined} declined, "
            f"{run.failed} left for the next pass)"
        )


@jobs_app.command("run")
def jobs_run(database: DatabaseOpt = None) -> None:
    """One pass over every account with something due (run it from cron)."""
    with open_engine(database) as engine:
        _pass(engine, _gateway(database))


def worker(
    interval_s: Annotated[
        float, typer.Option(min=0.01, help="Seconds between the starts of two passes.")
    ] = 60.0,
    passes: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many passes (default: run on).")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Run the pass in a loop until stopped (SIGTERM or Ctrl-C finish the current pass)."""
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop)
    done = 0
    try:
        gateway = _gateway(database)
        with open_engine(database) as engine:
            while not stopping.is_set() and (passes is None or done < passes):
                started = time.monotonic()
                _pass(engine, gateway)
                done += 1
                if passes is not None and done >= passes:
                    break
                stopping.wait(max(0.0, interval_s - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    typer.echo(f"worker stopped after {done} passes")


def register(app: typer.Typer) -> None:
    """Add `jobs` and `worker` to the CLI."""
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(worker)
