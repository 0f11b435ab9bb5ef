"""`creditgate webhooks ...`: outgoing webhook endpoints, their delivery logs, and sending.

`create` and `rotate-secret` print the endpoint's signing secret once: give it to the
receiver, which verifies every delivery with it. `deliver` sends what is due now (the
worker does so every second).
"""

from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine, settings_for
from creditgate.cli.jobs import Webhooks
from creditgate.domain.webhooks import ALL_EVENTS, EventType, WebhookDelivery, WebhookEndpoint

webhooks_app = typer.Typer(
    help="Outgoing webhooks: endpoints and deliveries.", no_args_is_help=True
)

EventsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        help=f"An event type to send (repeat it); '*' for all: {', '.join(EventType)}.",
    ),
]
DescriptionOpt = Annotated[str | None, typer.Option(help="What the endpoint is for.")]


def endpoint_line(endpoint: WebhookEndpoint) -> str:
    """One endpoint: id, state, URL and the events it hears."""
    state = "enabled" if endpoint.is_enabled else f"disabled ({endpoint.disabled_reason})"
    events = ",".join(endpoint.event_types)
    note = f"  {endpoint.description}" if endpoint.description else ""
    return f"endpoint {endpoint.id}: {endpoint.url}  [{events}]  {state}{note}"


def delivery_lines(delivery: WebhookDelivery) -> list[str]:
    """A delivery and its attempts, newest first."""
    event = delivery.event
    when = (
        "" if delivery.next_attempt_at is None else f", next {delivery.next_attempt_at:%H:%M:%S}Z"
    )
    lines = [
        f"delivery {delivery.id}: {event.type} {event.id} of {event.account_id}  "
        f"{delivery.status}{when}"
    ]
    for attempt in delivery.attempts:
        answer = attempt.status_code if attempt.error is None else attempt.error
        lines.append(
            f"  {attempt.attempted_at:%Y-%m-%d %H:%M:%S}Z  {answer}  {attempt.duration_ms} ms"
        )
    return lines


@webhooks_app.command("list")
def webhooks_list(database: DatabaseOpt = None) -> None:
    """Every endpoint, oldest first."""
    with open_engine(database) as engine:
        for endpoint in engine.webhook_endpoints():
            typer.echo(endpoint_line(endpoint))


@webhooks_app.command("create")
def webhooks_create(
    url: str,
    event: EventsOpt = None,
    description: DescriptionOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Send events to URL (all of them unless --event names some); prints the secret once."""
    with open_engine(database) as engine:
        endpoint, secret = engine.create_webhook_endpoint(
            url, event_types=event or (ALL_EVENTS,), description=description
        )
        typer.echo(endpoint_line(endpoint))
        typer.echo(f"secret: {secret}  (shown once: the receiver verifies deliveries with it)")


@webhooks_app.command("update")
def webhooks_update(
    endpoint_id: int,
    url: Annotated[str | None, typer.Option(help="Another URL.")] = None,
    event: EventsOpt = None,
    description: DescriptionOpt = None,
    enable: Annotated[
        bool | None, typer.Option("--enable/--disable", help="Enable (again) or disable it.")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Change an endpoint; options not given stay. --enable tries its waiting deliveries now."""
    with open_engine(database) as engine:
        endpoint = engine.update_webhook_endpoint(
            endpoint_id, url=url, description=description, event_types=event, is_enabled=enable
        )
        typer.echo(endpoint_line(endpoint))


@webhooks_app.command("delete")
def webhooks_delete(endpoint_id: int, database: DatabaseOpt = None) -> None:
    """Stop sending to an endpoint and forget its deliveries."""
    with open_engine(database) as engine:
        engine.delete_webhook_endpoint(endpoint_id)
        typer.echo(f"endpoint {endpoint_id} deleted")


@webhooks_app.command("rotate-secret")
def webhooks_rotate_secret(endpoint_id: int, database: DatabaseOpt = None) -> None:
    """A new signing secret, printed once; the old one stops at once."""
    with open_engine(database) as engine:
        typer.echo(f"secret: {engine.rotate_webhook_secret(endpoint_id)}  (shown once)")


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    endpoint_id: int,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many, newest first.")] = 20,
    database: DatabaseOpt = None,
) -> None:
    """An endpoint's delivery log: each delivery and its attempts, newest first."""
    with open_engine(database) as engine:
        for delivery in engine.webhook_deliveries(endpoint_id, limit=limit).items:
            for line in delivery_lines(delivery):
                typer.echo(line)


@webhooks_app.command("redeliver")
def webhooks_redeliver(delivery_id: int, database: DatabaseOpt = None) -> None:
    """Send a delivery again (it is due now, in its account's order)."""
    with open_engine(database) as engine:
        for line in delivery_lines(engine.redeliver_webhook(delivery_id)):
            typer.echo(line)


@webhooks_app.command("deliver")
def webhooks_deliver(database: DatabaseOpt = None) -> None:
    """Send the deliveries that are due now, once (the worker does it every second)."""
    webhooks = Webhooks(settings_for(database))
    try:
        with open_engine(database) as engine:
            webhooks.deliver(engine, is_quiet=False)
    finally:
        webhooks.client.close()


def register(app: typer.Typer) -> None:
    """Add `webhooks` to the CLI."""
    app.add_typer(webhooks_app, name="webhooks")
