"""How the CLI prints results and errors: plain aligned text, one error line on stderr."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import typer

from creditgate.domain.entries import Entry
from creditgate.domain.errors import CreditgateError
from creditgate.domain.holds import Hold
from creditgate.domain.pricing import Price, rule_data
from creditgate.domain.results import Balance, Receipt
from creditgate.domain.usage import UsageEvent


@contextmanager
def failures() -> Iterator[None]:
    """Turn a creditgate error into `error: <message> [code]` and exit status 1."""
    try:
        yield
    except CreditgateError as exc:
        typer.echo(f"error: {exc.detail} [{exc.code}]", err=True)
        raise typer.Exit(1) from None


def balance_line(balance: Balance) -> str:
    """One line: balance, held, available (and debt when there is some)."""
    line = (
        f"{balance.account_id}: balance {balance.balance}, held {balance.held}, "
        f"available {balance.available}"
    )
    return line + (f", debt {balance.debt}" if balance.debt else "")


def hold_line(hold: Hold) -> str:
    """One line describing a hold."""
    if hold.ended_at is None:
        when = f"expires {hold.expires_at:%Y-%m-%d %H:%M:%S}Z"
    else:
        when = f"at {hold.ended_at:%Y-%m-%d %H:%M:%S}Z"
    captured = "" if hold.captured is None else f", captured {hold.captured}"
    return f"hold {hold.id}: {hold.amount} credits, {hold.status}{captured} ({when})"


def receipt_lines(receipt: Receipt) -> list[str]:
    """The entry written and the account's figures after it."""
    lines = [entry_line(receipt.entry)]
    if receipt.quote is not None:
        lines.append(f"  priced: {receipt.quote.breakdown}")
    if receipt.hold is not None:
        lines.append(hold_line(receipt.hold))
    lines.append(balance_line(receipt.balance))
    return lines


def entry_line(entry: Entry) -> str:
    """One ledger line: id, seq, time, kind, signed amount, balance after, labels."""
    sign = "+" if entry.amount.units > 0 else ""
    labels = [
        f"{name}={value}"
        for name, value in (
            ("source", entry.source),
            ("feature", entry.feature),
            ("model", entry.model),
            ("quantity", entry.quantity),
            ("price", entry.price_id),
            ("member", entry.member_id),
            ("hold", entry.hold_id),
            ("ref", entry.ref_entry_id),
            ("to/from", entry.counterparty),
            ("reason", entry.reason),
        )
        if value is not None
    ]
    return (
        f"entry {entry.id:>5}  #{entry.seq:<4} {entry.effective_at:%Y-%m-%d %H:%M:%S}  "
        f"{entry.kind:<8} {sign + str(entry.amount):>10}  balance {entry.balance_after!s:>9}  "
        + " ".join(labels)
    ).rstrip()


def echo_lines(lines: Sequence[str]) -> None:
    """Print lines to stdout."""
    for line in lines:
        typer.echo(line)


def price_line(price: Price) -> str:
    """One price version: model, rule, version and when it took effect."""
    model = "(default)" if price.model is None else price.model
    rule = "retired" if price.rule is None else _rule_text(price)
    return f"{model}: {rule}  v{price.version} since {price.effective_from:%Y-%m-%d %H:%M:%S}Z"


def _rule_text(price: Price) -> str:
    assert price.rule is not None
    data = rule_data(price.rule)
    kind = data.pop("rule")
    fields = ", ".join(f"{name}={value}" for name, value in data.items())
    minimum = "" if price.minimum is None else f", minimum={price.minimum}"
    return f"{kind} {fields}{minimum}"


def usage_line(event: UsageEvent) -> str:
    """One usage event: when, who, what, how much, and how it ended."""
    model = "" if event.model is None else f" [{event.model}]"
    quantity = "" if event.quantity is None else f" x{event.quantity}"
    latency = "" if event.latency_ms is None else f" {event.latency_ms} ms"
    return (
        f"{event.created_at:%Y-%m-%d %H:%M:%S}  {event.account_id}  "
        f"{event.feature or '-'}{model}{quantity}  {event.credits} credits  "
        f"{event.outcome}{latency}"
    )
