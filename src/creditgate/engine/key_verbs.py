"""The service's half of the `Engine`: API keys, made, listed, revoked and checked.

Keys live in the ledger's database so that every worker of the service, and the CLI that
makes them, agree on them without another store.
"""

import secrets

from creditgate.domain.accounts import check_account_id
from creditgate.domain.errors import (
    AccountNotFound,
    InvalidInput,
    KeyNotFound,
    Unauthenticated,
)
from creditgate.domain.keys import (
    KEY_PREFIX_LENGTH,
    ApiKey,
    Scope,
    check_key_name,
    key_digest,
    key_text,
    matches,
    split_key,
)
from creditgate.engine.clock import Clock
from creditgate.storage import keys as rows
from creditgate.storage.accounts import find_account
from creditgate.storage.database import Database


class KeyVerbs:
    """API keys (mixed into `Engine`); the service authenticates every call with them."""

    db: Database
    clock: Clock

    def create_key(
        self,
        scope: Scope | str,
        *,
        name: str,
        account_id: str | None = None,
        text: str | None = None,
    ) -> tuple[ApiKey, str]:
        """Make a key; the second value is the key itself, shown this once and never again.

        `text` stores a key chosen by the caller instead of a new random one: the demo's
        well-known key, or a key carried over from another installation. Storing the same
        text again returns the stored key.

        Raises:
            InvalidInput: a bad scope, name or text, or an admin key bound to an account.
            AccountNotFound: the account to bind the key to does not exist.
        """
        try:
            checked_scope = Scope(scope)
        except ValueError:
            raise InvalidInput(field="scope", reason="one of read, write, admin") from None
        label = check_key_name(name)
        bound = None if account_id is None else check_account_id(account_id)
        if bound is not None and checked_scope is Scope.ADMIN:
            raise InvalidInput(field="scope", reason="a key bound to one account cannot be admin")
        if text is None:
            text = key_text(secrets.token_hex(KEY_PREFIX_LENGTH // 2), secrets.token_urlsafe(32))
        try:
            prefix, text = split_key(text)
        except Unauthenticated:
            raise InvalidInput(
                field="text", reason="a key reads cg_<10 hex>_<32-64 characters>"
            ) from None
        now = self.clock.now()
        with self.db.write() as conn:
            stored = rows.find_key(conn, prefix)
            if stored is not None:
                if not matches(text, stored[1]):
                    raise InvalidInput(field="text", reason="another key has this prefix")
                return stored[0], text
            account_pk = None
            if bound is not None:
                found = find_account(conn, bound)
                if found is None:
                    raise AccountNotFound(bound)
                account_pk = found.pk
            key_id = rows.insert_key(
                conn,
                prefix=prefix,
                digest=key_digest(text),
                scope=checked_scope,
                name=label,
                account_pk=account_pk,
                now=now,
            )
        made = ApiKey(
            id=key_id,
            prefix=prefix,
            scope=checked_scope,
            name=label,
            account_id=bound,
            created_at=now,
            revoked_at=None,
        )
        return made, text

    def api_keys(self) -> tuple[ApiKey, ...]:
        """Every key, revoked ones included, without secrets."""
        with self.db.read() as conn:
            return tuple(rows.list_keys(conn))

    def revoke_key(self, key_id: int) -> ApiKey:
        """Revoke a key: from now on it authenticates nothing. Revoking twice is harmless.

        Raises:
            KeyNotFound: no key has this id.
        """
        if type(key_id) is not int:
            raise InvalidInput(field="key_id", reason="must be an integer")
        now = self.clock.now()
        with self.db.write() as conn:
            rows.revoke_key(conn, key_id, now)
            found = rows.find_key_by_id(conn, key_id)
        if found is None:
            raise KeyNotFound(key_id)
        return found

    def authenticate(self, text: str) -> ApiKey:
        """The live key a caller sent, compared with its digest in constant time.

        Raises:
            Unauthenticated: the key is malformed, unknown or revoked.
        """
        prefix, whole = split_key(text)
        with self.db.read() as conn:
            found = rows.find_key(conn, prefix)
        if found is None or not matches(whole, found[1]):
            raise Unauthenticated("the API key is not valid")
        key = found[0]
        if key.is_revoked:
            raise Unauthenticated("the API key has been revoked")
        return key
