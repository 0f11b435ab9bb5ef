"""`creditgate keys create|list|revoke`: keys made on the command line work on the service."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from creditgate import Engine
from creditgate.app import create_app
from creditgate.cli.main import app

runner = CliRunner()


def run(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--database", db_url])
    return result.exit_code, result.stdout, result.stderr


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def one_line(text: str) -> str:
    """The text with its box drawing and line wrapping undone."""
    return " ".join(text.replace("│", " ").split())


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    """The service over the same database the commands write."""
    with TestClient(create_app(engine=engine), raise_server_exceptions=False) as client:
        yield client


def test_keys_create_prints_the_key_once(db_url: str) -> None:
    code, out, err = run(db_url, "keys", "create", "--scope", "write", "--name", "backend")

    key = out.splitlines()[-1]
    assert (code, err) == (0, "")
    assert key.startswith("cg_")
    assert out.count(key) == 1


def test_keys_create_makes_a_key_the_service_accepts(
    db_url: str, engine: Engine, http: TestClient
) -> None:
    engine.create_account("user_1")
    _, out, _ = run(db_url, "keys", "create", "--scope", "write", "--name", "backend")
    key = out.splitlines()[-1]

    response = http.post("/v1/accounts/user_1/grants", json={"amount": "5"}, headers=bearer(key))

    assert response.status_code == 200
    assert str(engine.balance("user_1").balance) == "5"


def test_keys_create_gives_the_key_its_scope(db_url: str, http: TestClient) -> None:
    _, out, _ = run(db_url, "keys", "create", "--scope", "read", "--name", "dashboard")
    key = out.splitlines()[-1]

    response = http.post("/v1/expire", headers=bearer(key))

    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_keys_list_shows_each_prefix_and_no_secret(db_url: str, engine: Engine) -> None:
    made = [engine.create_key(scope, name=f"{scope} key") for scope in ("read", "admin")]

    code, out, _ = run(db_url, "keys", "list")

    assert code == 0
    assert [line.split()[2] for line in out.splitlines()] == [
        f"cg_{key.prefix}_…" for key, _ in made
    ]
    assert not any(text in out or text.split("_", 2)[2] in out for _, text in made)


def test_keys_revoke_makes_the_key_answer_401(
    db_url: str, engine: Engine, http: TestClient
) -> None:
    engine.create_account("user_1")
    made, text = engine.create_key("read", name="leaked")

    code, out, _ = run(db_url, "keys", "revoke", str(made.id))

    response = http.get("/v1/accounts/user_1/balance", headers=bearer(text))
    assert code == 0
    assert f"cg_{made.prefix}_…" in out
    assert " revoked " in out
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


def test_keys_list_marks_a_revoked_key(db_url: str, engine: Engine) -> None:
    made, _ = engine.create_key("read", name="leaked")
    engine.revoke_key(made.id)

    _, out, _ = run(db_url, "keys", "list")

    assert "leaked revoked " in out


def test_keys_create_binds_the_key_to_one_account(
    db_url: str, engine: Engine, http: TestClient
) -> None:
    for account in ("user_1", "user_2"):
        engine.create_account(account)
    _, out, _ = run(
        db_url, "keys", "create", "--scope", "read", "--name", "widget", "--account", "user_1"
    )
    key = out.splitlines()[-1]

    own = http.get("/v1/accounts/user_1/balance", headers=bearer(key))
    other = http.get("/v1/accounts/user_2/balance", headers=bearer(key))

    assert "account=user_1" in out.splitlines()[0]
    assert (own.status_code, other.status_code) == (200, 404)


def test_keys_create_exits_2_naming_the_scopes_when_the_scope_is_unknown(db_url: str) -> None:
    code, out, err = run(db_url, "keys", "create", "--scope", "owner", "--name", "x")

    assert (code, out) == (2, "")
    assert "Invalid value for '--scope'" in one_line(err)
    assert "'owner' is not one of 'read', 'write', 'admin'" in one_line(err)


def test_keys_create_exits_1_when_an_admin_key_is_bound_to_an_account(
    db_url: str, engine: Engine
) -> None:
    engine.create_account("user_1")

    code, out, err = run(
        db_url, "keys", "create", "--scope", "admin", "--name", "x", "--account", "user_1"
    )

    assert (code, out) == (1, "")
    assert err == "error: scope: a key bound to one account cannot be admin [invalid_input]\n"
    assert engine.api_keys() == ()


def test_keys_create_exits_1_when_the_account_does_not_exist(db_url: str, engine: Engine) -> None:
    code, _, err = run(
        db_url, "keys", "create", "--scope", "read", "--name", "x", "--account", "nobody"
    )

    assert code == 1
    assert err == "error: account 'nobody' was not found [account_not_found]\n"
    assert engine.api_keys() == ()


def test_keys_create_exits_1_when_the_name_is_blank(db_url: str, engine: Engine) -> None:
    code, _, err = run(db_url, "keys", "create", "--scope", "read", "--name", " ")

    assert code == 1
    assert err == "error: name: must be non-empty printable text [invalid_input]\n"
    assert engine.api_keys() == ()


def test_keys_revoke_exits_1_when_no_key_has_the_id(db_url: str) -> None:
    code, _, err = run(db_url, "keys", "revoke", "99")

    assert code == 1
    assert err == "error: key 99 was not found [key_not_found]\n"
