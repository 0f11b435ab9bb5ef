"""`creditgate webhooks` and `creditgate alerts`, and the worker's sending, from a terminal.

The CLI runs on the real clock: deliveries here succeed or fail at once, and nothing waits
for a backoff.
"""

import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from creditgate import Engine
from creditgate.cli.main import app
from tests.fakes.webhook_receiver import Receiver

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


def registered(db_url: str, receiver: Receiver, *args: str) -> int:
    """Register the receiver through the CLI; it learns the printed secret."""
    code, out, err = run(db_url, "webhooks", "create", receiver.url, *args)
    assert code == 0, err
    found = re.search(r"secret: (whsec_\S+)", out)
    assert found is not None, out
    receiver.secret = found.group(1)
    endpoint = re.match(r"endpoint (\d+):", out)
    assert endpoint is not None
    return int(endpoint.group(1))


def grant(db_url: str, account_id: str, amount: int) -> None:
    engine = Engine(db_url)
    try:
        engine.create_account(account_id)
        engine.grant(account_id, amount)
    finally:
        engine.close()


def test_webhooks_create_prints_the_secret_once_and_list_shows_the_endpoint(
    db_url: str, receiver: Receiver
) -> None:
    endpoint = registered(db_url, receiver, "--event", "balance.low", "--description", "mail")

    code, out, _ = run(db_url, "webhooks", "list")

    assert code == 0
    assert out.strip() == f"endpoint {endpoint}: {receiver.url}  [balance.low]  enabled  mail"
    assert "whsec_" not in out


def test_webhooks_deliver_sends_what_is_due_signed_and_the_log_shows_it(
    db_url: str, receiver: Receiver
) -> None:
    endpoint = registered(db_url, receiver, "--event", "credits.granted")
    grant(db_url, "user_1", 10)

    sent = run(db_url, "webhooks", "deliver")
    log = run(db_url, "webhooks", "deliveries", str(endpoint))

    assert sent[1].strip() == "delivered 1 webhooks (0 attempts failed)"
    assert [a.is_verified for a in receiver.arrivals] == [True]
    lines = log[1].splitlines()
    assert re.match(r"delivery 1: credits\.granted evt_\w+ of user_1  delivered$", lines[0])
    assert re.match(r"  \S+ \S+Z  204  \d+ ms$", lines[1])


def test_webhooks_redeliver_sends_a_delivery_again(db_url: str, receiver: Receiver) -> None:
    registered(db_url, receiver, "--event", "credits.granted")
    grant(db_url, "user_1", 10)
    run(db_url, "webhooks", "deliver")

    again = run(db_url, "webhooks", "redeliver", "1")
    run(db_url, "webhooks", "deliver")

    assert again[0] == 0
    assert "pending" in again[1].splitlines()[0]
    assert len({a.webhook_id for a in receiver.arrivals}) == 1
    assert len(receiver.arrivals) == 2


def test_webhooks_update_rotate_and_delete(db_url: str, receiver: Receiver) -> None:
    endpoint = registered(db_url, receiver)

    disabled = run(db_url, "webhooks", "update", str(endpoint), "--disable")
    enabled = run(
        db_url, "webhooks", "update", str(endpoint), "--enable", "--event", "hold.expired"
    )
    rotated = run(db_url, "webhooks", "rotate-secret", str(endpoint))
    deleted = run(db_url, "webhooks", "delete", str(endpoint))
    missing = run(db_url, "webhooks", "delete", str(endpoint))

    assert "disabled (disabled by the app)" in disabled[1]
    assert "[hold.expired]  enabled" in enabled[1]
    assert rotated[1].startswith("secret: whsec_")
    assert deleted[1].strip() == f"endpoint {endpoint} deleted"
    assert (missing[0], missing[2].strip()) == (
        1,
        f"error: webhook endpoint {endpoint} was not found [webhook_endpoint_not_found]",
    )


def test_webhooks_create_exits_1_for_an_unknown_event_type(db_url: str) -> None:
    code, _, err = run(db_url, "webhooks", "create", "https://x.example/h", "--event", "nope")

    assert code == 1
    assert err.startswith("error: event_types: unknown 'nope'")


def test_alerts_set_and_show(db_url: str) -> None:
    grant(db_url, "user_1", 5)

    made = run(db_url, "alerts", "set", "user_1", "--low", "10")
    shown = run(db_url, "alerts", "show", "user_1")
    cleared = run(db_url, "alerts", "set", "user_1", "--clear")
    neither = run(db_url, "alerts", "set", "user_1")

    assert made[1].strip() == "user_1: low below 10, level low"
    assert shown[1] == made[1]
    assert cleared[1].strip() == "user_1: no line (no alerts), level ok"
    assert neither[0] == 2


def test_worker_delivers_between_its_passes(db_url: str, receiver: Receiver) -> None:
    registered(db_url, receiver, "--event", "credits.granted")
    grant(db_url, "user_1", 10)

    code, out, _ = run(db_url, "worker", "--interval-s", "0.2", "--passes", "2",
                       "--deliver-every", "0.05")  # fmt: skip

    lines = out.splitlines()
    assert code == 0
    assert "delivered 1 webhooks (0 attempts failed)" in lines
    assert lines[-1] == "worker stopped after 2 passes"
    assert [a.status for a in receiver.arrivals] == [204]


def test_jobs_run_sends_due_webhooks(db_url: str, receiver: Receiver) -> None:
    registered(db_url, receiver, "--event", "credits.granted")
    grant(db_url, "user_1", 10)

    code, out, _ = run(db_url, "jobs", "run")

    assert code == 0
    assert out.splitlines()[1] == "delivered 1 webhooks (0 attempts failed)"
