"""Catalog commands: presets, catalog files, features, prices, quotes, checks and usage.

A team keeps its prices in git: `catalog export` writes the catalog in force as TOML,
`catalog apply FILE --dry-run` shows what the file would change, and `catalog apply FILE`
makes those changes (prices change by new versions, never by edits).
"""

import tomllib
from pathlib import Path
from typing import Annotated

import tomli_w
import typer

from creditgate import presets
from creditgate.cli.context import (
    DatabaseOpt,
    ModelOpt,
    QuantityOpt,
    open_engine,
    parse_instant,
    parse_quantity,
)
from creditgate.cli.output import echo_lines, failures, price_line, usage_line
from creditgate.domain.catalog import Change, catalog_data
from creditgate.domain.errors import InvalidInput
from creditgate.domain.usage import Outcome

catalog_app = typer.Typer(help="The catalog as a file: export it, apply it.", no_args_is_help=True)

DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
]


def _changes(changes: tuple[Change, ...], *, dry_run: bool) -> None:
    if not changes:
        typer.echo("catalog is up to date: nothing to change")
        return
    echo_lines([str(change) for change in changes])
    verb = "would change" if dry_run else "changed"
    typer.echo(f"{len(changes)} {verb}" + (" (dry run: nothing written)" if dry_run else ""))


def seed(
    preset: Annotated[str, typer.Option("--preset", help=f"One of: {', '.join(presets.PRESETS)}.")],
    dry_run: DryRunOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Load a shipped preset catalog (features, prices, welcome credits); twice changes nothing."""
    with open_engine(database) as engine:
        _changes(engine.seed(preset, dry_run=dry_run), dry_run=dry_run)


@catalog_app.command("export")
def catalog_export(
    output: Annotated[
        Path | None, typer.Argument(help="File to write; standard output if omitted.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Write the catalog in force as a TOML file that `catalog apply` reads back."""
    with open_engine(database) as engine:
        text = tomli_w.dumps(catalog_data(engine.export_catalog()))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@catalog_app.command("apply")
def catalog_apply(
    file: Annotated[Path, typer.Argument(help="A catalog TOML file.")],
    dry_run: DryRunOpt = False,
    database: DatabaseOpt = None,
) -> None:
    """Bring the database's catalog to the file: new, changed and removed features and prices."""
    with failures():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(field="file", reason=f"cannot read {file}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(field="file", reason=f"{file} is not TOML: {exc}") from None
    with open_engine(database) as engine:
        _changes(engine.apply_catalog(data, dry_run=dry_run), dry_run=dry_run)


def features(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """List features with the prices in force."""
    with open_engine(database) as engine:
        for feature in engine.features(category=category):
            state = "" if feature.is_active else "  (inactive)"
            typer.echo(f"{feature.key}  {feature.name}  [{feature.category or '-'}]{state}")
            for price in engine.prices(feature.key):
                typer.echo("    " + price_line(price))


def quote(
    feature: str,
    model: ModelOpt = None,
    quantity: QuantityOpt = None,
    at: Annotated[str | None, typer.Option(help="ISO time: the price in force then.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """What one call costs, at which price version, and why."""
    with open_engine(database) as engine:
        priced = engine.quote(
            feature, model=model, quantity=parse_quantity(quantity), at=parse_instant(at, "--at")
        )
        typer.echo(f"{priced.amount} credits  (price {priced.price_id} v{priced.price_version})")
        typer.echo(f"  {priced.breakdown}")


def check(
    account_id: str,
    feature: str,
    model: ModelOpt = None,
    quantity: QuantityOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Whether an account can pay for one call now (exit 1 when it cannot)."""
    with open_engine(database) as engine:
        result = engine.check(account_id, feature, model=model, quantity=parse_quantity(quantity))
    verdict = "enough" if result.has_enough else "not enough"
    typer.echo(f"{verdict}: {result.required} required, {result.available} available")
    if not result.has_enough:
        raise typer.Exit(1)


def usage(
    account_id: Annotated[str | None, typer.Argument(help="One account; all if omitted.")] = None,
    feature: Annotated[str | None, typer.Option(help="Only this feature.")] = None,
    model: ModelOpt = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time, inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="ISO time, exclusive.")] = None,
    limit: Annotated[int, typer.Option(help="Most recent events to show.")] = 20,
    database: DatabaseOpt = None,
) -> None:
    """Usage events, newest first, then totals by feature, model and outcome."""
    start, end = parse_instant(since, "--since"), parse_instant(until, "--until")
    with open_engine(database) as engine:
        page = engine.usage(
            account_id,
            feature=feature,
            model=model,
            outcome=outcome,
            since=start,
            until=end,
            limit=limit,
        )
        totals = engine.usage_totals(
            account_id, feature=feature, model=model, since=start, until=end
        )
    echo_lines([usage_line(event) for event in page.items])
    typer.echo("totals:")
    for total in totals:
        if outcome is None or total.outcome is outcome:
            name = (
                total.feature or "-" if total.model is None else f"{total.feature} [{total.model}]"
            )
            typer.echo(f"  {name}  {total.outcome}: {total.events} events, {total.credits} credits")


def register(app: typer.Typer) -> None:
    """Add the catalog commands to the main command."""
    app.add_typer(catalog_app, name="catalog")
    for command in (seed, features, quote, check, usage):
        app.command()(command)
