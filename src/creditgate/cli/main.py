"""The `creditgate` command: one subcommand per engine verb, plus db, verify and demo.

Every command opens the database named by `--database` (or CREDITGATE_DATABASE_URL, or
the default SQLite file `creditgate.db`), applies pending migrations, runs one engine
call and prints its result. Errors print `error: <message> [code]` and exit 1; usage
errors exit 2.
"""

from datetime import timedelta
from typing import Annotated

import typer

from creditgate.cli import alerts as alert_commands
from creditgate.cli import catalog as catalog_commands
from creditgate.cli import demo as demo_script
from creditgate.cli import jobs as jobs_commands
from creditgate.cli import packs as pack_commands
from creditgate.cli import service as service_commands
from creditgate.cli import webhooks as webhook_commands
from creditgate.cli import widgets as widget_commands
from creditgate.cli.context import (
    DatabaseOpt,
    KeyOpt,
    ModelOpt,
    QuantityOpt,
    open_engine,
    parse_instant,
    parse_quantity,
    settings_for,
)
from creditgate.cli.output import (
    balance_line,
    echo_lines,
    entry_line,
    hold_line,
    receipt_lines,
)
from creditgate.domain.accounts import OwnerKind
from creditgate.domain.entries import EntryKind
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.lots import LotSource
from creditgate.storage import migrate
from creditgate.storage.database import Database

app = typer.Typer(
    name="creditgate",
    help="Prepaid credits for AI applications: an exact ledger of lots, holds and charges.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (wallets).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
catalog_commands.register(app)
service_commands.register(app)
jobs_commands.register(app)
pack_commands.register(app)
alert_commands.register(app)
webhook_commands.register(app)
widget_commands.register(app)


@db_app.command("upgrade")
def db_upgrade(database: DatabaseOpt = None) -> None:
    """Apply pending migrations (the other commands do this on their own too)."""
    settings = settings_for(database)
    db = Database(settings.database_url, sqlite_sync=settings.sqlite_synchronous)
    migrate.upgrade(db)
    typer.echo(f"database at revision {migrate.current(db)} (head {migrate.head()})")
    db.dispose()


@accounts_app.command("create")
def accounts_create(
    account_id: str,
    kind: Annotated[OwnerKind, typer.Option(help="Who owns the wallet.")] = OwnerKind.USER,
    floor: Annotated[str, typer.Option(help="Overdraft floor, 0 or negative.")] = "0",
    unlimited: Annotated[
        bool, typer.Option("--unlimited", help="Record usage, deduct nothing.")
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Create an account for the app's id (or show the existing one)."""
    with open_engine(database) as engine:
        account = engine.create_account(
            account_id, owner_kind=kind, floor=floor, is_unlimited=unlimited
        )
        typer.echo(f"account {account.id} ({account.owner_kind}, floor {account.floor})")
        typer.echo(balance_line(engine.balance(account_id)))


@accounts_app.command("show")
def accounts_show(account_id: str, database: DatabaseOpt = None) -> None:
    """Show an account: settings, balance, lifetime figures."""
    with open_engine(database) as engine:
        account = engine.get_account(account_id)
        flags = [
            f
            for f, on in (("frozen", account.is_frozen), ("unlimited", account.is_unlimited))
            if on
        ]
        typer.echo(f"account {account.id} ({account.owner_kind}{''.join(', ' + f for f in flags)})")
        typer.echo(balance_line(engine.balance(account_id)))
        life = engine.lifetime(account_id)
        sources = ", ".join(f"{k} {v}" for k, v in life.granted_by_source.items()) or "none"
        typer.echo(f"granted {life.granted} ({sources})")
        typer.echo(
            f"spent {life.spent}, refunded {life.refunded}, expired {life.expired}, "
            f"adjusted {life.adjusted}, in {life.transferred_in}, out {life.transferred_out}"
        )


@app.command()
def grant(
    account_id: str,
    amount: str,
    source: Annotated[LotSource, typer.Option(help="Why the credits arrive.")] = LotSource.BONUS,
    expires_at: Annotated[str | None, typer.Option(help="ISO time the lot expires.")] = None,
    priority: Annotated[int, typer.Option(help="Burn priority: lower burns first.")] = 0,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Grant credits as a new lot."""
    expiry = parse_instant(expires_at, "--expires-at")
    with open_engine(database) as engine:
        receipt = engine.grant(
            account_id,
            amount,
            source=source,
            expires_at=expiry,
            priority=priority,
            idempotency_key=key,
        )
        echo_lines(receipt_lines(receipt))


FeatureOpt = Annotated[
    str | None, typer.Option(help="Feature key, e.g. image.generate: priced by the catalog.")
]
MemberOpt = Annotated[str | None, typer.Option(help="Member spending an organization's wallet.")]
AmountArg = Annotated[
    str | None, typer.Argument(help="Credits; omit to let the catalog price the feature.")
]


@app.command()
def charge(
    account_id: str,
    amount: AmountArg = None,
    feature: FeatureOpt = None,
    model: ModelOpt = None,
    quantity: QuantityOpt = None,
    member: MemberOpt = None,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Take credits now (an amount, or a feature's price), or fail and take nothing."""
    with open_engine(database) as engine:
        receipt = engine.charge(
            account_id,
            amount,
            feature=feature,
            model=model,
            quantity=parse_quantity(quantity),
            member_id=member,
            idempotency_key=key,
        )
        echo_lines(receipt_lines(receipt))


@app.command()
def hold(
    account_id: str,
    amount: AmountArg = None,
    ttl: Annotated[int, typer.Option(help="Seconds before the hold expires.")] = 300,
    feature: FeatureOpt = None,
    model: ModelOpt = None,
    quantity: QuantityOpt = None,
    member: MemberOpt = None,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Set credits aside before expensive work (an amount, or a feature's price)."""
    with open_engine(database) as engine:
        receipt = engine.hold(
            account_id,
            amount,
            ttl=timedelta(seconds=ttl),
            feature=feature,
            model=model,
            quantity=parse_quantity(quantity),
            member_id=member,
            idempotency_key=key,
        )
        echo_lines(receipt_lines(receipt))


@app.command()
def extend(hold_id: int, more: str, key: KeyOpt = None, database: DatabaseOpt = None) -> None:
    """Grow a pending hold from what is available."""
    with open_engine(database) as engine:
        echo_lines(receipt_lines(engine.extend(HoldId(hold_id), more, idempotency_key=key)))


@app.command()
def settle(
    hold_id: int,
    actual: Annotated[
        str | None, typer.Argument(help="Credits; omit and give --quantity for a priced hold.")
    ] = None,
    quantity: QuantityOpt = None,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Capture the actual cost of a hold (an amount, or the quantity used) and release the rest."""
    with open_engine(database) as engine:
        receipt = engine.settle(
            HoldId(hold_id), actual, quantity=parse_quantity(quantity), idempotency_key=key
        )
        echo_lines(receipt_lines(receipt))


@app.command()
def release(
    hold_id: int,
    failure: Annotated[str | None, typer.Option(help="Why the work failed.")] = None,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """End a hold without spending (the work failed, or was not needed)."""
    with open_engine(database) as engine:
        receipt = engine.release(HoldId(hold_id), failure=failure, idempotency_key=key)
        echo_lines(receipt_lines(receipt))


@app.command()
def refund(
    entry_id: int,
    amount: Annotated[
        str | None, typer.Argument(help="Part to refund; all that is left if omitted.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Refund a charge or a settled hold, fully or partly."""
    with open_engine(database) as engine:
        receipt = engine.refund(EntryId(entry_id), amount, reason=reason, idempotency_key=key)
        echo_lines(receipt_lines(receipt))


@app.command()
def adjust(
    account_id: str,
    amount: Annotated[str, typer.Argument(help="Signed amount, e.g. -2.5.")],
    reason: Annotated[str, typer.Option(help="Why (required).")],
    actor: Annotated[str, typer.Option(help="Who (required).")],
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Correct a balance by a signed amount, with a reason and an actor."""
    with open_engine(database) as engine:
        receipt = engine.adjust(account_id, amount, reason=reason, actor=actor, idempotency_key=key)
        echo_lines(receipt_lines(receipt))


@app.command()
def transfer(
    from_account_id: str,
    to_account_id: str,
    amount: str,
    key: KeyOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Move credits from one account to another."""
    with open_engine(database) as engine:
        result = engine.transfer(from_account_id, to_account_id, amount, idempotency_key=key)
        echo_lines([entry_line(result.debit), entry_line(result.credit)])
        echo_lines([balance_line(result.from_balance), balance_line(result.to_balance)])


@app.command()
def history(
    account_id: str,
    kind: Annotated[
        list[EntryKind] | None, typer.Option(help="Only these kinds (repeatable).")
    ] = None,
    feature: Annotated[str | None, typer.Option(help="Only this feature.")] = None,
    limit: Annotated[int, typer.Option(help="Entries per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue from a previous page.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """List an account's ledger entries, newest first."""
    with open_engine(database) as engine:
        page = engine.history(account_id, kinds=kind, feature=feature, limit=limit, cursor=cursor)
        echo_lines([entry_line(e) for e in page.items])
        if page.next_cursor is not None:
            typer.echo(f"more: --cursor {page.next_cursor}")


@app.command("hold-show")
def hold_show(hold_id: int, database: DatabaseOpt = None) -> None:
    """Show a hold and its status as of now."""
    with open_engine(database) as engine:
        typer.echo(hold_line(engine.get_hold(HoldId(hold_id))))


@app.command()
def verify(database: DatabaseOpt = None) -> None:
    """Recompute every account from its ledger; exit 1 on any mismatch."""
    with open_engine(database) as engine:
        report = engine.verify()
    for problem in report.problems:
        typer.echo(f"{problem.check}: {problem.account_id or '-'}: {problem.detail}")
    verdict = "clean" if report.is_clean else f"{len(report.problems)} problems"
    typer.echo(f"verified {report.accounts} accounts, {report.entries} entries: {verdict}")
    if not report.is_clean:
        raise typer.Exit(1)


@app.command()
def demo(database: DatabaseOpt = None) -> None:
    """Walk through a small AI app's credits on the database (safe to run again)."""
    with open_engine(database) as engine:
        demo_script.run(engine, typer.echo)


def main() -> None:
    """Entry point of the `creditgate` script."""
    app()
