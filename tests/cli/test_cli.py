"""The command line: output, exit codes, and the same errors as the engine."""

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from creditgate.cli.main import app
from creditgate.storage import migrate

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


def hold_id_in(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("hold "))
    return line.removeprefix("hold ").split(":", 1)[0]


def test_grant_then_charge_prints_entry_and_balance(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "10", "--source", "welcome")

    code, out, _ = run(db_url, "charge", "user_1", "2.5", "--feature", "image.generate")

    assert code == 0
    assert "charge" in out
    assert "feature=image.generate" in out
    assert "user_1: balance 7.5, held 0, available 7.5" in out


def test_charge_exits_1_with_one_error_line_when_credits_are_short(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "1")

    code, out, err = run(db_url, "charge", "user_1", "5")

    assert code == 1
    assert out == ""
    assert err == "error: 5 credits required, 1 available (4 short) [insufficient_credits]\n"


def test_charge_exits_1_when_amount_has_too_many_decimals(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")

    code, _, err = run(db_url, "charge", "user_1", "1.2345")

    assert code == 1
    assert "[invalid_input]" in err


def test_command_exits_2_on_a_usage_error(db_url: str) -> None:
    code, _, _ = run(db_url, "hold", "user_1", "5", "--ttl", "soon")

    assert code == 2


def test_hold_then_settle_and_release_through_the_cli(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "100")
    _, held, _ = run(db_url, "hold", "user_1", "30", "--ttl", "60")
    hold_id = hold_id_in(held)
    _, second, _ = run(db_url, "hold", "user_1", "10")
    second_id = hold_id_in(second)

    settled = run(db_url, "settle", hold_id, "20")
    released = run(db_url, "release", second_id)
    again = run(db_url, "release", second_id)

    assert settled[0] == 0
    assert "user_1: balance 80, held 10, available 70" in settled[1]
    assert released[0] == 0
    assert "user_1: balance 80, held 0, available 80" in released[1]
    assert again[0] == 1
    assert "[hold_not_pending]" in again[2]


def test_refund_returns_part_of_a_charge(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "10")
    _, charged, _ = run(db_url, "charge", "user_1", "4")
    entry_id = charged.split()[1]

    code, out, _ = run(db_url, "refund", entry_id, "1.5", "--reason", "generation failed")

    assert code == 0
    assert "user_1: balance 7.5" in out


def test_history_pages_with_a_cursor(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    for _ in range(3):
        run(db_url, "grant", "user_1", "1")

    _, first, _ = run(db_url, "history", "user_1", "--limit", "2")
    cursor = first.strip().splitlines()[-1].split("--cursor ")[1]
    _, rest, _ = run(db_url, "history", "user_1", "--limit", "2", "--cursor", cursor)

    assert len([line for line in first.splitlines() if line.startswith("entry")]) == 2
    assert len([line for line in rest.splitlines() if line.startswith("entry")]) == 1
    assert "more:" not in rest


def test_accounts_show_prints_lifetime_split_by_source(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "50", "--source", "welcome")
    run(db_url, "grant", "user_1", "110", "--source", "purchase")
    run(db_url, "charge", "user_1", "5")

    code, out, _ = run(db_url, "accounts", "show", "user_1")

    assert code == 0
    assert "granted 160 (purchase 110, welcome 50)" in out
    assert "spent 5," in out


def test_verify_exits_0_on_a_clean_database(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "5")

    code, out, _ = run(db_url, "verify")

    assert code == 0
    assert out.endswith("clean\n")


def test_verify_exits_1_and_names_the_check_on_a_corrupted_database(db_url: str) -> None:
    run(db_url, "accounts", "create", "user_1")
    run(db_url, "grant", "user_1", "5")
    corrupt = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with corrupt.begin() as conn:
        conn.execute(text("UPDATE accounts SET balance = balance + 1000"))
    corrupt.dispose()

    code, out, _ = run(db_url, "verify")

    assert code == 1
    assert "balance_is_sum_of_entries: user_1:" in out


def test_demo_spends_nothing_twice_when_run_again(db_url: str) -> None:
    first = run(db_url, "demo")

    second = run(db_url, "demo")

    assert first[0] == second[0] == 0
    assert first[1].endswith("clean\n")
    ledger = "== alice's ledger"
    assert first[1][first[1].index(ledger) :] == second[1][second[1].index(ledger) :]


@pytest.mark.parametrize("command", [["db", "upgrade"]])
def test_db_upgrade_reports_the_head_revision(db_url: str, command: list[str]) -> None:
    code, out, _ = run(db_url, *command)

    assert code == 0
    head = migrate.head()
    assert f"database at revision {head} (head {head})" in out
