"""Problem responses back into domain errors: the one table from `code` to class.

The service answers an error as an RFC 9457 problem whose body carries the error's `code`
and its `fields()`. Those fields are the error's constructor arguments by name (an
`InsufficientCredits` carries `required` and `available`; its `shortfall` is derived), so
one rule rebuilds every class: call it with the body's values for its parameters, reading
amounts back into `Credits`. The rebuilt error equals the one the engine raised: same
class, same fields, same detail.

An unknown code (a newer server, a proxy, a route that does not exist) falls back by status
to the nearest base class that the body can build, and at last to `CreditgateError` with
the body's detail, so `except NotFound` and `except CreditgateError` keep working.
"""

import inspect
import json
import typing
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime

from creditgate.domain import errors
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import CreditgateError

__all__ = ["CLASSES", "error_of"]


def _tree(root: type[CreditgateError]) -> Iterator[type[CreditgateError]]:
    yield root
    for child in root.__subclasses__():
        yield from _tree(child)


CLASSES: dict[str, type[CreditgateError]] = {
    cls.code: cls for cls in _tree(CreditgateError) if cls.__module__ == errors.__name__
}
"""Every class of the domain's error tree, by its stable code."""

_BASES: dict[int, type[CreditgateError]] = {
    401: errors.Unauthenticated,
    402: errors.InsufficientCredits,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.InvalidInput,
}
"""The base class each status stands for, when the code is unknown."""


def _parameter_types(cls: type[CreditgateError]) -> dict[str, object]:
    """The type of each constructor parameter of `cls` (amounts resolve to `Credits`)."""
    hints = typing.get_type_hints(cls.__init__, localns={"Credits": Credits})
    return {name: hint for name, hint in hints.items() if name != "return"}


_TYPES = {cls: _parameter_types(cls) for cls in CLASSES.values()}


def _read(value: object, kind: object, name: str) -> tuple[bool, object]:
    """A body value as the constructor takes it, and whether it is of the right kind.

    A value of another kind means the body is not this class's (a newer or other server):
    the caller then climbs to a base class rather than build a wrong error.
    """
    if kind is Credits:
        if not isinstance(value, str):
            return False, value
        try:
            return True, Credits.parse(value, field=name)
        except errors.InvalidInput:
            return False, value
    if kind is datetime:
        if not isinstance(value, str):
            return False, value
        try:
            return True, datetime.fromisoformat(value)
        except ValueError:
            return False, value
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool), value
    if kind in (str, int):
        assert isinstance(kind, type)
        return isinstance(value, kind) and not isinstance(value, bool), value
    return True, value


def _build(cls: type[CreditgateError], body: Mapping[str, object]) -> CreditgateError | None:
    """`cls` from the problem body's fields, or None when the body lacks them."""
    types = _TYPES[cls] if cls in _TYPES else _parameter_types(cls)
    arguments: dict[str, object] = {}
    for name, parameter in inspect.signature(cls).parameters.items():
        if name not in body:
            if parameter.default is inspect.Parameter.empty:
                return None
            continue
        is_kind, value = _read(body[name], types.get(name, object), name)
        if not is_kind:
            return None
        arguments[name] = value
    make: Callable[..., CreditgateError] = cls
    try:
        return make(**arguments)
    except (TypeError, ValueError, errors.InvalidInput):
        return None


def _fallback(status: int) -> type[CreditgateError]:
    return _BASES.get(status, CreditgateError)


def error_of(status: int, content: bytes, *, reason_phrase: str = "") -> CreditgateError:
    """The domain error an error response stands for.

    `content` is the response body: a problem document, or whatever a proxy sent instead.
    """
    try:
        parsed = json.loads(content) if content else None
    except ValueError:
        parsed = None
    body: dict[str, object] = dict(parsed) if isinstance(parsed, dict) else {}
    detail = body.get("detail")
    if not isinstance(detail, str) or not detail:
        detail = f"HTTP {status} {reason_phrase}".rstrip()
    body["detail"] = detail
    code = body.get("code")
    known = CLASSES.get(code) if isinstance(code, str) else None
    start = known if known is not None else _fallback(status)
    # Climb from the class named (or the status's base) to the first the body can build.
    for cls in start.__mro__:
        if issubclass(cls, CreditgateError):
            error = _build(cls, body)
            if error is not None:
                return error
    return CreditgateError(detail)
