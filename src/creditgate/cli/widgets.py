"""`creditgate widgets token|rotate`: widget tokens from a terminal.

`token` prints a token for one account (or a guest) to paste into a page while trying the
widgets; an app mints one per page from its back end instead. `rotate` retires every
signing key, ending every token minted so far.
"""

from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine
from creditgate.domain.widgets import TOKEN_TTL_S_DEFAULT

widgets_app = typer.Typer(help="Widget tokens for the drop-in widgets.", no_args_is_help=True)


@widgets_app.command("token")
def widgets_token(
    account_id: Annotated[
        str | None, typer.Argument(help="The account (leave out for a guest).")
    ] = None,
    ttl_s: Annotated[int, typer.Option(help="Seconds it lasts (at most 3600).")] = (
        TOKEN_TTL_S_DEFAULT
    ),
    success_url: Annotated[str | None, typer.Option(help="Where a paid checkout returns.")] = None,
    cancel_url: Annotated[
        str | None, typer.Option(help="Where a dropped checkout returns.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Print a widget token, then when it expires."""
    with open_engine(database) as engine:
        made = engine.mint_widget_token(
            account_id, ttl_s=ttl_s, success_url=success_url, cancel_url=cancel_url
        )
    typer.echo(made.token)
    typer.echo(f"expires at {made.expires_at.isoformat()}", err=True)


@widgets_app.command("rotate")
def widgets_rotate(database: DatabaseOpt = None) -> None:
    """Retire every signing key: every widget token so far stops working."""
    with open_engine(database) as engine:
        retired = engine.rotate_widget_keys()
    typer.echo(f"retired {retired} signing key(s): every widget token so far is refused")


def register(app: typer.Typer) -> None:
    """Add `widgets` to the CLI."""
    app.add_typer(widgets_app, name="widgets")
