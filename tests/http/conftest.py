"""The service in process: the app over the test's engine, and keys of every scope."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from creditgate import Engine
from creditgate.app import create_app
from creditgate.settings import Settings

PEER = ("203.0.113.9", 50000)
"""The address the in-process service sees its test client call from (TEST-NET-3)."""
LENIENT = Settings(auth_failures_max=1_000_000)
"""The service's settings for tests that send bad keys by the hundred from one address."""


@dataclass(frozen=True)
class Keys:
    """One key of each scope, as the caller sends it."""

    admin: str
    write: str
    read: str

    def header(self, scope: str) -> dict[str, str]:
        """The Authorization header of the key of `scope`."""
        return {"Authorization": f"Bearer {getattr(self, scope)}"}


@pytest.fixture
def keys(engine: Engine) -> Keys:
    """Keys of each scope, on the test's database."""
    return Keys(
        admin=engine.create_key("admin", name="test admin")[1],
        write=engine.create_key("write", name="test write")[1],
        read=engine.create_key("read", name="test read")[1],
    )


@pytest.fixture
def http(engine: Engine) -> Iterator[TestClient]:
    """The app over the test's engine, called in process; a server error answers 500."""
    with TestClient(
        create_app(engine=engine), raise_server_exceptions=False, client=PEER
    ) as client:
        yield client
