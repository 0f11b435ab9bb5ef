"""`creditgate packs list|create|update|deactivate`: the packs for sale, from a terminal.

Prices are in minor units of the currency (`--price 1499` is $14.99), as Stripe takes them.
"""

from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine
from creditgate.domain.packs import Pack

packs_app = typer.Typer(help="Credit packs for sale.", no_args_is_help=True)

NameOpt = Annotated[str | None, typer.Option(help="The name on the purchase page.")]
CreditsOpt = Annotated[str | None, typer.Option(help="Credits a purchase grants.")]
PriceOpt = Annotated[int | None, typer.Option(help="Price in minor units (1499 is $14.99).")]
CurrencyOpt = Annotated[str | None, typer.Option(help="Lowercase ISO 4217 code (usd).")]
BonusOpt = Annotated[str | None, typer.Option(help="Bonus credits on top, as a lot of their own.")]
BadgeOpt = Annotated[str | None, typer.Option(help='A label such as "best value".')]
DaysOpt = Annotated[
    int | None, typer.Option(help="The granted credits expire this many days after payment.")
]
SortOpt = Annotated[int | None, typer.Option(help="Order on the purchase page (lower first).")]


def pack_line(pack: Pack) -> str:
    """One pack in a listing."""
    price = "free once" if pack.is_free_once else f"{pack.price_minor} {pack.currency}"
    bonus = f" + {pack.bonus_credits} bonus" if pack.bonus_credits.units else ""
    badge = f"  [{pack.badge}]" if pack.badge else ""
    state = "" if pack.is_active else "  (inactive)"
    return f"{pack.key:<16} {pack.credits}{bonus} credits  {price}  {pack.name}{badge}{state}"


@packs_app.command("list")
def packs_list(
    include_inactive: Annotated[bool, typer.Option(help="Show inactive packs too.")] = False,
    database: DatabaseOpt = None,
) -> None:
    """The packs on sale, in the purchase page's order."""
    with open_engine(database) as engine:
        for pack in engine.packs(include_inactive=include_inactive):
            typer.echo(pack_line(pack))


@packs_app.command("create")
def packs_create(  # noqa: PLR0913 - a pack has this many facets, each an option
    key: str,
    name: Annotated[str, typer.Option(help="The name on the purchase page.")],
    credits: Annotated[str, typer.Option(help="Credits a purchase grants.")],
    price: Annotated[int, typer.Option(help="Price in minor units (1499 is $14.99).")],
    currency: Annotated[str, typer.Option(help="Lowercase ISO 4217 code.")] = "usd",
    bonus: BonusOpt = None,
    badge: BadgeOpt = None,
    free_once: Annotated[
        bool, typer.Option(help="A free pack each account may claim once (price 0).")
    ] = False,
    expires_after_days: DaysOpt = None,
    sort_order: Annotated[int, typer.Option(help="Order on the purchase page.")] = 0,
    database: DatabaseOpt = None,
) -> None:
    """Put a pack on sale."""
    with open_engine(database) as engine:
        pack = engine.create_pack(
            key,
            name=name,
            credits=credits,
            price_minor=price,
            currency=currency,
            bonus_credits=bonus or 0,
            badge=badge,
            is_free_once=free_once,
            expires_after_days=expires_after_days,
            sort_order=sort_order,
        )
        typer.echo(pack_line(pack))


@packs_app.command("update")
def packs_update(
    key: str,
    name: NameOpt = None,
    credits: CreditsOpt = None,
    price: PriceOpt = None,
    currency: CurrencyOpt = None,
    bonus: BonusOpt = None,
    badge: BadgeOpt = None,
    expires_after_days: DaysOpt = None,
    sort_order: SortOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Change a pack for checkouts opened from now on; options not given stay."""
    with open_engine(database) as engine:
        pack = engine.update_pack(
            key,
            name=name,
            credits=credits,
            price_minor=price,
            currency=currency,
            bonus_credits=bonus,
            badge=badge,
            expires_after_days=expires_after_days,
            sort_order=sort_order,
        )
        typer.echo(pack_line(pack))


@packs_app.command("deactivate")
def packs_deactivate(key: str, database: DatabaseOpt = None) -> None:
    """Stop selling a pack; its purchases keep pointing at it."""
    with open_engine(database) as engine:
        typer.echo(pack_line(engine.deactivate_pack(key)))


def register(app: typer.Typer) -> None:
    """Add `packs` to the CLI."""
    app.add_typer(packs_app, name="packs")
