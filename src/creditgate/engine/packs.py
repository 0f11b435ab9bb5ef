"""The packs' use cases: create, change, remove, and the packs of a catalog file.

A pack any purchase ever named is never deleted, only deactivated, so every purchase keeps
pointing at what was sold. A change applies to checkouts from then on; a checkout already
open is judged by the amount it was opened with.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from creditgate.domain.errors import PackExists, PackNotFound
from creditgate.domain.packs import Pack, PackSpec, pack_data, parse_pack
from creditgate.storage import packs as rows


def create_pack(conn: Connection, now: datetime, spec: PackSpec) -> Pack:
    """Add a pack.

    Raises:
        PackExists: the key is taken (by an active or an inactive pack).
    """
    if rows.find_pack(conn, spec.key) is not None:
        raise PackExists(key=spec.key)
    rows.insert_pack(conn, spec, now)
    return found_pack(conn, spec.key)[1]


def found_pack(conn: Connection, key: str) -> tuple[int, Pack]:
    """A pack by key.

    Raises:
        PackNotFound: no pack has this key.
    """
    found = rows.find_pack(conn, key)
    if found is None:
        raise PackNotFound(key)
    return found


def on_sale(conn: Connection, key: str) -> tuple[int, Pack]:
    """An active pack, to buy or claim.

    Raises:
        PackNotFound: no active pack has this key.
    """
    pk, pack = found_pack(conn, key)
    if not pack.is_active:
        raise PackNotFound(key)
    return pk, pack


def update_pack(conn: Connection, now: datetime, key: str, changes: Mapping[str, object]) -> Pack:
    """Change a pack's fields, given in their data form (`price=999`, `active=False`).

    Raises:
        PackNotFound: no pack has this key.
        InvalidInput: a bad value.
    """
    _, pack = found_pack(conn, key)
    data = {**pack_data(pack.spec()), **changes}
    return replace_pack(conn, now, parse_pack({k: v for k, v in data.items() if v is not None}))


def replace_pack(conn: Connection, now: datetime, spec: PackSpec) -> Pack:
    """Make the stored pack of `spec.key` exactly `spec`.

    Raises:
        PackNotFound: no pack has this key.
    """
    pk, pack = found_pack(conn, spec.key)
    if spec != pack.spec():
        rows.save_pack(conn, pk, spec, now)
    return found_pack(conn, spec.key)[1]


def remove_pack(conn: Connection, now: datetime, key: str) -> bool:
    """Delete a pack nobody ever bought, or deactivate it; True when deleted.

    Raises:
        PackNotFound: no pack has this key.
    """
    pk, pack = found_pack(conn, key)
    if not rows.is_pack_used(conn, pk):
        rows.delete_pack(conn, pk)
        return True
    if pack.is_active:
        update_pack(conn, now, key, {"active": False})
    return False
