"""Guest quotas through both faces: equal allowances, equal refusals, equal links."""

from creditgate import Engine, Ledger
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

QUOTAS = {
    "features": [{"key": "video.generate", "name": "Video"}],
    "guests": [
        {"uses": 3, "window": "24h"},
        {"feature": "video.generate", "uses": 1, "window": "1h"},
    ],
}


def _quotas(engine: Engine) -> None:
    engine.apply_catalog(QUOTAS)
    engine.create_account("user_1")


def test_guest_uses_answer_equal_allowances_and_refusals(faces: Faces) -> None:
    faces.arrange(_quotas)

    def use(ledger: Ledger) -> list[object]:
        answers: list[object] = []
        for session, ip, feature in [
            ("sess_1", "203.0.113.5", None),
            ("sess_1", "203.0.113.5", "video.generate"),
            ("sess_1", "203.0.113.5", "video.generate"),
            ("sess_2", "2001:db8::1", "image.generate"),
            ("sess_3", "2001:db8::2", None),
            ("sess_4", "2001:db8::3", None),
            ("sess_5", "2001:db8::4", None),
            ("sess_6", "203.0.113", None),
            ("bad session", "203.0.113.5", None),
        ]:
            try:
                answers.append(ledger.consume_guest(session, ip, feature=feature))
            except Exception as error:  # noqa: BLE001 - compared across faces
                answers.append(error)
        return answers

    embedded, remote = faces.each(use)

    assert embedded == remote
    assert isinstance(remote, list)
    assert [type(a).__name__ for a in remote] == [
        "GuestAllowance",
        "GuestAllowance",
        "GuestQuotaExceeded",
        "GuestAllowance",
        "GuestAllowance",
        "GuestAllowance",
        "GuestQuotaExceeded",
        "InvalidInput",
        "InvalidInput",
    ]


def test_status_quotas_and_links_answer_equally(faces: Faces) -> None:
    faces.arrange(_quotas)

    def act(ledger: Ledger) -> tuple[object, ...]:
        ledger.consume_guest("sess_1", "198.51.100.7", idempotency_key="try-1")
        return (
            ledger.consume_guest("sess_1", "198.51.100.7", idempotency_key="try-1"),
            ledger.guest_status("sess_1", "198.51.100.7", feature="video.generate"),
            ledger.guest_quotas(),
            ledger.link_guest("sess_1", "user_1"),
            ledger.link_guest("sess_1", "user_1"),
        )

    embedded, remote = faces.each(act)

    assert embedded == remote


@ON_SQLITE_ONLY
def test_refusals_of_guests_answer_equal_errors(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.each(lambda ledger: ledger.consume_guest("sess_1", "203.0.113.5"))
    linked = faces.each(lambda ledger: ledger.link_guest("sess_1", "nobody"))

    assert embedded == remote
    assert type(remote).__name__ == "GuestsNotAllowed"
    assert linked[0] == linked[1]
