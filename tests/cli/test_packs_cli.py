"""`creditgate packs`: the packs for sale, made and changed from a terminal."""

from typer.testing import CliRunner

from creditgate import Credits, Engine
from creditgate.cli.main import app

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


def test_packs_create_update_list_and_deactivate(db_url: str) -> None:
    created = run(
        db_url, "packs", "create", "creator", "--name", "Creator", "--credits", "110",
        "--price", "1499", "--badge", "best value",
    )  # fmt: skip
    updated = run(db_url, "packs", "update", "creator", "--price", "1299", "--bonus", "10")
    free = run(
        db_url, "packs", "create", "starter", "--name", "Starter", "--credits", "50",
        "--price", "0", "--free-once",
    )  # fmt: skip
    listed = run(db_url, "packs", "list")
    gone = run(db_url, "packs", "deactivate", "creator")
    still = run(db_url, "packs", "list", "--include-inactive")

    assert [r[0] for r in (created, updated, free, listed, gone, still)] == [0] * 6
    assert "1499 usd  Creator  [best value]" in created[1]
    assert "110 + 10 bonus credits  1299 usd" in updated[1]
    assert listed[1].splitlines()[0].startswith("starter"), "free first"
    assert "(inactive)" in gone[1]
    engine = Engine(db_url, upgrade=False)
    pack = engine.get_pack("creator")
    engine.close()
    assert (pack.price_minor, pack.total_credits, pack.is_active) == (
        1299,
        Credits.parse(120),
        False,
    )


def test_packs_create_refuses_a_free_pack_that_is_not_free_once(db_url: str) -> None:
    code, _, err = run(
        db_url, "packs", "create", "gift", "--name", "Gift", "--credits", "5", "--price", "0"
    )

    assert code == 1
    assert err.strip() == (
        "error: price: a free-once pack has price 0, and only a free-once pack may [invalid_input]"
    )
    assert run(db_url, "packs", "list", "--include-inactive")[1] == ""
