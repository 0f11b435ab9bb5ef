"""Calls to Stripe's API, through the official `stripe` package: opening Checkout Sessions.

The session carries the account and the pack in its metadata (and in its payment's, so a
refund or dispute can be traced back too). It is what the webhook trusts later: a session
creditgate did not open names no pack, and grants nothing. The API base is configurable so
that tests run against a local fake of Stripe's HTTP API.
"""

from typing import Any

import stripe

from creditgate.domain.errors import ProviderFailed, Unavailable
from creditgate.domain.packs import Pack
from creditgate.domain.plans import Interval, Plan
from creditgate.domain.topups import PendingTopUp

TIMEOUT_S = 20.0
"""How long one call to Stripe may take before the checkout is refused (and may be retried)."""


class StripeGateway:
    """Stripe's API for this service; without a secret key every call is `Unavailable`."""

    def __init__(self, secret_key: str | None, *, api_base: str | None = None) -> None:
        self._client: stripe.StripeClient | None = None
        if secret_key:
            self._client = stripe.StripeClient(
                secret_key,
                base_addresses={"api": api_base} if api_base else None,
                # The package's own default transport (requests, its dependency); its httpx
                # transport uploads in a form httpx has deprecated.
                http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
                max_network_retries=2,
            )

    @property
    def is_configured(self) -> bool:
        """Whether a secret key was given."""
        return self._client is not None

    def open_pack_checkout(
        self,
        *,
        account_id: str,
        pack: Pack,
        success_url: str,
        cancel_url: str,
        customer_email: str | None = None,
    ) -> tuple[str, str]:
        """Open a one-time Checkout Session for a pack; its (session id, url).

        Raises:
            Unavailable: no Stripe secret key is configured.
            ProviderFailed: Stripe refused or could not be reached.
        """
        metadata = {"account_id": account_id, "pack": pack.key}
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": pack.currency,
                        "unit_amount": pack.price_minor,
                        "product_data": {"name": pack.name},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": account_id,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
        }
        if customer_email is not None:
            params["customer_email"] = customer_email
        session = self._call(lambda client: client.v1.checkout.sessions.create(params=params))
        if not session.url:
            raise ProviderFailed(provider="stripe", reason="the session came back without a URL")
        return session.id, session.url

    def open_plan_checkout(
        self,
        *,
        account_id: str,
        plan: Plan,
        interval: Interval,
        success_url: str,
        cancel_url: str,
        customer_email: str | None = None,
    ) -> tuple[str, str]:
        """Open a subscription Checkout Session for a plan's price; its (session id, url).

        The subscription carries the account, plan and interval in its metadata: its
        invoices name them back, and each paid one grants the plan's cycles.

        Raises:
            Unavailable: no Stripe secret key is configured.
            ProviderFailed: Stripe refused or could not be reached.
        """
        metadata = {"account_id": account_id, "plan": plan.key, "interval": interval.value}
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [
                {
                    "price_data": {
                        "currency": plan.currency,
                        "unit_amount": plan.prices[interval],
                        "product_data": {"name": plan.name},
                        "recurring": {"interval": interval.value},
                    },
                    "quantity": 1,
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": account_id,
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
        }
        if customer_email is not None:
            params["customer_email"] = customer_email
        session = self._call(lambda client: client.v1.checkout.sessions.create(params=params))
        if not session.url:
            raise ProviderFailed(provider="stripe", reason="the session came back without a URL")
        return session.id, session.url

    def charge_saved_card(self, top_up: PendingTopUp) -> str:
        """Start the off-session payment of a top-up with the saved card; its id.

        The purchase's reference is the idempotency key: a start retried after a lost
        answer is the same payment at Stripe, never a second charge. The payment's
        metadata names the purchase; Stripe's `payment_intent.succeeded` grants it.

        Raises:
            Unavailable: no Stripe secret key is configured.
            CardDeclined: the card was declined (the payment's id is on the error).
            ProviderFailed: Stripe refused otherwise or could not be reached.
        """
        params: dict[str, Any] = {
            "amount": top_up.amount_minor,
            "currency": top_up.currency,
            "customer": top_up.customer_ref,
            "payment_method": top_up.payment_method_ref,
            "off_session": True,
            "confirm": True,
            "metadata": {
                "account_id": top_up.account_id,
                "pack": top_up.pack,
                "purchase_id": str(top_up.purchase_id),
            },
        }
        options = {"idempotency_key": top_up.reference}

        def create(client: stripe.StripeClient) -> Any:
            try:
                return client.v1.payment_intents.create(params=params, options=options)  # type: ignore[arg-type]
            except stripe.CardError as exc:
                intent = getattr(exc.error, "payment_intent", None)
                declined = getattr(intent, "id", None) if intent is not None else None
                raise CardDeclined(str(exc.user_message or exc.code), declined) from None

        intent = self._call(create)
        return str(intent.id)

    def _call(self, call: Any) -> Any:
        if self._client is None:
            raise Unavailable(service="stripe", reason="no Stripe secret key is configured")
        try:
            return call(self._client)
        except stripe.StripeError as exc:
            reason = exc.user_message or type(exc).__name__
            raise ProviderFailed(provider="stripe", reason=str(reason)[:200]) from None


class CardDeclined(Exception):
    """The saved card was declined: a failed top-up payment, not an error of the service."""

    def __init__(self, reason: str, payment_ref: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payment_ref = payment_ref
