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

Each pass also sends the outgoing webhooks that are due and prunes old delivered events;
the worker sends them far more often than it runs the pass (`--deliver-every`, 1 s by
default), so an event reaches its endpoints within about a second of its commit. And it
deletes the guest windows (kept in the database when no Redis counts guests) that hold no
use any more.
"""

import signal
import threading
import time
from datetime import timedelta
from types import FrameType
from typing import Annotated

import httpx
import typer

from creditgate.cli.context import DatabaseOpt, open_engine, settings_for
from creditgate.domain.results import ExpirePass
from creditgate.domain.webhooks import DeliveryPolicy
from creditgate.engine import Engine
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.integrations.top_ups import run_top_ups
from creditgate.integrations.webhook_delivery import deliver_due, new_client
from creditgate.settings import Settings

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


class Webhooks:
    """The outgoing webhooks' part of a worker: its HTTP client and the settings' policy."""

    def __init__(self, settings: Settings) -> None:
        self.client: httpx.Client = new_client(settings.webhook_timeout_s)
        self.policy = DeliveryPolicy(
            disable_after=timedelta(seconds=settings.webhook_disable_after_s)
        )
        self.retention = timedelta(seconds=settings.webhook_retention_s)

    def deliver(self, engine: Engine, *, is_quiet: bool = True) -> None:
        """Send what is due; when quiet, say so only when something was sent."""
        run = deliver_due(engine, client=self.client, policy=self.policy)
        if run.delivered or run.failed or not is_quiet:
            typer.echo(f"delivered {run.delivered} webhooks ({run.failed} attempts failed)")

    def prune(self, engine: Engine) -> None:
        """Delete old events every endpoint has; say so only when there were some."""
        pruned = engine.prune_webhook_events(older_than=self.retention)
        if pruned:
            typer.echo(f"pruned {pruned} delivered webhook events")


def _pass(engine: Engine, gateway: StripeGateway | None, webhooks: Webhooks) -> None:
    typer.echo(_summary(engine.expire()))
    if gateway is not None:
        run = run_top_ups(engine, gateway)
        typer.echo(
            f"started {run.started} top-up payments ({run.declined} declined, "
            f"{run.failed} left for the next pass)"
        )
    webhooks.deliver(engine)
    webhooks.prune(engine)
    pruned = engine.prune_guest_windows()
    if pruned:
        typer.echo(f"pruned {pruned} guest windows with no use left in them")


@jobs_app.command("run")
def jobs_run(database: DatabaseOpt = None) -> None:
    """One pass over every account with something due (run it from cron)."""
    webhooks = Webhooks(settings_for(database))
    try:
        with open_engine(database) as engine:
            _pass(engine, _gateway(database), webhooks)
    finally:
        webhooks.client.close()


def worker(
    interval_s: Annotated[
        float, typer.Option(min=0.01, help="Seconds between the starts of two passes.")
    ] = 60.0,
    passes: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many passes (default: run on).")
    ] = None,
    deliver_every: Annotated[
        float,
        typer.Option(min=0.01, help="Seconds between two sends of due webhooks, between passes."),
    ] = 1.0,
    database: DatabaseOpt = None,
) -> None:
    """Run the pass in a loop until stopped (SIGTERM or Ctrl-C finish the current pass).

    Between passes it sends due webhooks every `--deliver-every` seconds.
    """
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop)
    done = 0
    webhooks = Webhooks(settings_for(database))
    try:
        gateway = _gateway(database)
        with open_engine(database) as engine:
            next_pass = time.monotonic()
            while not stopping.is_set() and (passes is None or done < passes):
                if time.monotonic() >= next_pass:
                    next_pass = time.monotonic() + interval_s
                    _pass(engine, gateway, webhooks)
                    done += 1
                    if passes is not None and done >= passes:
                        break
                else:
                    webhooks.deliver(engine)
                wake = min(next_pass, time.monotonic() + deliver_every)
                stopping.wait(max(0.0, wake - time.monotonic()))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        webhooks.client.close()
    typer.echo(f"worker stopped after {done} passes")


def register(app: typer.Typer) -> None:
    """Add `jobs` and `worker` to the CLI."""
    app.add_typer(jobs_app, name="jobs")
    app.command("worker")(worker)
