"""The async client: equal results and errors, `async with` holds, and retries."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import httpx

from creditgate import (
    AsyncClient,
    CreditgateError,
    Credits,
    Engine,
    Entry,
    InsufficientCredits,
    Page,
)
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

T = TypeVar("T")

pytestmark = ON_SQLITE_ONLY

MINUTE = timedelta(minutes=1)


def _funded(engine: Engine) -> None:
    funded_account(engine, "user_1", 10)


def _run(
    faces: Faces,
    act: Callable[[AsyncClient], Awaitable[T]],
    transport: httpx.AsyncBaseTransport | None = None,
) -> T | CreditgateError:
    """`act` through a new async client of the live service, on a new event loop."""

    async def main() -> T | CreditgateError:
        async with AsyncClient(faces.base_url, faces.api_key, transport=transport) as client:
            try:
                return await act(client)
            except CreditgateError as error:
                return error

    return asyncio.run(main())


class LosesFirstAnswer(httpx.AsyncBaseTransport):
    """The real network, except that the first answer is lost on the way back."""

    def __init__(self) -> None:
        self._network = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        response = await self._network.handle_async_request(request)
        if len(self.sent) > 1:
            return response
        await response.aread()  # the service has handled the call and answered
        await response.aclose()
        raise httpx.ReadError("the connection dropped before the answer arrived", request=request)

    async def aclose(self) -> None:
        await self._network.aclose()


def test_charge_answers_equal_receipts_through_the_async_client(faces: Faces) -> None:
    faces.arrange(_funded)
    expected = faces.engine.charge("user_1", "2.5", metadata={"job": 1})

    receipt = _run(faces, lambda client: client.charge("user_1", "2.5", metadata={"job": 1}))

    assert receipt == expected


def test_charge_raises_equal_insufficient_credits_through_the_async_client(
    faces: Faces,
) -> None:
    faces.arrange(_funded)
    expected = InsufficientCredits(required=Credits.parse(11), available=Credits.parse(10))

    error = _run(faces, lambda client: client.charge("user_1", 11))

    assert error == expected


def test_history_answers_equal_pages_through_the_async_client(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.arrange(lambda engine: engine.charge("user_1", 1))
    expected = faces.engine.history("user_1", limit=1, cursor="2")

    page: Page[Entry] | CreditgateError = _run(
        faces, lambda client: client.history("user_1", limit=1, cursor="2")
    )

    assert page == expected


async def _holding_succeeds(client: AsyncClient) -> tuple[object, object]:
    async with client.holding("user_1", 5, ttl=MINUTE) as work:
        work.actual = Credits.parse(4)
    return work.receipt, await client.balance("user_1")


def test_holding_settles_equally_through_the_async_client(faces: Faces) -> None:
    faces.arrange(_funded)
    with faces.engine.holding("user_1", 5, ttl=MINUTE) as work:
        work.actual = Credits.parse(4)
    expected = (work.receipt, faces.engine.balance("user_1"))

    outcome = _run(faces, _holding_succeeds)

    assert outcome == expected


class WorkFailed(Exception):
    """The work inside a hold failed."""


async def _holding_fails(client: AsyncClient) -> tuple[object, object]:
    try:
        async with client.holding("user_1", 5, ttl=MINUTE):
            raise WorkFailed("model overloaded")
    except WorkFailed:
        return (await client.history("user_1", limit=1)).items, await client.balance("user_1")
    raise AssertionError("the block's error must propagate")


def test_holding_releases_equally_through_the_async_client_when_the_block_raises(
    faces: Faces,
) -> None:
    faces.arrange(_funded)
    try:
        with faces.engine.holding("user_1", 5, ttl=MINUTE):
            raise WorkFailed("model overloaded")
    except WorkFailed:
        expected = (faces.engine.history("user_1", limit=1).items, faces.engine.balance("user_1"))

    outcome = _run(faces, _holding_fails)

    assert outcome == expected


def test_charge_takes_effect_once_through_the_async_client_when_its_answer_is_lost(
    faces: Faces,
) -> None:
    faces.arrange(_funded)
    network = LosesFirstAnswer()
    expected = faces.engine.charge("user_1", 3)

    receipt = _run(faces, lambda client: client.charge("user_1", 3), transport=network)

    assert receipt == expected
    assert len({request.headers["Idempotency-Key"] for request in network.sent}) == 1
    assert faces.served.balance("user_1") == faces.engine.balance("user_1")
