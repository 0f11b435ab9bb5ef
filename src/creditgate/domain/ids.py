"""Identifiers of the ledger's objects.

Accounts are found by the app's own id (a string such as the auth provider's user id);
everything the ledger creates is numbered by the database.
"""

from typing import NewType

AccountId = NewType("AccountId", str)
"""The app's own id for a wallet: a user id, an organization id."""

LotId = NewType("LotId", int)
EntryId = NewType("EntryId", int)
HoldId = NewType("HoldId", int)
