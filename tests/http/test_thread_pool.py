"""The service's worker threads against the database's pool: never more threads than connections.

Every route that does I/O runs in the worker's thread pool. With more threads than pooled
connections, a burst opens connections past the pool and closes them again on return, a
connect (a new PostgreSQL backend) per request; so the service caps its threads at the pool.
"""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from creditgate import Engine
from creditgate.app import create_app
from creditgate.storage.database import Database
from tests.factories import funded_account

POOL = 3
BURST = 60


@pytest.mark.anyio
async def test_a_burst_of_requests_opens_no_connection_beyond_the_pool(db_url: str) -> None:
    database = Database(db_url, pool_size=POOL)
    engine = Engine(database, upgrade=False)
    funded_account(engine)
    key = engine.create_key("read", name="burst")[1]
    database.engine.dispose()
    connects: list[int] = []
    busy = [0, 0]  # checked out now, most at once

    def connected(*_: Any) -> None:
        connects.append(1)

    def checked_out(*_: Any) -> None:
        busy[0] += 1
        busy[1] = max(busy)

    def checked_in(*_: Any) -> None:
        busy[0] -= 1

    event.listen(database.engine, "connect", connected)
    event.listen(database.engine, "checkout", checked_out)
    event.listen(database.engine, "checkin", checked_in)
    app = create_app(engine=engine)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {key}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://service", headers=headers
            ) as client:
                answers = await asyncio.gather(
                    *(client.get("/v1/accounts/user_1/balance") for _ in range(BURST))
                )
    finally:
        database.dispose()

    assert [a.status_code for a in answers] == [200] * BURST
    assert busy[1] <= POOL
    assert len(connects) <= POOL
