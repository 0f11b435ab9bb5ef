"""`creditgate alerts show|set`: an account's low-balance line, from a terminal.

The catalog's `[alerts] low = "…"` is every account's default line; `set --low` gives one
account its own, `set --clear` returns it to the default.
"""

from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine
from creditgate.domain.alerts import BalanceAlert

alerts_app = typer.Typer(help="Balance alerts: low-balance lines.", no_args_is_help=True)


def alert_line(alert: BalanceAlert) -> str:
    """One line: the account's line (or the default it follows) and its level."""
    if alert.low is not None:
        line = f"low below {alert.low}"
    elif alert.default_low is not None:
        line = f"low below {alert.default_low} (the catalog's default)"
    else:
        line = "no line (no alerts)"
    return f"{alert.account_id}: {line}, level {alert.level}"


@alerts_app.command("show")
def alerts_show(account_id: str, database: DatabaseOpt = None) -> None:
    """The account's line and the level its balance is at."""
    with open_engine(database) as engine:
        typer.echo(alert_line(engine.balance_alert(account_id)))


@alerts_app.command("set")
def alerts_set(
    account_id: str,
    low: Annotated[str | None, typer.Option(help="The account's own low-balance line.")] = None,
    clear: Annotated[bool, typer.Option(help="Follow the catalog's default again.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """Give the account its own line (--low 10), or return it to the default (--clear)."""
    if (low is None) == (not clear):
        raise typer.BadParameter("give --low or --clear", param_hint="--low")
    with open_engine(database) as engine:
        typer.echo(alert_line(engine.set_balance_alert(account_id, low=None if clear else low)))


def register(app: typer.Typer) -> None:
    """Add `alerts` to the CLI."""
    app.add_typer(alerts_app, name="alerts")
