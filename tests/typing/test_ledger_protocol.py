"""`Engine` and `Client` are both a `Ledger`, method for method.

mypy (strict, over the tests) checks the binding functions below: a signature that drifts
on either face stops them type-checking. The runtime tests compare what mypy cannot see
as sharply: parameter names, kinds, defaults and annotations, and the set of methods.
"""

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from creditgate import AsyncClient, Client, Engine, Ledger

ENGINE_ONLY = {
    "api_keys",
    "authenticate",
    "close",
    "create_key",
    "is_ready",
    "pending_holds",
    "revoke_key",
    "seed",
    # What a verified provider event may do: called by whoever receives the webhooks.
    "checkout_pack",
    "close_account",
    "complete_checkout",
    "fail_checkout",
    "open_checkout",
    "provider_events",
    "record_event",
    "reverse_payment",
    "sign_up",
    "checkout_plan",
    "complete_plan_checkout",
    "end_provider_subscription",
    "open_plan_checkout",
    "pay_invoice",
    "update_provider_subscription",
    "confirm_payment",
    "fail_payment",
    "pending_top_ups",
    "top_up_failed",
    "top_up_started",
    # The guest counts' housekeeping, and a look-up the analytics read in the database.
    "get_guest_session",
    "prune_guest_windows",
    # The webhook worker's verbs: whoever sends the outbox calls them, not the app.
    "claim_webhook_deliveries",
    "prune_webhook_events",
    "record_webhook_attempt",
    # The admin console's listings across every account (the service's API has none).
    "recent_purchases",
    "subscriptions",
    # What the widget routes answer a browser's token: a token, not a key, calls them.
    "widget_balance",
    "widget_claims",
    "widget_costs",
}
"""Engine methods for whoever runs the engine, not its callers: no face shares them."""

LEDGER_METHODS = sorted(
    name
    for name, member in inspect.getmembers(Ledger, inspect.isfunction)
    if not name.startswith("_")
)

HOLDERS = {"holding"}
"""`holding` yields `HeldWork` on the engine and the client, `AsyncHeldWork` on the async one."""


def engine_is_a_ledger(engine: Engine) -> Ledger:
    return engine


def client_is_a_ledger(client: Client) -> Ledger:
    return client


def _public(cls: type[Any]) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, callable)
        if not name.startswith("_") and not isinstance(member, type)
    }


def test_ledger_names_every_engine_method_callers_share() -> None:
    shared = _public(Engine) - ENGINE_ONLY

    assert set(LEDGER_METHODS) == shared
    assert len(LEDGER_METHODS) == 94


@pytest.mark.parametrize("face", [Engine, Client, AsyncClient], ids=lambda face: face.__name__)
def test_face_names_every_ledger_method(face: type[Any]) -> None:
    missing = set(LEDGER_METHODS) - _public(face)

    assert missing == set()


def _parameters(method: Callable[..., Any]) -> list[inspect.Parameter]:
    return list(inspect.signature(method).parameters.values())


@pytest.mark.parametrize("name", LEDGER_METHODS)
@pytest.mark.parametrize("face", [Engine, Client, AsyncClient], ids=lambda face: face.__name__)
def test_face_takes_the_ledgers_parameters(face: type[Any], name: str) -> None:
    expected = _parameters(getattr(Ledger, name))

    found = _parameters(getattr(face, name))

    assert found == expected


@pytest.mark.parametrize("name", sorted(set(LEDGER_METHODS) - HOLDERS))
@pytest.mark.parametrize("face", [Engine, Client, AsyncClient], ids=lambda face: face.__name__)
def test_face_returns_the_ledgers_result_type(face: type[Any], name: str) -> None:
    expected = inspect.signature(getattr(Ledger, name)).return_annotation

    found = inspect.signature(getattr(face, name)).return_annotation

    assert found == expected


@pytest.mark.parametrize("name", sorted(set(LEDGER_METHODS) - HOLDERS))
def test_async_client_answers_each_ledger_method_with_a_coroutine(name: str) -> None:
    method = getattr(AsyncClient, name)

    is_coroutine = inspect.iscoroutinefunction(method)

    assert is_coroutine
