"""`creditgate jobs run` and `creditgate worker`: the scheduler's pass, once or in a loop."""

import re
from datetime import UTC, datetime

from typer.testing import CliRunner

from creditgate import Engine, ManualClock
from creditgate.cli.main import app

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


def subscribed_long_ago(db_url: str) -> None:
    """An account on a monthly plan since Jan 1 2026 that nobody has touched since."""
    engine = Engine(db_url, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    engine.create_plan("basic", name="Basic", credits=500, prices={"month": 1500})
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    engine.close()


def renewed(line: str) -> int:
    found = re.match(r"renewed (\d+) plan cycles, ", line)
    assert found is not None, line
    return int(found.group(1))


def test_jobs_run_catches_up_every_missed_cycle_once(db_url: str) -> None:
    subscribed_long_ago(db_url)

    first = run(db_url, "jobs", "run")
    again = run(db_url, "jobs", "run")

    assert (first[0], again[0]) == (0, 0)
    missed = renewed(first[1])
    assert missed >= 10
    assert first[1].rstrip().endswith("on 1 accounts")
    assert renewed(again[1]) == 0
    engine = Engine(db_url)
    try:
        subscription = engine.subscription("user_1")
        assert subscription is not None
        assert subscription.cycle_index == missed
        assert engine.verify().is_clean
    finally:
        engine.close()


def test_worker_runs_the_given_number_of_passes_and_stops(db_url: str) -> None:
    subscribed_long_ago(db_url)

    code, out, _ = run(db_url, "worker", "--interval-s", "0.01", "--passes", "2")

    lines = out.splitlines()
    assert code == 0
    assert [renewed(lines[0]) >= 10, renewed(lines[1])] == [True, 0]
    assert lines[2] == "worker stopped after 2 passes"


def test_jobs_run_deletes_the_guest_windows_that_hold_no_use(db_url: str) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    engine = Engine(db_url, clock=clock)
    engine.apply_catalog({"guests": [{"uses": 3, "window": "1h"}]})
    engine.consume_guest("sess_1", "203.0.113.5")
    engine.close()

    code, out, _ = run(db_url, "jobs", "run")

    assert code == 0
    assert "pruned 2 guest windows with no use left in them" in out
