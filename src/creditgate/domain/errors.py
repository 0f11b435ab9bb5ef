"""The exception tree: every expected failure of creditgate, with a stable code.

Each class carries a `code` (stable, for clients and logs) and typed fields. No HTTP status
lives here: the service maps classes to statuses in one table. A failed call changes nothing.

    CreditgateError
    ├── InvalidInput            invalid_input          field, reason
    ├── NotFound                <entity>_not_found     id
    │   (AccountNotFound, MemberNotFound, HoldNotFound, EntryNotFound, FeatureNotFound,
    │    KeyNotFound, PlanNotFound, SubscriptionNotFound, PackNotFound, PurchaseNotFound,
    │    PromoNotFound, WebhookEndpointNotFound, WebhookDeliveryNotFound)
    ├── Conflict
    │   ├── IdempotencyConflict idempotency_conflict   key
    │   ├── FeatureExists       feature_exists         key
    │   ├── PlanExists          plan_exists            key
    │   ├── PackExists          pack_exists            key
    │   ├── PackClaimed         pack_claimed           key
    │   ├── PromoExists         promo_exists           key
    │   ├── PromoUnavailable    promo_unavailable      key, reason
    │   ├── PromoRedeemed       promo_redeemed         key
    │   ├── ReferralExists      referral_exists        account_id
    │   ├── ReferralsOff        referrals_off
    │   ├── GuestLinked         guest_linked           session_id
    │   └── HoldNotPending      hold_not_pending       hold_id, hold_status
    ├── InsufficientCredits     insufficient_credits   required, available, shortfall
    │   └── MemberCapExceeded   member_cap_exceeded
    ├── RateLimited             rate_limited           limit_per_s, retry_after_s
    ├── GuestQuotaExceeded      guest_quota_exceeded   limit, retry_after_s, reset_at
    ├── Unauthenticated         unauthenticated
    │   └── TokenExpired        token_expired
    ├── Forbidden               forbidden
    │   ├── AccountFrozen       account_frozen         account_id
    │   └── GuestsNotAllowed    guests_not_allowed     feature
    ├── SignatureInvalid        signature_invalid      provider
    ├── ProviderFailed          provider_failed        provider
    └── Unavailable             unavailable            service
"""

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from creditgate.domain.amounts import Credits


class CreditgateError(Exception):
    """Base of every error creditgate raises on purpose."""

    code: ClassVar[str] = "creditgate_error"
    title: ClassVar[str] = "Credit operation failed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def fields(self) -> dict[str, object]:
        """The typed fields of this error, for problem bodies and equality."""
        return {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CreditgateError) or type(other) is not type(self):
            return NotImplemented
        return (other.detail, other.fields()) == (self.detail, self.fields())

    def __hash__(self) -> int:
        return hash((type(self), self.detail))


class InvalidInput(CreditgateError):
    """A request was malformed: a bad amount, an unknown kind, a missing reason."""

    code = "invalid_input"
    title = "Invalid input"

    def __init__(self, *, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def fields(self) -> dict[str, object]:
        return {"field": self.field, "reason": self.reason}


class NotFound(CreditgateError):
    """Something named by id does not exist (or the caller may not see it)."""

    code = "not_found"
    title = "Not found"
    entity: ClassVar[str] = "object"

    def __init__(self, id: object) -> None:
        super().__init__(f"{self.entity} {id!r} was not found")
        self.id = id

    def fields(self) -> dict[str, object]:
        return {"id": self.id}


class AccountNotFound(NotFound):
    """No account has this id."""

    code = "account_not_found"
    entity = "account"


class MemberNotFound(NotFound):
    """The person is not a member of the organization's account."""

    code = "member_not_found"
    entity = "member"


class HoldNotFound(NotFound):
    """No hold has this id."""

    code = "hold_not_found"
    entity = "hold"


class EntryNotFound(NotFound):
    """No ledger entry has this id."""

    code = "entry_not_found"
    entity = "entry"


class FeatureNotFound(NotFound):
    """No active feature has this key: an unknown or inactive feature is never charged."""

    code = "feature_not_found"
    entity = "feature"


class KeyNotFound(NotFound):
    """No API key has this id."""

    code = "key_not_found"
    entity = "key"


class PlanNotFound(NotFound):
    """No plan has this key (or, to subscribe to, no active plan)."""

    code = "plan_not_found"
    entity = "plan"


class SubscriptionNotFound(NotFound):
    """The account has no live subscription: it is on no plan."""

    code = "subscription_not_found"
    entity = "subscription of account"


class PackNotFound(NotFound):
    """No pack has this key (or, to buy or claim, no active pack)."""

    code = "pack_not_found"
    entity = "pack"


class PurchaseNotFound(NotFound):
    """No purchase of this account has this id."""

    code = "purchase_not_found"
    entity = "purchase"


class PromoNotFound(NotFound):
    """No promo code is this code (codes are compared in upper case)."""

    code = "promo_not_found"
    entity = "promo code"


class WebhookEndpointNotFound(NotFound):
    """No webhook endpoint has this id."""

    code = "webhook_endpoint_not_found"
    entity = "webhook endpoint"


class WebhookDeliveryNotFound(NotFound):
    """No webhook delivery has this id (or it was pruned with its event)."""

    code = "webhook_delivery_not_found"
    entity = "webhook delivery"


class Conflict(CreditgateError):
    """The request clashes with the state it would change."""

    code = "conflict"
    title = "Conflict"


class IdempotencyConflict(Conflict):
    """An idempotency key was reused for a different request."""

    code = "idempotency_conflict"
    title = "Idempotency key reused"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class FeatureExists(Conflict):
    """A feature with this key exists already (perhaps inactive): update it instead."""

    code = "feature_exists"
    title = "Feature exists"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"feature {key!r} exists already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class PlanExists(Conflict):
    """A plan with this key exists already (perhaps inactive): update it instead."""

    code = "plan_exists"
    title = "Plan exists"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"plan {key!r} exists already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class PackExists(Conflict):
    """A pack with this key exists already (perhaps inactive): update it instead."""

    code = "pack_exists"
    title = "Pack exists"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"pack {key!r} exists already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class PackClaimed(Conflict):
    """The account has claimed this free-once pack already."""

    code = "pack_claimed"
    title = "Pack claimed already"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"the free pack {key!r} was claimed by this account already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class PromoExists(Conflict):
    """A promo code with this code exists already (perhaps inactive): update it instead."""

    code = "promo_exists"
    title = "Promo code exists"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"promo code {key!r} exists already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


_PROMO_REASONS = {
    "inactive": "inactive",
    "not_started": "not valid yet",
    "ended": "no longer valid",
    "used_up": "used up",
}


class PromoUnavailable(Conflict):
    """The code cannot be redeemed now; `reason` says why.

    `inactive` (switched off), `not_started` (before its window), `ended` (after it) or
    `used_up` (its maximum of redemptions is reached).
    """

    code = "promo_unavailable"
    title = "Promo code unavailable"

    def __init__(self, *, key: str, reason: str) -> None:
        super().__init__(f"promo code {key!r} is {_PROMO_REASONS.get(reason, reason)}")
        self.key = key
        self.reason = reason

    def fields(self) -> dict[str, object]:
        return {"key": self.key, "reason": self.reason}


class PromoRedeemed(Conflict):
    """The account has redeemed this code already: a code grants once per account."""

    code = "promo_redeemed"
    title = "Promo code redeemed already"

    def __init__(self, *, key: str) -> None:
        super().__init__(f"promo code {key!r} was redeemed by this account already")
        self.key = key

    def fields(self) -> dict[str, object]:
        return {"key": self.key}


class ReferralExists(Conflict):
    """The account was referred already: an account is referred once, by one referrer."""

    code = "referral_exists"
    title = "Referral exists"

    def __init__(self, *, account_id: str) -> None:
        super().__init__(f"account {account_id!r} was referred already")
        self.account_id = account_id

    def fields(self) -> dict[str, object]:
        return {"account_id": self.account_id}


class ReferralsOff(Conflict):
    """The catalog offers no referral bonus (it has no `[referrals]`): nothing to record."""

    code = "referrals_off"
    title = "Referrals are off"

    def __init__(self) -> None:
        super().__init__("the catalog offers no referral bonus: set [referrals] first")


class GuestLinked(Conflict):
    """The guest session was already linked to another account when its guest signed up."""

    code = "guest_linked"
    title = "Guest session already linked"

    def __init__(self, *, session_id: str) -> None:
        super().__init__(f"guest session {session_id!r} is linked to another account")
        self.session_id = session_id

    def fields(self) -> dict[str, object]:
        return {"session_id": self.session_id}


class HoldNotPending(Conflict):
    """The hold has already ended: it was settled, released or expired."""

    code = "hold_not_pending"
    title = "Hold already ended"

    def __init__(self, *, hold_id: int, hold_status: str) -> None:
        super().__init__(f"hold {hold_id} is {hold_status}, not pending")
        self.hold_id = hold_id
        # Not `status`: in a problem body that member is the HTTP status.
        self.hold_status = hold_status

    def fields(self) -> dict[str, object]:
        return {"hold_id": self.hold_id, "hold_status": self.hold_status}


class InsufficientCredits(CreditgateError):
    """The account cannot cover the amount; nothing was taken."""

    code = "insufficient_credits"
    title = "Insufficient credits"

    def __init__(self, *, required: "Credits", available: "Credits") -> None:
        self.required = required
        self.available = available
        self.shortfall = required - available
        super().__init__(
            f"{required} credits required, {available} available ({self.shortfall} short)"
        )

    def fields(self) -> dict[str, object]:
        return {
            "required": str(self.required),
            "available": str(self.available),
            "shortfall": str(self.shortfall),
        }


class MemberCapExceeded(InsufficientCredits):
    """The member's spending cap on the organization's wallet would be passed."""

    code = "member_cap_exceeded"
    title = "Member spending cap reached"


class RateLimited(CreditgateError):
    """Too many calls too fast: wait `retry_after_s` seconds, then try again."""

    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, *, limit_per_s: float, retry_after_s: int) -> None:
        super().__init__(f"more than {limit_per_s:g} calls per second; retry in {retry_after_s} s")
        self.limit_per_s = limit_per_s
        self.retry_after_s = retry_after_s

    def fields(self) -> dict[str, object]:
        return {"limit_per_s": self.limit_per_s, "retry_after_s": self.retry_after_s}


class GuestQuotaExceeded(CreditgateError):
    """A guest used up a quota's window: wait `retry_after_s` seconds (until `reset_at`)."""

    code = "guest_quota_exceeded"
    title = "Guest quota reached"

    def __init__(self, *, limit: int, retry_after_s: int, reset_at: datetime) -> None:
        super().__init__(
            f"the guest quota of {limit} uses is spent; it resets in {retry_after_s} s"
        )
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.reset_at = reset_at

    def fields(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "retry_after_s": self.retry_after_s,
            "reset_at": self.reset_at,
        }


class Unauthenticated(CreditgateError):
    """The call carries no API key, or one that is malformed, unknown or revoked."""

    code = "unauthenticated"
    title = "Unauthenticated"


class TokenExpired(Unauthenticated):
    """A widget token that was valid has expired: the page should mint a new one.

    Told apart from a forged token so that the service does not count it as a failed
    attempt, and so that a widget knows to ask its page for a fresh token.
    """

    code = "token_expired"
    title = "Token expired"


class Forbidden(CreditgateError):
    """The operation is not allowed for this account."""

    code = "forbidden"
    title = "Forbidden"


class AccountFrozen(Forbidden):
    """The account is frozen: it may receive credits but not spend them."""

    code = "account_frozen"
    title = "Account frozen"

    def __init__(self, *, account_id: str) -> None:
        super().__init__(f"account {account_id!r} is frozen")
        self.account_id = account_id

    def fields(self) -> dict[str, object]:
        return {"account_id": self.account_id}


class GuestsNotAllowed(Forbidden):
    """No guest quota covers the feature: guests may not use it."""

    code = "guests_not_allowed"
    title = "Guests not allowed"

    def __init__(self, *, feature: str | None) -> None:
        shown = "features" if feature is None else f"feature {feature!r}"
        super().__init__(f"no guest quota covers {shown}: sign up to use it")
        self.feature = feature

    def fields(self) -> dict[str, object]:
        return {"feature": self.feature}


class SignatureInvalid(CreditgateError):
    """A webhook delivery's signature is missing, malformed, wrong or outside its window."""

    code = "signature_invalid"
    title = "Signature invalid"

    def __init__(self, *, provider: str, reason: str) -> None:
        super().__init__(f"{provider} signature refused: {reason}")
        self.provider = provider
        self.reason = reason

    def fields(self) -> dict[str, object]:
        return {"provider": self.provider, "reason": self.reason}


class ProviderFailed(CreditgateError):
    """A payment provider refused or failed a call we made (nothing was recorded)."""

    code = "provider_failed"
    title = "Payment provider failed"

    def __init__(self, *, provider: str, reason: str) -> None:
        super().__init__(f"{provider} failed: {reason}")
        self.provider = provider
        self.reason = reason

    def fields(self) -> dict[str, object]:
        return {"provider": self.provider, "reason": self.reason}


class Unavailable(CreditgateError):
    """Something this call needs is not configured or not reachable: try again later."""

    code = "unavailable"
    title = "Unavailable"

    def __init__(self, *, service: str, reason: str) -> None:
        super().__init__(f"{service} is unavailable: {reason}")
        self.service = service
        self.reason = reason

    def fields(self) -> dict[str, object]:
        return {"service": self.service, "reason": self.reason}
