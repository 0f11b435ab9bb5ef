"""API keys: who may call the service, with which scope, on which accounts.

A key reads `cg_<prefix>_<secret>`. The prefix is public (shown in listings and logs, and
used to find the key); the secret is shown once, when the key is made, and only its
SHA-256 digest is stored, so a leaked database does not leak usable keys. A key may be
bound to one account: then it sees that account and nothing else, which is how a browser
widget reads its own user's balance without holding the app's key.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditgate.domain.errors import Forbidden, InvalidInput, Unauthenticated
from creditgate.domain.ids import AccountId

KEY_PREFIX_LENGTH = 10
"""Hex digits of the public prefix: unique among keys, never secret."""

_KEY = re.compile(rf"cg_([0-9a-f]{{{KEY_PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{32,64}})")


class Scope(StrEnum):
    """What a key may do; each scope includes the ones below it."""

    READ = "read"
    """Balances, history, holds, quotes, the catalog and usage."""
    WRITE = "write"
    """Also accounts, grants, charges, holds and their ends, refunds and transfers."""
    ADMIN = "admin"
    """Also adjustments, account flags, the catalog, expiry passes and verify."""

    @property
    def rank(self) -> int:
        """The scope's place in the order read < write < admin."""
        return _RANKS[self]


_RANKS = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A stored key, without its secret."""

    id: int
    prefix: str
    scope: Scope
    name: str
    account_id: AccountId | None
    """When set, the key may touch this account only (and read the catalog)."""
    created_at: datetime
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        """A revoked key authenticates nothing."""
        return self.revoked_at is not None

    def require(self, scope: Scope) -> None:
        """Refuse a call that needs a higher scope than this key's.

        Raises:
            Forbidden: the key's scope is below `scope`.
        """
        if self.scope.rank < scope.rank:
            raise Forbidden(f"this key's scope is {self.scope}; the call needs {scope}")

    def may_see(self, account_id: str) -> bool:
        """Whether the key reaches this account: every account, or its own only."""
        return self.account_id is None or self.account_id == account_id


def key_text(prefix: str, secret: str) -> str:
    """The key as the caller sends it."""
    return f"cg_{prefix}_{secret}"


def split_key(text: str) -> tuple[str, str]:
    """The prefix and the whole key, from what a caller sent.

    Raises:
        Unauthenticated: the text is not shaped like a key.
    """
    match = _KEY.fullmatch(text)
    if match is None:
        raise Unauthenticated("the API key is malformed")
    return match.group(1), text


def key_digest(text: str) -> str:
    """The stored digest of a whole key: SHA-256, hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def matches(text: str, digest: str) -> bool:
    """Compare a key with a stored digest in constant time."""
    return hmac.compare_digest(key_digest(text), digest)


def check_key_name(value: object) -> str:
    """A key's label: short printable text, so listings say what each key is for.

    Raises:
        InvalidInput: empty, too long or not printable.
    """
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise InvalidInput(field="name", reason="must be non-empty printable text")
    if len(value) > 100:
        raise InvalidInput(field="name", reason="at most 100 characters")
    return value
