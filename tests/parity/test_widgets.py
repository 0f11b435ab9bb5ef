"""Widget tokens through both faces: equal claims, equal refusals, equal rotations."""

from dataclasses import replace

import pytest

from creditgate import Engine, Ledger, Unauthenticated
from creditgate.domain.widgets import TOKEN_TTL_S_MAX, WidgetToken
from tests.parity.conftest import Faces


def _account(engine: Engine) -> None:
    engine.create_account("user_1")


def test_minting_answers_equal_tokens_and_refusals(faces: Faces) -> None:
    faces.arrange(_account)

    def mint(ledger: Ledger) -> list[object]:
        answers: list[object] = []
        for account_id, ttl_s, url in [
            ("user_1", 600, "https://app.example/ok"),
            (None, 60, None),
            ("ghost", 600, None),
            ("user_1", 0, None),
            ("user_1", TOKEN_TTL_S_MAX + 1, None),
            ("user_1", 600, "ftp://app.example"),
        ]:
            try:
                made = ledger.mint_widget_token(account_id, ttl_s=ttl_s, success_url=url)
                # The text is signed by each database's own key: only what it says compares.
                answers.append(replace(made, token=made.token.split(".")[0]))
            except Exception as error:  # noqa: BLE001 - compared across faces
                answers.append(error)
        return answers

    embedded, remote = faces.each(mint)

    assert embedded == remote
    assert isinstance(remote, list)
    assert [type(a).__name__ for a in remote] == [
        "WidgetToken",
        "WidgetToken",
        "AccountNotFound",
        "InvalidInput",
        "InvalidInput",
        "InvalidInput",
    ]


def test_each_faces_token_is_checked_by_its_own_service_and_rotation_ends_it(
    faces: Faces,
) -> None:
    faces.arrange(_account)

    def mint_then_rotate(ledger: Ledger) -> tuple[WidgetToken, int, int]:
        made = ledger.mint_widget_token("user_1")
        return made, ledger.rotate_widget_keys(), ledger.rotate_widget_keys()

    (local, *local_counts), (remote, *remote_counts) = faces.both(mint_then_rotate)

    assert local_counts == remote_counts == [1, 0]
    assert (local.account_id, local.expires_at) == (remote.account_id, remote.expires_at)
    for engine, token in ((faces.engine, local.token), (faces.served, remote.token)):
        with pytest.raises(Unauthenticated, match="not valid"):
            engine.widget_claims(token)
        assert engine.widget_claims(engine.mint_widget_token("user_1").token).account_id == "user_1"
