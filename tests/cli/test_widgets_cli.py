"""`creditgate widgets`: a token the engine accepts for its account, and a rotation ending it."""

import pytest
from typer.testing import CliRunner

from creditgate import Engine, Unauthenticated
from creditgate.cli.main import app

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


def test_a_printed_token_reads_its_account_until_the_keys_are_rotated(db_url: str) -> None:
    engine = Engine(db_url)
    engine.create_account("user_1")

    code, out, err = run(db_url, "widgets", "token", "user_1", "--ttl-s", "60")
    token = out.strip()
    claims = engine.widget_claims(token)
    rotated = run(db_url, "widgets", "rotate")

    assert (code, claims.account_id) == (0, "user_1")
    assert "expires at" in err
    assert rotated[:2] == (0, "retired 1 signing key(s): every widget token so far is refused\n")
    engine.widget_keys.clear()
    with pytest.raises(Unauthenticated):
        engine.widget_claims(token)
    engine.close()


def test_a_token_for_an_unknown_account_or_a_bad_lifetime_is_refused(db_url: str) -> None:
    Engine(db_url).close()

    unknown = run(db_url, "widgets", "token", "ghost")
    too_long = run(db_url, "widgets", "token", "--ttl-s", "7200")

    assert unknown[0] == too_long[0] == 1
    assert "account_not_found" in unknown[2]
    assert "ttl_s" in too_long[2]
