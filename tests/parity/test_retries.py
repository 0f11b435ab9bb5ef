"""A call whose answer is lost is sent again with the same key, and takes effect once.

Only the network is faked, at the HTTP boundary: an httpx transport that passes each
request to the live service and then loses the answer (the server has handled the call),
or a gateway that answers 503 without passing the request on.
"""

import httpx
import pytest

from creditgate import Client, CreditgateError, Credits, InvalidInput
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces


class LosesAnswers(httpx.BaseTransport):
    """The real network, except that the first `count` answers are lost on the way back."""

    def __init__(self, count: int) -> None:
        self._network = httpx.HTTPTransport()
        self._count = count
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = self._network.handle_request(request)
        if len(self.sent) > self._count:
            return response
        response.read()  # the service has handled the call and answered
        response.close()
        raise httpx.ReadError("the connection dropped before the answer arrived", request=request)

    def close(self) -> None:
        self._network.close()


class BusyGateway(httpx.BaseTransport):
    """A gateway that answers 503 to the first `count` requests, then passes them on."""

    def __init__(self, count: int) -> None:
        self._network = httpx.HTTPTransport()
        self._count = count
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if len(self.sent) > self._count:
            return self._network.handle_request(request)
        return httpx.Response(503, text="upstream is restarting", request=request)

    def close(self) -> None:
        self._network.close()


def _keys(sent: list[httpx.Request]) -> list[str | None]:
    return [request.headers.get("Idempotency-Key") for request in sent]


@ON_SQLITE_ONLY
def test_charge_takes_effect_once_when_its_answer_is_lost(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    network = LosesAnswers(1)
    expected = faces.engine.charge("user_1", 3)

    with Client(faces.base_url, faces.api_key, retries=2, transport=network) as client:
        receipt = client.charge("user_1", 3)

    assert receipt == expected
    assert len(network.sent) == 2
    assert len(set(_keys(network.sent))) == 1
    assert faces.served.balance("user_1") == faces.engine.balance("user_1")


@ON_SQLITE_ONLY
def test_charge_sends_the_callers_key_on_every_attempt(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    network = LosesAnswers(2)

    with Client(faces.base_url, faces.api_key, retries=2, transport=network) as client:
        client.charge("user_1", 3, idempotency_key="job-9")

    assert _keys(network.sent) == ["job-9", "job-9", "job-9"]
    assert faces.served.balance("user_1").balance == Credits.parse(7)


@ON_SQLITE_ONLY
def test_charge_raises_the_network_error_when_every_answer_is_lost(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    network = LosesAnswers(3)

    with (
        Client(faces.base_url, faces.api_key, retries=2, transport=network) as client,
        pytest.raises(httpx.ReadError),
    ):
        client.charge("user_1", 3)

    assert len(network.sent) == 3
    assert len(set(_keys(network.sent))) == 1
    assert faces.served.balance("user_1").balance == Credits.parse(7)


@ON_SQLITE_ONLY
def test_charge_takes_effect_twice_when_called_twice_without_a_key(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    network = LosesAnswers(0)

    with Client(faces.base_url, faces.api_key, transport=network) as client:
        client.charge("user_1", 3)
        client.charge("user_1", 3)

    assert len(set(_keys(network.sent))) == 2
    assert faces.served.balance("user_1").balance == Credits.parse(4)


@ON_SQLITE_ONLY
def test_charge_is_sent_again_when_the_gateway_is_busy(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 10))
    gateway = BusyGateway(2)
    expected = faces.engine.charge("user_1", 3)

    with Client(faces.base_url, faces.api_key, retries=2, transport=gateway) as client:
        receipt = client.charge("user_1", 3)

    assert receipt == expected
    assert len(gateway.sent) == 3


@ON_SQLITE_ONLY
def test_create_feature_is_not_sent_again_when_its_answer_is_lost(faces: Faces) -> None:
    network = LosesAnswers(1)

    with (
        Client(faces.base_url, faces.api_key, retries=2, transport=network) as client,
        pytest.raises(httpx.ReadError),
    ):
        client.create_feature("image.upscale", name="Upscale")

    assert len(network.sent) == 1
    assert faces.served.get_feature("image.upscale").name == "Upscale"


@ON_SQLITE_ONLY
def test_balance_raises_the_gateways_error_when_it_stays_busy(faces: Faces) -> None:
    gateway = BusyGateway(3)

    with (
        Client(faces.base_url, faces.api_key, retries=2, transport=gateway) as client,
        pytest.raises(CreditgateError) as raised,
    ):
        client.balance("user_1")

    assert len(gateway.sent) == 3
    assert str(raised.value) == "HTTP 503 Service Unavailable"


@pytest.mark.parametrize("retries", [-1, 11])
def test_client_raises_invalid_input_when_retries_are_out_of_range(retries: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        Client("http://127.0.0.1:9", "cg_key", retries=retries)

    assert raised.value.field == "retries"
