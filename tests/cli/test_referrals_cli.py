"""A catalog file's `[referrals]` on the command line: apply, dry run and export round-trip it."""

import tomllib
from pathlib import Path

from tests.cli.test_cli import run

FILE = """\
[referrals]
referrer_credits = "50"
referee_credits = "20.5"
condition = "first_purchase"
"""


def test_catalog_apply_dry_run_then_apply_then_export_round_trips_the_referrals(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "catalog.toml"
    file.write_text(FILE, encoding="utf-8")

    dry = run(db_url, "catalog", "apply", str(file), "--dry-run")
    before = run(db_url, "catalog", "export")
    applied = run(db_url, "catalog", "apply", str(file))
    again = run(db_url, "catalog", "apply", str(file))
    after = run(db_url, "catalog", "export")

    change = "~ referrals: 50 credits to the referrer, 20.5 to the referee, on first_purchase"
    assert dry[:2] == (0, f"{change}\n1 would change (dry run: nothing written)\n")
    assert "referrals" not in tomllib.loads(before[1])
    assert applied[:2] == (0, f"{change}\n1 changed\n")
    assert again[0] == 0
    assert "referrals" not in again[1]
    assert tomllib.loads(after[1])["referrals"] == tomllib.loads(FILE)["referrals"]


def test_catalog_apply_exits_1_naming_the_field_when_the_referrals_are_bad(
    db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "catalog.toml"
    file.write_text(FILE.replace('"first_purchase"', '"purchase"'), encoding="utf-8")

    code, _, err = run(db_url, "catalog", "apply", str(file))

    assert code == 1
    assert "referrals.condition" in err
    assert "referrals" not in tomllib.loads(run(db_url, "catalog", "export")[1])
